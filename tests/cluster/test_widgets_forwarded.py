"""Shared widgets in a cluster: an editor's widget change asked of a hub that does not own the
session goes to the owner's kernel (forwarded like the other kernel endpoints)."""

from __future__ import annotations

from typing import Any

import pytest

from collabd import widgetstate
from collabd.client import NotebookClient
from tests.cluster.conftest import Cluster

pytestmark = [pytest.mark.kernel, pytest.mark.slow, pytest.mark.timeout(300)]
WAIT = 60.0


def slider_of(c: NotebookClient, cell: str) -> str | None:
    for output in c.outputs(cell):
        view = (output.get("data") or {}).get(widgetstate.MIME_VIEW)
        if view and view["model_id"] in widgetstate.entries(c.doc):
            return str(view["model_id"])
    return None


def value(c: NotebookClient, model_id: str) -> Any:
    return widgetstate.entries(c.doc)[model_id]["state"].get("value")


async def test_a_widget_change_on_another_hub_reaches_the_owners_kernel(
    cluster_factory: Any,
) -> None:
    cluster: Cluster = cluster_factory(2)
    session = cluster.hubs[0].create_session("widgets.ipynb")
    sid = session["id"]
    ann = NotebookClient(cluster.hubs[0].base, sid, session["edit_token"], name="ann")
    async with ann:
        cell = ann.insert_cell(0, "import ipywidgets as w\ns = w.IntSlider(value=1)\ns")
        await ann.run(cell)
        model_id: str = await ann.wait_for(lambda: slider_of(ann, cell), WAIT)
        owner = cluster.owner_of(sid)
        asker = cluster.hubs[1 - owner]
        path = f"/api/sessions/{sid}/widgets/{model_id}"
        status, body = asker.api("POST", path, {"state": {"value": 5}}, session["edit_token"])
        assert (status, body) == (202, {"ok": True})
        await ann.wait_for(lambda: value(ann, model_id) == 5, WAIT)
        status, _ = asker.api("POST", path, {"state": {"value": 6}}, session["view_token"])
        assert status == 403
        check = ann.insert_cell(1, "print(s.value)")
        await ann.run(check)
        await ann.wait_for(lambda: ann.output_text(check) == "5\n", WAIT)
