"""When the hub builds its rooms' seek indexes (`collabd.recording.seekindex`).

A room asks for its index to be carried on when someone opens its recording, when it is
unloaded (a finished session) and, while the worker runs anyway (someone reads recordings), when
it stores a snapshot (every few thousand updates): a live session nobody replays costs nothing
more while it runs. The work runs in the recording worker process (`Rebuilds`), a bounded step
(`seekindex.EXTEND_STEP` updates) at a time and one room after another, so a seek or a diff
someone waits for gets the worker between two steps. A store that cannot be opened in another
process (the memory store) is not indexed: building there would hold the hub's GIL, and seeks
still work from snapshots.
"""

from __future__ import annotations

import asyncio
import logging

from collabd.recording import seekindex
from collabd.recording.offload import Rebuilds
from collabd.store import Store

log = logging.getLogger("collabd.recording")


class Indexing:
    def __init__(self, store: Store, rebuilds: Rebuilds) -> None:
        self._store = store
        self._rebuilds = rebuilds
        self._wanted: dict[str, None] = {}  # rooms to index, in the order asked (a set)
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def request(self, room: str) -> None:
        """Carry on `room`'s index soon (nothing if it is already asked for)."""
        if self._closed or not self._rebuilds.in_process:
            return
        self._wanted[room] = None
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._work(), name="seek-index")

    @property
    def pending(self) -> list[str]:
        return list(self._wanted)

    async def _work(self) -> None:
        while self._wanted and not self._closed:
            room = next(iter(self._wanted))
            del self._wanted[room]
            try:
                more = await self._rebuilds.run(seekindex.extend, self._store, room)
            except Exception:
                # seeks fall back to snapshots; the next snapshot or open asks again
                log.exception("room %s: building its seek index failed", room)
                continue
            if more:
                self._wanted.setdefault(room, None)  # after the others asked meanwhile

    async def close(self) -> None:
        self._closed = True
        self._wanted.clear()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
