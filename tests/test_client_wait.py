"""The Python client's wait_for: a predicate about a cell this participant does not have yet
waits for it (a run asked on the websocket is answered before others may have the cell),
and still times out when it never comes. A real hub process, real websockets."""

from __future__ import annotations

import asyncio

import pytest

from collabd.client import NotebookClient
from tests.support.hubproc import HubProcess


async def test_waiting_on_a_cell_that_is_not_here_yet_waits_for_it(hub: HubProcess) -> None:
    s = hub.create_session("wait.ipynb")
    async with (
        NotebookClient.from_link(s["edit_url"], name="ann") as ann,
        NotebookClient.from_link(s["edit_url"], name="bob") as bob,
    ):
        cell_id = "cell-typed-later"
        waiting = asyncio.create_task(bob.wait_for(lambda: bob.source(cell_id) == "x = 1", 30))
        await asyncio.sleep(0.3)  # bob has looked, and found no such cell, several times
        assert not waiting.done()
        ycell = ann.notebook.create_ycell({"id": cell_id, "cell_type": "code", "source": "x = 1"})
        ann.notebook.ycells.append(ycell)
        assert await waiting is True
        with pytest.raises(TimeoutError):
            await bob.wait_for(lambda: bob.source("never-made"), 0.5)
