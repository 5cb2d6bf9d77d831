"""The embedded default store: one SQLite file in the data directory.

WAL mode with synchronous=NORMAL: a committed append survives the hub being killed (only a power
loss may take the last transactions), which is the guarantee the hub gives its clients.

Appends on the hub's event loop (`append_now`): in WAL mode a commit is a write into the page
cache; only checkpoints sync the disk. So an inline append runs only when no other thread holds
the connection, never waits for another process's write (it leaves the append to the I/O
thread instead), never checkpoints (the I/O thread's appends do: one in every `INLINE_RUN` goes
there), and once one takes longer than `INLINE_SLOW_S` (a disk that cannot keep up), the hub's
appends all go through its I/O thread for `INLINE_PAUSE_S`.

The store that holds the data directory's pending-appends file (`journal`: the hub's) does
better on the loop: `append_now` writes the entries there, numbered, in one `write`, and its
mover thread puts them into the log table `MOVE_AFTER_S` later, a batch per transaction. Every
other call on this store moves what is pending first, so it reads what was appended; a reader in
another process sees the log up to `MOVE_AFTER_S` behind, unless `persist` was called (the
recording reader's process: `collabd.recording.offload`). The sequence numbers it hands out are
reserved in `sqlite_sequence`, so another process's appends never take one of them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import os
import sqlite3
import stat
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from . import codec, journal
from .base import (
    UPDATE,
    EntryInfo,
    GrantRecord,
    LinkRecord,
    LogEntry,
    NewEntry,
    SeekBlock,
    SessionRecord,
    Snapshot,
    Store,
    generation_column,
    token_column,
)

log = logging.getLogger("collabd.store")

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    edit_token TEXT NOT NULL,
    view_token TEXT NOT NULL,
    created REAL NOT NULL,
    edit_gen INTEGER NOT NULL DEFAULT 0,
    view_gen INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    room TEXT NOT NULL,
    ts REAL NOT NULL,
    kind TEXT NOT NULL,
    origin TEXT NOT NULL,
    data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS log_room_seq ON log (room, seq);
CREATE INDEX IF NOT EXISTS log_room_ts ON log (room, ts);
CREATE TABLE IF NOT EXISTS log_moved (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    seq INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS snapshots (
    room TEXT NOT NULL,
    seq INTEGER NOT NULL,
    ts REAL NOT NULL,
    state BLOB NOT NULL,
    codec INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (room, seq)
);
CREATE TABLE IF NOT EXISTS seek_index (
    room TEXT NOT NULL,
    seq INTEGER NOT NULL,
    ts REAL NOT NULL,
    end_seq INTEGER NOT NULL,
    end_ts REAL NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (room, seq)
);
CREATE TABLE IF NOT EXISTS links (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created REAL NOT NULL,
    expires REAL,
    revoked REAL,
    last_seen REAL,
    created_by TEXT
);
CREATE INDEX IF NOT EXISTS links_session ON links (session_id, created);
CREATE TABLE IF NOT EXISTS grants (
    session_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    created REAL NOT NULL,
    created_by TEXT,
    PRIMARY KEY (session_id, kind, name)
);
CREATE INDEX IF NOT EXISTS grants_name ON grants (kind, name);
"""
# `codec` (how `state` is stored, `collabd.store.codec`) came after the first release: files
# made before it get the column, and their snapshots read as the raw updates they are.
_ADD_CODEC = "ALTER TABLE snapshots ADD COLUMN codec INTEGER NOT NULL DEFAULT 0"
# The anonymous links' generations (`SessionRecord`) came in 0.3: older files get the columns,
# and their sessions keep generation 0 (the tokens stored in them) until a link is replaced.
_ADD_GENERATIONS = (
    "ALTER TABLE sessions ADD COLUMN edit_gen INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE sessions ADD COLUMN view_gen INTEGER NOT NULL DEFAULT 0",
)
_SESSION_COLUMNS = (
    "SELECT id, path, edit_token, view_token, created, edit_gen, view_gen FROM sessions"
)
_SNAPSHOT_COLUMNS = "SELECT seq, ts, state, codec FROM snapshots"
_INSERT_SNAPSHOT = (
    "INSERT OR REPLACE INTO snapshots (room, seq, ts, state, codec) VALUES (?, ?, ?, ?, ?)"
)

# The seek index (`SeekBlock`) came later than the other tables: older files get it from SCHEMA
# (CREATE ... IF NOT EXISTS) when they are opened.
# `seek_block` walks the room's primary key from its newest seq back to the first block at or
# before the time (data last: a row's ts is read without its blob); a room has few blocks.
_SEEK_COLUMNS = "SELECT seq, ts, end_seq, end_ts, data FROM seek_index"
_INSERT_SEEK_BLOCK = (
    "INSERT OR REPLACE INTO seek_index (room, seq, ts, end_seq, end_ts, data)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)

_GRANT_COLUMNS = "SELECT session_id, kind, name, role, created, created_by FROM grants"
_LINK_COLUMNS = (
    "SELECT id, session_id, name, role, token_hash, created, expires, revoked, last_seen,"
    " created_by FROM links"
)


_INSERT = "INSERT INTO log (room, ts, kind, origin, data) VALUES (?, ?, ?, ?, ?)"
# a batch of up to this many entries is one multi-row INSERT: one statement, committed on its own
# (a run's outputs and its event, a busy room's flush) instead of BEGIN, the rows, COMMIT
MULTI_ROW_MAX = 64
INLINE_RUN = 200  # inline appends (a few WAL pages each) before one goes by the I/O thread
INLINE_SLOW_S = 0.01
INLINE_PAUSE_S = 30.0
# the pending-appends file: its mover's delay (a batch per transaction), the sequence numbers
# reserved at a time, and the size past which appends wait for a move that empties it
MOVE_AFTER_S = 0.1
RESERVE = 100_000
JOURNAL_MAX = 8 << 20
_INSERT_SEQ = "INSERT INTO log (seq, room, ts, kind, origin, data) VALUES (?, ?, ?, ?, ?, ?)"
_MOVED = "INSERT OR REPLACE INTO log_moved (id, seq) VALUES (0, ?)"


class SQLiteStore(Store):
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        _private_dir(self.path.parent)
        # The file holds every session's tokens: it is created 0600 before SQLite opens it, and
        # SQLite gives the -wal and -shm files it creates the database file's permissions.
        os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
        self.path.chmod(0o600)
        self._lock = threading.Lock()
        self._inline_left = 0  # appends `append_now` may make before one by `append`
        self._inline_paused_until = 0.0
        self._inline_mode = False  # the connection's pragmas as `append_now` leaves them
        # room in the statement cache for every multi-row INSERT's size besides the queries
        self._db = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, cached_statements=256
        )
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._autocheckpoint = int(self._db.execute("PRAGMA wal_autocheckpoint").fetchone()[0])
            self._busy_timeout = int(self._db.execute("PRAGMA busy_timeout").fetchone()[0])
            self._db.executescript(SCHEMA)
            columns = [row[1] for row in self._db.execute("PRAGMA table_info(snapshots)")]
            if "codec" not in columns:
                self._db.execute(_ADD_CODEC)
            columns = [row[1] for row in self._db.execute("PRAGMA table_info(sessions)")]
            if "edit_gen" not in columns:
                for statement in _ADD_GENERATIONS:
                    self._db.execute(statement)
        except BaseException:
            self._db.close()
            raise
        for extra in ("-wal", "-shm"):  # made by an older version, before the file was 0600
            sidecar = self.path.with_name(self.path.name + extra)
            if sidecar.exists():
                sidecar.chmod(0o600)
        # the pending appends (see the module's text): the file, the entries written there and
        # not yet moved as (first seq, room, entries), the next seq and the last one reserved
        self._jlock = threading.Lock()
        self._pending: list[tuple[int, str, Sequence[NewEntry]]] = []
        self._next_seq = 0
        self._reserved = 0
        self._move_wanted = threading.Event()
        self._parked = True  # the mover (none yet) waits for `_move_wanted`
        self._mover: threading.Thread | None = None
        self._stopping = threading.Event()  # set by `close`
        self._journal = journal.Journal.claim(self.path.with_name(self.path.name + "-pending"))
        if self._journal is not None:
            try:
                self._recover()
            except BaseException:
                self._journal.close(remove=False)
                self._db.close()
                raise

    def close(self) -> None:
        self._stopping.set()
        if self._mover is not None:
            self._move_wanted.set()
            self._mover.join()
        with self._locked():
            if self._journal is not None:
                with self._jlock:
                    self._release_reserve()
                    self._journal.close(remove=True)
                    self._journal = None
            self._db.close()

    def reopener(self) -> Callable[[], Store]:
        return functools.partial(SQLiteStore, self.path)

    def add_session(self, record: SessionRecord) -> None:
        with self._locked():
            self._db.execute(
                "INSERT INTO sessions"
                " (id, path, edit_token, view_token, created, edit_gen, view_gen)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    record.id,
                    record.path,
                    record.edit_token,
                    record.view_token,
                    record.created,
                    record.edit_gen,
                    record.view_gen,
                ),
            )

    def get_session(self, session_id: str) -> SessionRecord | None:
        return self._one_session(_SESSION_COLUMNS + " WHERE id = ?", session_id)

    def session_for_path(self, path: str) -> SessionRecord | None:
        return self._one_session(_SESSION_COLUMNS + " WHERE path = ?", path)

    def sessions(self) -> list[SessionRecord]:
        with self._locked():
            rows = self._db.execute(_SESSION_COLUMNS + " ORDER BY created").fetchall()
        return [SessionRecord(*row) for row in rows]

    def _one_session(self, query: str, arg: str) -> SessionRecord | None:
        with self._locked():
            row = self._db.execute(query, (arg,)).fetchone()
        return SessionRecord(*row) if row else None

    def append(self, room: str, entries: Sequence[NewEntry], *, fence: int | None = None) -> int:
        if self._journal is not None and entries:
            with self._locked(), self._jlock:  # `_locked` moved what was pending
                return self._append_numbered(room, entries)
        with self._locked():
            seq = self._append(room, entries)  # its commit checkpoints the WAL when due
        self._inline_left = INLINE_RUN
        return seq

    def append_now(
        self, room: str, entries: Sequence[NewEntry], *, fence: int | None = None
    ) -> int | None:
        if self._journal is not None:
            return self._append_pending(room, entries)
        if self._inline_left <= 0 or time.monotonic() < self._inline_paused_until:
            return None
        if not self._lock.acquire(blocking=False):  # a read or a write on another thread
            return None
        try:
            started = time.perf_counter()
            if not self._inline_mode:  # left so for the appends that follow
                self._set_inline_mode(True)
            try:
                seq = self._append(room, entries)
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY:
                    raise
                return None  # nothing was written: the I/O thread's append waits its turn
            took = time.perf_counter() - started
        finally:
            self._lock.release()
        self._inline_left -= 1
        if took > INLINE_SLOW_S:
            self._inline_paused_until = time.monotonic() + INLINE_PAUSE_S
            log.info("an append took %.0f ms: appending on the I/O thread for a while", took * 1e3)
        return seq

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """The connection for any other call (the I/O thread's, a reader's): with SQLite's busy
        timeout and its checkpoints, as inline appends may have left them off."""
        with self._lock:
            if self._inline_mode:
                self._set_inline_mode(False)
            if self._pending or (self._journal is not None and self._journal.size):
                with self._jlock:
                    self._move_pending()
            yield

    # the pending appends

    def persist(self) -> None:
        with self._locked():
            pass

    def unpersisted(self) -> bool:
        return bool(self._pending)

    def _append_pending(self, room: str, entries: Sequence[NewEntry]) -> int | None:
        """Write `entries` to the pending file, numbered; None when that must wait (a move that
        holds the file, no reserved numbers left, a file that is due to be emptied)."""
        if not entries or not self._jlock.acquire(blocking=False):
            return None
        try:
            assert self._journal is not None
            first, n = self._next_seq, len(entries)
            if first + n - 1 > self._reserved or self._journal.size > JOURNAL_MAX:
                return None
            self._journal.write(journal.encode(first, room, entries))
            self._next_seq = first + n
            wake, self._parked = self._parked, False
            self._pending.append((first, room, entries))
        finally:
            self._jlock.release()
        if wake:
            self._want_move()
        return first + n - 1

    def _want_move(self) -> None:
        if self._mover is None and not self._stopping.is_set():
            self._mover = threading.Thread(
                target=self._move_forever, name="collabd-store-mover", daemon=True
            )
            self._mover.start()
        self._move_wanted.set()

    def _move_forever(self) -> None:
        """The mover: every `MOVE_AFTER_S` while appends come, the pending ones into the log; it
        parks when a turn finds none, and the next append wakes it (the only one that pays
        for a wake-up). The file stays locked for appends only while it is emptied, when no
        append came meanwhile or it grew past half `JOURNAL_MAX`."""
        while not self._stopping.is_set():
            self._move_wanted.wait()
            self._stopping.wait(MOVE_AFTER_S)
            try:
                with self._lock:  # never in inline mode: this store's appends go to the file
                    self._move_soon()
            except Exception as exc:  # the entries stay pending, and in the file
                if not self._stopping.is_set():
                    log.warning("moving appends into the log failed (%s); retrying", exc)
                    self._stopping.wait(1.0)

    def _move_soon(self) -> None:
        assert self._journal is not None
        if self._journal.size > JOURNAL_MAX // 2:
            with self._jlock:
                self._move_pending()
            return
        with self._jlock:
            batch, self._pending = self._pending, []
            size = self._journal.size
            if not batch:  # a turn with none: park until the next append
                self._move_wanted.clear()
                self._parked = True
        try:
            self._insert_numbered(batch)
        except BaseException:
            with self._jlock:
                self._pending[:0] = batch
            raise
        with self._jlock:
            if self._journal.size == size:  # else the next move empties it
                self._journal.clear()
            self._top_up()

    def _move_pending(self) -> None:
        """Every pending entry into the log, and the file emptied (`_lock`, `_jlock` held)."""
        assert self._journal is not None
        batch, self._pending = self._pending, []
        try:
            self._insert_numbered(batch)
        except BaseException:
            self._pending[:0] = batch
            raise
        self._journal.clear()
        self._top_up()

    def _top_up(self) -> None:
        """More numbers reserved once half of them are used (`_lock`, `_jlock` held)."""
        if self._reserved - self._next_seq < RESERVE // 2:
            with self._transaction():
                self._reserve()

    def _insert_numbered(self, batch: Sequence[tuple[int, str, Sequence[NewEntry]]]) -> None:
        if not batch:
            return
        rows = [
            (first + i, room, e.ts, e.kind, e.origin, e.data)
            for first, room, entries in batch
            for i, e in enumerate(entries)
        ]
        with self._transaction():
            # multi-row statements, not executemany: each statement gives the GIL back once,
            # where executemany does for every row, and the hub's loop waits to take it again
            for at in range(0, len(rows), MULTI_ROW_MAX):
                part = rows[at : at + MULTI_ROW_MAX]
                values = [v for row in part for v in row]
                self._db.execute(_multi_row(_INSERT_SEQ, len(part)), values)
            self._db.execute(_MOVED, (rows[-1][0],))

    def _append_numbered(self, room: str, entries: Sequence[NewEntry]) -> int:
        """The I/O thread's append while this store holds the file: straight into the log,
        numbered as the pending ones are (`_lock`, `_jlock` held)."""
        self._move_pending()  # one that came after `_locked` moved them goes first
        first, n = self._next_seq, len(entries)
        if first + n - 1 > self._reserved:
            with self._transaction():
                self._reserve(n)
            first = self._next_seq
        self._insert_numbered([(first, room, entries)])
        self._next_seq = first + n
        return first + n - 1

    def _reserve(self, at_least: int = 0) -> None:
        """Reserve the next `RESERVE` numbers (or `at_least`) in `sqlite_sequence`, above any
        another process took meanwhile (in the caller's transaction)."""
        row = self._db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'log'").fetchone()
        taken = int(row[0]) if row else 0
        if taken > self._reserved and taken >= self._next_seq:  # others appended after ours
            self._next_seq = taken + 1
        self._reserved = self._next_seq + max(RESERVE, at_least) - 1
        if row is None:
            self._db.execute(
                "INSERT INTO sqlite_sequence (name, seq) VALUES ('log', ?)", (self._reserved,)
            )
        else:
            self._db.execute(
                "UPDATE sqlite_sequence SET seq = ? WHERE name = 'log'", (self._reserved,)
            )

    def _release_reserve(self) -> None:
        """At a clean close, the numbers not used go back (unless another process took some
        after them), so the log has no gap."""
        self._db.execute(
            "UPDATE sqlite_sequence SET seq = ? WHERE name = 'log' AND seq = ?",
            (self._next_seq - 1, self._reserved),
        )

    def _recover(self) -> None:
        """Move what a holder of the file that died left in it, then reserve numbers."""
        assert self._journal is not None
        records = self._journal.read()
        with self._lock, self._jlock:
            row = self._db.execute("SELECT seq FROM log_moved WHERE id = 0").fetchone()
            moved = int(row[0]) if row else 0
            todo = [r for r in records if r.seq > moved]
            self._insert_numbered([(r.seq, r.room, [r.entry]) for r in todo])
            if todo:
                log.warning(
                    "%s: %d appends the last hub wrote were not yet in the log: moved there",
                    self.path,
                    len(todo),
                )
            self._next_seq = max([moved, *(r.seq for r in records)]) + 1
            with self._transaction():
                self._reserve()
        self._journal.clear()

    def _set_inline_mode(self, inline: bool) -> None:
        """Inline: no checkpoint (it syncs the disk) and no wait for another process's write."""
        self._db.execute(f"PRAGMA wal_autocheckpoint={0 if inline else self._autocheckpoint}")
        self._db.execute(f"PRAGMA busy_timeout={0 if inline else self._busy_timeout}")
        self._inline_mode = inline

    def _append(self, room: str, entries: Sequence[NewEntry]) -> int:
        if 0 < len(entries) <= MULTI_ROW_MAX:  # most flushes: one statement, its own transaction
            cursor = self._db.execute(_multi_row(_INSERT, len(entries)), _flat(room, entries))
            assert cursor.lastrowid is not None
            return cursor.lastrowid  # the last row's: rows are inserted in order
        rows = [(room, e.ts, e.kind, e.origin, e.data) for e in entries]
        with self._transaction():
            self._db.executemany(_INSERT, rows)
            last = self._db.execute("SELECT last_insert_rowid()").fetchone()[0]
        return int(last)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """One transaction, rolled back on any error (the caller holds the lock)."""
        self._db.execute("BEGIN")
        try:
            yield
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def entries(
        self,
        room: str,
        *,
        after_seq: int = 0,
        kinds: Iterable[str] = (UPDATE,),
        until_ts: float | None = None,
        from_ts: float | None = None,
        limit: int | None = None,
    ) -> list[LogEntry]:
        kinds = list(kinds)
        query = (
            "SELECT seq, ts, kind, origin, data FROM log WHERE room = ? AND seq > ?"
            f" AND kind IN ({','.join('?' * len(kinds))})"
        )
        args: list[object] = [room, after_seq, *kinds]
        if until_ts is not None:
            query += " AND ts <= ?"
            args.append(until_ts)
        if from_ts is not None:
            query += " AND ts >= ?"
            args.append(from_ts)
        query += " ORDER BY seq"
        if limit is not None:
            query += " LIMIT ?"
            args.append(limit)
        with self._locked():
            rows = self._db.execute(query, args).fetchall()
        return [LogEntry(*row) for row in rows]

    def count(self, room: str, *, after_seq: int = 0, kinds: Iterable[str] = (UPDATE,)) -> int:
        kinds = list(kinds)
        query = (
            "SELECT count(*) FROM log WHERE room = ? AND seq > ?"
            f" AND kind IN ({','.join('?' * len(kinds))})"
        )
        with self._locked():
            return int(self._db.execute(query, [room, after_seq, *kinds]).fetchone()[0])

    def add_snapshot(self, room: str, snapshot: Snapshot, *, fence: int | None = None) -> int:
        how, stored = codec.pack(snapshot.state)  # outside the lock: it takes a while
        with self._locked():
            self._db.execute(_INSERT_SNAPSHOT, (room, snapshot.seq, snapshot.ts, stored, how))
        return len(stored)

    def latest_snapshot(self, room: str, *, until_ts: float | None = None) -> Snapshot | None:
        query = _SNAPSHOT_COLUMNS + " WHERE room = ?"
        args: list[object] = [room]
        if until_ts is not None:
            query += " AND ts <= ?"
            args.append(until_ts)
        with self._locked():
            row = self._db.execute(query + " ORDER BY seq DESC LIMIT 1", args).fetchone()
        return _snapshot(row)

    # recording: reading and retention

    def snapshot_before(self, room: str, *, seq: int) -> Snapshot | None:
        with self._locked():
            row = self._db.execute(
                _SNAPSHOT_COLUMNS + " WHERE room = ? AND seq <= ? ORDER BY seq DESC LIMIT 1",
                (room, seq),
            ).fetchone()
        return _snapshot(row)

    def snapshot_index(self, room: str) -> list[tuple[int, float]]:
        with self._locked():
            rows = self._db.execute(
                "SELECT seq, ts FROM snapshots WHERE room = ? ORDER BY seq", (room,)
            ).fetchall()
        return [(int(seq), float(ts)) for seq, ts in rows]

    def snapshot_sizes(self, room: str) -> list[tuple[int, int]]:
        with self._locked():
            rows = self._db.execute(
                "SELECT seq, length(state) FROM snapshots WHERE room = ? ORDER BY seq", (room,)
            ).fetchall()
        return [(int(seq), int(size)) for seq, size in rows]

    def entry_index(self, room: str, *, kinds: Iterable[str] = (UPDATE,)) -> list[EntryInfo]:
        kinds = list(kinds)
        query = (
            "SELECT seq, ts, kind, origin, length(data) FROM log WHERE room = ?"
            f" AND kind IN ({','.join('?' * len(kinds))}) ORDER BY seq"
        )
        with self._locked():
            rows = self._db.execute(query, [room, *kinds]).fetchall()
        return [EntryInfo(*row) for row in rows]

    def first_by_origin(self, room: str, *, kind: str) -> list[LogEntry]:
        query = (
            "SELECT seq, ts, kind, origin, data FROM log WHERE seq IN ("
            " SELECT min(seq) FROM log WHERE room = ? AND kind = ? GROUP BY origin)"
            " ORDER BY seq"
        )
        with self._locked():
            rows = self._db.execute(query, (room, kind)).fetchall()
        return [LogEntry(*row) for row in rows]

    def storage_bytes(self, room: str) -> int:
        with self._locked():
            log = self._db.execute(
                "SELECT coalesce(sum(length(data)), 0) FROM log WHERE room = ?", (room,)
            ).fetchone()[0]
            snaps = self._db.execute(
                "SELECT coalesce(sum(length(state)), 0) FROM snapshots WHERE room = ?", (room,)
            ).fetchone()[0]
        return int(log) + int(snaps)

    def trim(self, room: str, start: Snapshot) -> int:
        how, stored = codec.pack(start.state)
        with self._locked(), self._transaction():
            self._db.execute(_INSERT_SNAPSHOT, (room, start.seq, start.ts, stored, how))
            gone = self._db.execute(
                "DELETE FROM log WHERE room = ? AND seq <= ?", (room, start.seq)
            ).rowcount
            self._db.execute("DELETE FROM snapshots WHERE room = ? AND seq < ?", (room, start.seq))
            self._db.execute("DELETE FROM seek_index WHERE room = ? AND seq < ?", (room, start.seq))
        return int(gone)

    # the seek index

    def add_seek_block(self, room: str, block: SeekBlock) -> None:
        with self._locked():
            self._db.execute(
                _INSERT_SEEK_BLOCK,
                (room, block.seq, block.ts, block.end_seq, block.end_ts, block.data),
            )

    def seek_block(self, room: str, *, until_ts: float) -> SeekBlock | None:
        with self._locked():
            row = self._db.execute(
                _SEEK_COLUMNS + " WHERE room = ? AND ts <= ? ORDER BY seq DESC LIMIT 1",
                (room, until_ts),
            ).fetchone()
        return _seek_block(row)

    def seek_index_end(self, room: str) -> tuple[int, float] | None:
        with self._locked():
            row = self._db.execute(
                "SELECT end_seq, end_ts FROM seek_index WHERE room = ?"
                " ORDER BY end_seq DESC, seq DESC LIMIT 1",
                (room,),
            ).fetchone()
        return (int(row[0]), float(row[1])) if row else None

    def seek_index_bytes(self, room: str) -> int:
        with self._locked():
            total = self._db.execute(
                "SELECT coalesce(sum(length(data)), 0) FROM seek_index WHERE room = ?", (room,)
            ).fetchone()[0]
        return int(total)

    def drop_seek_index(self, room: str) -> int:
        with self._locked():
            gone = self._db.execute("DELETE FROM seek_index WHERE room = ?", (room,)).rowcount
        return int(gone)

    # links

    def add_link(self, link: LinkRecord) -> None:
        with self._locked():
            self._db.execute(
                "INSERT INTO links (id, session_id, name, role, token_hash, created, expires,"
                " revoked, last_seen, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                dataclasses.astuple(link),  # the columns in the record's order
            )

    def links(self, session_id: str) -> list[LinkRecord]:
        with self._locked():
            rows = self._db.execute(
                _LINK_COLUMNS + " WHERE session_id = ? ORDER BY created, id", (session_id,)
            ).fetchall()
        return [LinkRecord(*row) for row in rows]

    def link_by_hash(self, session_id: str, token_hash: str) -> LinkRecord | None:
        with self._locked():
            row = self._db.execute(
                _LINK_COLUMNS + " WHERE session_id = ? AND token_hash = ?",
                (session_id, token_hash),
            ).fetchone()
        return LinkRecord(*row) if row else None

    def revoke_link(self, session_id: str, link_id: str, ts: float) -> LinkRecord | None:
        with self._locked():
            self._db.execute(
                "UPDATE links SET revoked = ? WHERE session_id = ? AND id = ? AND revoked IS NULL",
                (ts, session_id, link_id),
            )
            row = self._db.execute(
                _LINK_COLUMNS + " WHERE session_id = ? AND id = ?", (session_id, link_id)
            ).fetchone()
        return LinkRecord(*row) if row else None

    def touch_link(self, session_id: str, link_id: str, ts: float) -> None:
        with self._locked():
            self._db.execute(
                "UPDATE links SET last_seen = ? WHERE session_id = ? AND id = ?",
                (ts, session_id, link_id),
            )

    # grants

    def put_grant(self, grant: GrantRecord) -> None:
        with self._locked():
            self._db.execute(
                "INSERT OR REPLACE INTO grants (session_id, kind, name, role, created, created_by)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    grant.session_id,
                    grant.kind,
                    grant.name,
                    grant.role,
                    grant.created,
                    grant.created_by,
                ),
            )

    def grants(self, session_id: str) -> list[GrantRecord]:
        with self._locked():
            rows = self._db.execute(
                _GRANT_COLUMNS + " WHERE session_id = ? ORDER BY created, kind, name",
                (session_id,),
            ).fetchall()
        return [GrantRecord(*row) for row in rows]

    def grants_for(self, user: str, groups: Sequence[str] = ()) -> list[GrantRecord]:
        groups = list(groups)
        marks = ", ".join("?" for _ in groups) or "NULL"
        with self._locked():
            rows = self._db.execute(
                _GRANT_COLUMNS + " WHERE (kind = 'user' AND name = ?)"
                f" OR (kind = 'group' AND name IN ({marks}))"
                " ORDER BY created, session_id, kind, name",
                (user, *groups),
            ).fetchall()
        return [GrantRecord(*row) for row in rows]

    def remove_grant(self, session_id: str, kind: str, name: str) -> bool:
        with self._locked():
            gone = self._db.execute(
                "DELETE FROM grants WHERE session_id = ? AND kind = ? AND name = ?",
                (session_id, kind, name),
            ).rowcount
        return bool(gone)

    def next_generation(self, session_id: str, role: str) -> SessionRecord | None:
        # two of four fixed names, never the caller's text
        token, generation = token_column(role), generation_column(role)
        with self._locked():
            self._db.execute("PRAGMA secure_delete = ON")  # a token from before 0.3 is zeroed
            self._db.execute(
                f"UPDATE sessions SET {token} = '', {generation} = {generation} + 1 WHERE id = ?",
                (session_id,),
            )
            row = self._db.execute(_SESSION_COLUMNS + " WHERE id = ?", (session_id,)).fetchone()
        return SessionRecord(*row) if row else None

    def delete_session(self, session_id: str) -> bool:
        with self._locked():  # the pending file emptied, as the WAL is below
            # Deleted pages are zeroed, and the WAL is emptied after, so the history (and the
            # session's tokens) do not linger in the file's free pages.
            self._db.execute("PRAGMA secure_delete = ON")
            try:
                with self._transaction():
                    found = self._db.execute(
                        "DELETE FROM sessions WHERE id = ?", (session_id,)
                    ).rowcount
                    self._db.execute("DELETE FROM log WHERE room = ?", (session_id,))
                    self._db.execute("DELETE FROM snapshots WHERE room = ?", (session_id,))
                    self._db.execute("DELETE FROM seek_index WHERE room = ?", (session_id,))
                    self._db.execute("DELETE FROM links WHERE session_id = ?", (session_id,))
                    self._db.execute("DELETE FROM grants WHERE session_id = ?", (session_id,))
            finally:
                self._db.execute("PRAGMA secure_delete = OFF")
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return bool(found)


@functools.lru_cache(maxsize=2 * MULTI_ROW_MAX)
def _multi_row(insert: str, n: int) -> str:
    """`insert` (one row's `INSERT … VALUES (?, …)`) for `n` rows in one statement."""
    row = insert[insert.index(" VALUES ") + len(" VALUES ") :]
    return insert + f", {row}" * (n - 1)


def _flat(room: str, entries: Sequence[NewEntry]) -> list[object]:
    values: list[object] = []
    for e in entries:
        values += (room, e.ts, e.kind, e.origin, e.data)
    return values


def _snapshot(row: tuple[int, float, bytes, int] | None) -> Snapshot | None:
    if row is None:
        return None
    seq, ts, stored, how = row
    return Snapshot(seq, ts, codec.unpack(how, stored), len(stored))


def _seek_block(row: tuple[int, float, int, float, bytes] | None) -> SeekBlock | None:
    if row is None:
        return None
    seq, ts, end_seq, end_ts, data = row
    return SeekBlock(int(seq), float(ts), int(end_seq), float(end_ts), bytes(data))


def _private_dir(folder: Path) -> None:
    """Create the data folder 0700; an existing one is left as it is (it may be shared on
    purpose) but a warning says that others can list it."""
    if not folder.exists():
        folder.parent.mkdir(parents=True, exist_ok=True)
        folder.mkdir(mode=0o700, exist_ok=True)
        folder.chmod(0o700)  # mkdir's mode goes through the umask
        return
    if stat.S_IMODE(folder.stat().st_mode) & 0o077:
        log.warning("data folder %s is readable by other users (chmod 700 it)", folder)
