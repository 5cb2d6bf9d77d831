"""Runs asked for on the websocket that carries the participant's edits (a real hub and kernel).

The request travels after the edits made before it, so what runs is what was just typed, with
no round trip first to make sure the hub has it; the answer is the one HTTP gives.
"""

from __future__ import annotations

import pytest

from collabd.client import ClientError, NotebookClient
from tests.support.hubproc import HubProcess
from tests.support.kernel import WAIT, last_run, wait_finished

pytestmark = pytest.mark.kernel


async def test_what_was_just_typed_runs_without_waiting_for_the_hub(khub: HubProcess) -> None:
    s = khub.create_session("typed.ipynb")
    async with (
        NotebookClient.from_link(s["edit_url"], name="ann") as ann,
        NotebookClient.from_link(s["view_url"], name="viv") as viv,
    ):
        cell = ann.insert_cell(0, "print('typed', 6 * 7)")
        answer = await ann.run(cell)  # the cell is not known to be at the hub yet
        assert isinstance(answer["request_id"], str) and answer["request_id"]
        await wait_finished(viv, cell)
        assert viv.output_text(cell) == "typed 42\n"
        run = last_run(viv, cell)
        assert run and run["by"]["name"] == "ann" and int(run["by"]["client_id"]) == ann.client_id
        runs = await ann.request("GET", "/runs")
        assert [r["by"]["name"] for r in runs if r.get("request_id") == answer["request_id"]]

        ann.set_source(cell, "print('edited, then run at once')")
        await ann.run(cell)
        await viv.wait_for(lambda: viv.output_text(cell) == "edited, then run at once\n", WAIT)

        # a batch, and the HTTP path beside it: the same answers
        other = ann.insert_cell(1, "print('second')")
        batch = await ann.run(cell, other)
        assert len(batch["request_ids"]) == 2 and batch["batch_id"]
        await wait_finished(viv, other)
        assert viv.output_text(other) == "second\n"
        by_http = await ann.run(other, over="http")
        assert by_http["request_id"] not in batch["request_ids"]


async def test_a_viewer_is_refused_and_stays_connected(khub: HubProcess) -> None:
    s = khub.create_session("viewer.ipynb")
    async with (
        NotebookClient.from_link(s["edit_url"], name="ann") as ann,
        NotebookClient.from_link(s["view_url"], name="viv") as viv,
    ):
        cell = ann.insert_cell(0, "print('not by a viewer')")
        await viv.wait_for(lambda: cell in viv.cell_ids(), WAIT)
        with pytest.raises(ClientError) as refused:
            await viv.run(cell)
        assert (refused.value.status, refused.value.error) == (403, "forbidden")
        with pytest.raises(ClientError) as missing:
            await ann.run("no-such-cell")
        assert (missing.value.status, missing.value.error) == (404, "unknown_cell")
        assert viv.connected and ann.connected
        assert viv.state().get("queue", []) == [] and viv.cell(cell)["outputs"] == []
