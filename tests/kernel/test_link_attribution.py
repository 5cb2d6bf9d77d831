"""Who ran a cell, with a named link: the link's name on the queue, the cell's last run and the
run history, whatever name the client claims (a real hub process and a real ipykernel)."""

from __future__ import annotations

import pytest

from collabd.client import NotebookClient
from tests.support.hubproc import HubProcess
from tests.support.kernel import new_cells, wait_finished

pytestmark = pytest.mark.kernel


async def test_a_run_with_a_named_link_carries_the_links_name(khub: HubProcess) -> None:
    s = khub.create_session("attributed.ipynb")
    status, ada = khub.api(
        "POST", f"/api/sessions/{s['id']}/links", {"name": "Ada", "role": "edit"}
    )
    assert status == 201, ada
    forger = NotebookClient.from_link(ada["url"], name="Grace Hopper")
    anonymous = NotebookClient.from_link(s["edit_url"], name="Grace Hopper")
    async with forger, anonymous:
        named_cell, anon_cell = await new_cells(forger, "print('named')", "print('anon')")
        await forger.run(named_cell)  # its `by` says "Grace Hopper"
        run = await wait_finished(forger, named_cell)
        assert run["status"] == "ok"
        assert run["by"]["name"] == "Ada" and run["by"]["verified"] is True
        assert run["by"]["link_id"] == ada["id"]
        assert run["by"]["client_id"] == forger.client_id
        # Someone with the anonymous edit link: the claimed name, marked unverified.
        await anonymous.run(anon_cell)
        anon_run = await wait_finished(anonymous, anon_cell)
        assert anon_run["by"]["name"] == "Grace Hopper" and anon_run["by"]["verified"] is False
        assert "link_id" not in anon_run["by"]
    status, history = khub.api("GET", f"/api/sessions/{s['id']}/runs", token=s["view_token"])
    assert status == 200, history
    names = {r["cell_id"]: r["by"]["name"] for r in history}
    assert names == {named_cell: "Ada", anon_cell: "Grace Hopper"}
    assert ada["token"] not in khub.log()
