"""The self-contained recording file: one session's recording in one SQLite database.

It has the tables of the hub's SQLite store (`sessions` with one row and no tokens, `log`,
`snapshots`) plus a `recording` table of key/value facts, so that `collabd replay` serves it with
the same code that reads a live store. The format is described in docs/recording-format.md.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from collabd import __version__
from collabd.recording.reader import ALL_KINDS
from collabd.store import SessionRecord, SQLiteStore, Store, codec
from collabd.store.base import UPDATE
from collabd.store.sqlite import SCHEMA

FORMAT = "collabd-recording"
# 2: snapshots carry `codec` (zstd); a version 1 file (raw snapshots, no column) still opens
VERSION = 2
_PAGE = 5000


class NotARecording(ValueError):
    """The file is not a collabd recording (or a version this collabd cannot read)."""


@dataclass(frozen=True, slots=True)
class Recording:
    """An opened recording file: a private working copy served through the store interface."""

    store: SQLiteStore
    session: SessionRecord
    facts: dict[str, str]
    workdir: Path

    def close(self) -> None:
        self.store.close()
        shutil.rmtree(self.workdir, ignore_errors=True)


# The recording's one session, without the store's link generations (a recording carries no
# credentials, nor what derives them): the table as every version of the format has it.
_SESSIONS = (
    "CREATE TABLE sessions (id TEXT PRIMARY KEY, path TEXT NOT NULL UNIQUE,"
    " edit_token TEXT NOT NULL, view_token TEXT NOT NULL, created REAL NOT NULL)"
)


def export(
    store: Store,
    record: SessionRecord,
    dest: Path,
    blank: Callable[[bytes], bytes] | None = None,
) -> dict[str, str]:
    """Write `record`'s recording to a new file at `dest`; returns the facts it was given.
    `blank` rewrites every document update and snapshot on the way (hidden chat texts)."""
    dest.unlink(missing_ok=True)
    db = sqlite3.connect(dest, isolation_level=None)
    try:
        db.execute(_SESSIONS)  # before the store's schema, which then leaves it as it is
        db.executescript(SCHEMA)
        db.execute("CREATE TABLE recording (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        db.execute("BEGIN")
        db.execute(
            "INSERT INTO sessions (id, path, edit_token, view_token, created)"
            " VALUES (?, ?, '', '', ?)",
            (record.id, record.path, record.created),
        )
        first, last = _copy_log(store, record.id, db, blank)
        snaps = store.snapshot_index(record.id)
        for seq, _ in snaps:
            snap = store.snapshot_before(record.id, seq=seq)
            assert snap is not None
            how, stored = codec.pack(blank(snap.state) if blank else snap.state)
            db.execute(
                "INSERT INTO snapshots (room, seq, ts, state, codec) VALUES (?, ?, ?, ?, ?)",
                (record.id, snap.seq, snap.ts, stored, how),
            )
        times = [t for t in (first, snaps[0][1] if snaps else None) if t is not None]
        facts = {
            "format": FORMAT,
            "version": str(VERSION),
            "session_id": record.id,
            "path": record.path,
            "created": repr(record.created),
            "start": repr(min(times)) if times else "",
            "end": repr(last) if last is not None else "",
            "exported_at": repr(time.time()),
            "exported_by": f"collabd {__version__}",
        }
        db.executemany("INSERT INTO recording VALUES (?, ?)", list(facts.items()))
        db.execute("COMMIT")
    finally:
        db.close()
    return facts


def _copy_log(
    store: Store, room: str, db: sqlite3.Connection, blank: Callable[[bytes], bytes] | None
) -> tuple[float | None, float | None]:
    after, first, last = 0, None, None
    while True:
        page = store.entries(room, after_seq=after, kinds=ALL_KINDS, limit=_PAGE)
        db.executemany(
            "INSERT INTO log (seq, room, ts, kind, origin, data) VALUES (?, ?, ?, ?, ?, ?)",
            [
                (
                    e.seq,
                    room,
                    e.ts,
                    e.kind,
                    e.origin,
                    blank(e.data) if blank and e.kind == UPDATE else e.data,
                )
                for e in page
            ],
        )
        if page:
            first = page[0].ts if first is None else first
            last, after = page[-1].ts, page[-1].seq
        if len(page) < _PAGE:
            return first, last


def facts_of(path: Path) -> dict[str, str]:
    """The `recording` table of a file; raises NotARecording for anything else."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = db.execute("SELECT key, value FROM recording").fetchall()
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise NotARecording(f"{path.name} is not a collabd recording: {exc}") from None
    facts = {str(k): str(v) for k, v in rows}
    if facts.get("format") != FORMAT:
        raise NotARecording(f"{path.name} is not a collabd recording")
    if int(facts.get("version", "0")) > VERSION:
        raise NotARecording(
            f"{path.name} is format version {facts['version']}; this reads {VERSION}"
        )
    return facts


def open_recording(path: Path) -> Recording:
    """Open a recording file for reading. It is copied first: the file itself is never written."""
    facts = facts_of(path)
    workdir = Path(tempfile.mkdtemp(prefix="collabd-replay-"))
    copy = workdir / "recording.sqlite3"
    shutil.copyfile(path, copy)
    store = SQLiteStore(copy)
    sessions = store.sessions()
    if len(sessions) != 1:
        store.close()
        shutil.rmtree(workdir, ignore_errors=True)
        raise NotARecording(f"{path.name} holds {len(sessions)} sessions, expected one")
    return Recording(store, sessions[0], facts, workdir)


def describe(facts: dict[str, str]) -> str:
    return json.dumps(facts, indent=1)
