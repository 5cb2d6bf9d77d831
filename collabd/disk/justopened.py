"""Notebook files just read for a new session, kept for the room load that follows.

Opening a notebook creates its session (`POST /api/sessions` reads and checks the file) and the
page then joins the room, whose first load is an import of that same file: reading and checking
it again cost ~30 ms per 1,000 cells of the cold open. The load takes what the creation read
when the file is unchanged since (same size, modification time and inode); otherwise it reads
the file afresh. Only the newest few are kept: a session created and never joined (or joined on
another hub of a cluster) leaves one entry until newer ones push it out.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path
from typing import NamedTuple

from collabd.disk.ipynb import Opened

KEEP = 8


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


class JustOpened:
    """Session id -> the file as its creation read it (touched from the event loop only)."""

    def __init__(self, keep: int = KEEP) -> None:
        self._keep = keep
        self._items: OrderedDict[str, tuple[Stamp, Opened]] = OrderedDict()

    def put(self, session_id: str, stamp: Stamp | None, opened: Opened) -> None:
        if stamp is None:
            return
        self._items[session_id] = (stamp, opened)
        while len(self._items) > self._keep:
            self._items.popitem(last=False)

    def take(self, session_id: str) -> tuple[Stamp, Opened] | None:
        """What was kept for the session (once: a later load reads the file)."""
        return self._items.pop(session_id, None)


def still(path: Path, kept: tuple[Stamp, Opened] | None) -> Opened | None:
    """The kept reading if the file is still what was read (run on the I/O thread)."""
    if kept is None:
        return None
    stamp, opened = kept
    return opened if stamp_of(path) == stamp else None
