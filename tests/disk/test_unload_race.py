"""Unloading a room right as an edit wakes its file loop still ends the loop: Python 3.11's
asyncio.wait_for swallowed such a cancel, and a SIGTERM just after an edit hung the hand-over."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from pycrdt import Doc

from collabd import notebook
from collabd.disk.disksync import DiskSync, _State
from collabd.settings import Settings
from collabd.store.memory import MemoryStore
from collabd.sync.liveroom import LiveRoom


async def test_an_unload_as_an_edit_wakes_the_file_loop_ends_it(tmp_path: Path) -> None:
    async def run_io(fn: Any, *args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    doc: Doc[Any] = Doc()
    notebook.load_into(doc, notebook.empty_notebook())
    settings = Settings(
        token="t", root=tmp_path, data=tmp_path, save_delay_s=60, watch_interval_s=60
    )
    live = LiveRoom("s", doc, store=MemoryStore(), settings=settings, run_io=run_io, last_seq=0)
    sync = DiskSync(lambda record: tmp_path / "nb.ipynb")
    for ticks in range(6):  # wherever the cancel lands in the loop's wake-up
        state = _State(tmp_path / "nb.ipynb", wake=asyncio.Event())
        state.task = asyncio.create_task(sync._run(live, state))
        await asyncio.sleep(0.01)  # the loop waits for its next wake-up
        sync._dirty(state)
        for _ in range(ticks):
            await asyncio.sleep(0)
        state.task.cancel()
        async with asyncio.timeout(5):
            await asyncio.gather(state.task, return_exceptions=True)
        assert state.task.cancelled(), ticks
