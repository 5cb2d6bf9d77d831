"""Notebook files just read for a new session, kept for the room load that follows.

Opening a notebook creates its session (`POST /api/sessions` reads and checks the file) and the
page then joins the room, whose first load is an import of that same file: reading and checking
it again cost ~30 ms per 1,000 cells of the cold open. The load takes what the creation read
when the file is unchanged since (same size, modification time and inode); otherwise it reads
the file afresh. With the reading, the creation may keep the import itself, made in a thread
while the page loads (`ipynb.import_update`): the load then applies one update (~2.5 ms per
1,000 cells) instead of building the document on the event loop (~25 ms).

A reading is kept for a minute at most, only the newest few, and none of a file over 32 MB: a
session created and never joined (or joined on another hub of a cluster) must not hold a large
notebook's parsed tree in memory.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import OrderedDict
from pathlib import Path
from typing import NamedTuple

from collabd.disk.ipynb import Opened

KEEP = 8
KEEP_S = 60.0
MAX_BYTES = 32 * 1024 * 1024


class Stamp(NamedTuple):
    mtime_ns: int
    size: int
    inode: int


def stamp_of(path: Path) -> Stamp | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return Stamp(st.st_mtime_ns, st.st_size, st.st_ino)


class Kept(NamedTuple):
    """A file as a session's creation read it, and its import if one is being made."""

    stamp: Stamp
    opened: Opened
    update: asyncio.Future[bytes] | None = None


class JustOpened:
    """Session id -> the file as its creation read it (touched from the event loop only)."""

    def __init__(self, keep: int = KEEP, keep_s: float = KEEP_S) -> None:
        self._keep, self._keep_s = keep, keep_s
        self._items: OrderedDict[str, tuple[float, Kept]] = OrderedDict()

    def put(
        self,
        session_id: str,
        stamp: Stamp | None,
        opened: Opened,
        update: asyncio.Future[bytes] | None = None,
    ) -> None:
        self._expire()
        if stamp is None or stamp.size > MAX_BYTES:
            return
        self._items[session_id] = (time.monotonic(), Kept(stamp, opened, update))
        while len(self._items) > self._keep:
            self._items.popitem(last=False)

    def take(self, session_id: str) -> Kept | None:
        """What was kept for the session (once: a later load reads the file)."""
        self._expire()
        found = self._items.pop(session_id, None)
        return found[1] if found is not None else None

    def __len__(self) -> int:
        return len(self._items)

    def _expire(self) -> None:
        oldest = time.monotonic() - self._keep_s
        while self._items and next(iter(self._items.values()))[0] < oldest:
            self._items.popitem(last=False)


def still(path: Path, kept: Kept | None) -> Opened | None:
    """The kept reading if the file is still what was read (run on the I/O thread)."""
    if kept is None:
        return None
    return kept.opened if stamp_of(path) == kept.stamp else None
