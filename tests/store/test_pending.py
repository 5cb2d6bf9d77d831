"""The hub's appends through the pending-appends file (`collabd.store.journal`): written there in
one `write`, numbered, moved into SQLite's log by the store's mover thread; what a killed hub
left is moved by the next store to open the file. Real SQLite files, real processes killed.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from collabd.store import NewEntry, SQLiteStore, journal
from collabd.store import sqlite as sqlite_store
from collabd.store.base import UPDATE, Snapshot

ROOM, OTHER = "r1", "r2"


def entry(i: int, size: int = 8) -> NewEntry:
    return NewEntry(1_700_000_000.0 + i, UPDATE, f"peer:{i % 3}", bytes([i % 256]) * size)


def pending_file(db: Path) -> Path:
    return db.with_name(db.name + "-pending")


def logged_elsewhere(db: Path) -> list[tuple[int, str, bytes]]:
    """The log as another process reads it: (seq, room, data), in seq order."""
    with sqlite3.connect(db) as other:
        rows = other.execute("SELECT seq, room, data FROM log ORDER BY seq").fetchall()
    return [(int(s), str(r), bytes(d)) for s, r, d in rows]


def wait_for(check: object, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "s.db"


@pytest.fixture
def store(db: Path) -> Iterator[SQLiteStore]:
    s = SQLiteStore(db)
    yield s
    s.close()


def test_records_read_back_whole_and_stop_at_one_cut_short() -> None:
    entries = [entry(1), NewEntry(2.5, "event", "kernel", b""), entry(3, size=70_000)]
    data = journal.encode(41, "rööm", entries)
    records = list(journal.decode(data))
    assert [(r.seq, r.room, r.entry) for r in records] == [
        (41, "rööm", entries[0]),
        (42, "rööm", entries[1]),
        (43, "rööm", entries[2]),
    ]
    assert [r.seq for r in journal.decode(data[:-1])] == [41, 42]  # the last cut short
    damaged = bytearray(data)
    damaged[len(journal.encode(41, "rööm", entries[:1])) + 20] ^= 0xFF  # in the second's body
    assert [r.seq for r in journal.decode(bytes(damaged))] == [41]
    assert list(journal.decode(b"")) == []


def test_a_write_that_fails_leaves_no_part_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = journal.Journal.claim(tmp_path / "j")
    assert held is not None
    held.write(journal.encode(1, ROOM, [entry(1)]))
    real_write = os.write
    calls = []

    def short_then_full(fd: int, data: bytes | memoryview) -> int:  # a disk that fills up
        calls.append(len(data))
        if len(calls) == 1:
            return real_write(fd, bytes(data)[:10])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", short_then_full)
    with pytest.raises(OSError, match="No space"):
        held.write(journal.encode(2, ROOM, [entry(2)]))
    monkeypatch.setattr(os, "write", real_write)
    held.write(journal.encode(3, ROOM, [entry(3)]))
    assert [r.seq for r in held.read()] == [1, 3]
    held.close(remove=True)


def test_appends_are_numbered_in_order_and_every_call_reads_them(store: SQLiteStore) -> None:
    seqs = [store.append_now(ROOM, [entry(1)]), store.append_now(OTHER, [entry(2), entry(3)])]
    seqs.append(store.append(ROOM, [entry(4)]))  # the I/O thread's path, after them
    seqs.append(store.append_now(ROOM, [entry(5)]))
    assert None not in seqs
    assert seqs == sorted(seqs)
    logged = store.entries(ROOM)  # read at once: the pending ones are moved first
    assert [e.data[0] for e in logged] == [1, 4, 5]
    assert [e.seq for e in logged] == [seqs[0], seqs[2], seqs[3]]
    assert [e.data[0] for e in store.entries(OTHER)] == [2, 3]
    assert store.entries(OTHER)[-1].seq == seqs[1]
    assert logged[0].origin == "peer:1" and logged[0].ts == entry(1).ts


def test_the_mover_puts_them_in_the_log_for_other_processes(store: SQLiteStore, db: Path) -> None:
    for i in range(20):
        assert store.append_now(ROOM, [entry(i)]) is not None
    assert store.unpersisted()
    wait_for(lambda: len(logged_elsewhere(db)) == 20, "the mover")
    assert [d[0] for _, _, d in logged_elsewhere(db)] == list(range(20))
    wait_for(lambda: pending_file(db).stat().st_size == 0, "the pending file emptied")
    assert not store.unpersisted()


def test_persist_makes_them_readable_elsewhere_at_once(
    store: SQLiteStore, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_store, "MOVE_AFTER_S", 60.0)  # the mover would wait a minute
    store.append_now(ROOM, [entry(1), entry(2)])
    assert logged_elsewhere(db) == []
    store.persist()
    assert [d[0] for _, _, d in logged_elsewhere(db)] == [1, 2]
    assert pending_file(db).stat().st_size == 0


HUB_THAT_DIES = textwrap.dedent(
    """
    import os, sys, time
    from collabd.store import NewEntry, SQLiteStore
    from collabd.store import sqlite as sqlite_store
    sqlite_store.MOVE_AFTER_S = 3600.0  # nothing moved before the kill
    store = SQLiteStore(sys.argv[1])
    store.append("r1", [NewEntry(1.0, "update", "peer:1", b"stored")])
    for i in range(50):
        assert store.append_now("r1", [NewEntry(2.0 + i, "update", "peer:1", bytes([i]))])
    print("appended", flush=True)
    time.sleep(3600)
    """
)


def test_what_a_killed_hub_left_pending_is_in_the_log_when_the_next_opens(db: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", HUB_THAT_DIES, str(db)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "appended"
        assert len(logged_elsewhere(db)) == 1  # only the direct append reached SQLite
        reader = SQLiteStore(db)
        try:
            assert reader._journal is None  # the hub, alive, holds the file
        finally:
            reader.close()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    store = SQLiteStore(db)
    try:
        logged = store.entries("r1")
        assert [e.data for e in logged] == [b"stored", *(bytes([i]) for i in range(50))]
        assert [e.seq for e in logged] == sorted(e.seq for e in logged)
        seq = store.append_now("r1", [entry(7)])
        assert seq is not None and seq > logged[-1].seq
    finally:
        store.close()


def test_records_already_moved_do_not_come_back(db: Path) -> None:
    """A hub killed after a move but before the file was emptied: what was moved, and then
    trimmed away, stays away; a record cut short at the end (a power loss) is not read."""
    store = SQLiteStore(db)
    store.append_now(ROOM, [entry(1), entry(2)])
    store.persist()
    copy = journal.encode(1, ROOM, [entry(1), entry(2)])
    store.trim(ROOM, Snapshot(store.entries(ROOM)[-1].seq, 2.0, b"\x00\x00"))
    assert store.entries(ROOM) == []
    last = store.append_now(ROOM, [entry(3)])
    assert last == 3
    store.close()
    # the file as a kill would leave it: the moved records, the new one, one cut short
    tail = journal.encode(last, ROOM, [entry(3)]) + journal.encode(last + 1, ROOM, [entry(4)])[:-3]
    pending_file(db).write_bytes(copy + tail)
    with sqlite3.connect(db) as raw:  # as before the close's move: entry 3 not yet in the log
        raw.execute("DELETE FROM log WHERE seq = ?", (last,))
        raw.execute("UPDATE log_moved SET seq = ?", (last - 1,))
    reopened = SQLiteStore(db)
    try:
        assert [(e.seq, e.data[0]) for e in reopened.entries(ROOM)] == [(last, 3)]
    finally:
        reopened.close()


def test_another_process_appending_meanwhile_takes_other_numbers(
    store: SQLiteStore, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_store, "MOVE_AFTER_S", 60.0)
    mine = [store.append_now(ROOM, [entry(i)]) for i in range(3)]
    other = SQLiteStore(db)  # cannot take the file: it appends to SQLite directly
    try:
        assert other._journal is None
        theirs = [other.append(OTHER, [entry(10 + i)]) for i in range(3)]
    finally:
        other.close()
    mine += [store.append_now(ROOM, [entry(3)]), store.append(ROOM, [entry(4)])]
    seqs = [s for s in mine if s is not None]
    assert len(seqs) == 5 and not set(seqs) & set(theirs)
    assert [e.data[0] for e in store.entries(ROOM)] == [0, 1, 2, 3, 4]
    assert [e.data[0] for e in store.entries(OTHER)] == [10, 11, 12]
    assert [e.seq for e in store.entries(ROOM)] == sorted(seqs)


def test_a_clean_close_leaves_no_file_and_no_gap(db: Path) -> None:
    store = SQLiteStore(db)
    first = store.append_now(ROOM, [entry(1)])
    store.close()
    assert not pending_file(db).exists()
    store = SQLiteStore(db)
    try:
        assert store.append_now(ROOM, [entry(2)]) == (first or 0) + 1
        assert [e.data[0] for e in store.entries(ROOM)] == [1, 2]
    finally:
        store.close()


def test_a_full_file_waits_for_the_io_threads_append(
    store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_store, "MOVE_AFTER_S", 60.0)
    monkeypatch.setattr(sqlite_store, "JOURNAL_MAX", 1_000)
    while store.append_now(ROOM, [entry(1, size=100)]) is not None:
        pass
    n = len(store.entries(ROOM))  # the read moved them: the file is empty again
    assert n >= 5
    assert store.append_now(ROOM, [entry(2)]) is not None
    assert store.append(ROOM, [entry(3)]) > 0
    assert [e.data[0] for e in store.entries(ROOM)][-2:] == [2, 3]


def test_numbers_run_on_past_a_reserve(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_store, "RESERVE", 4)
    store = SQLiteStore(db)
    seqs = []
    for i in range(30):
        seq = store.append_now(ROOM, [entry(i)]) if i % 5 else store.append(ROOM, [entry(i)])
        if seq is None:  # no numbers left until a move reserves more: the I/O thread's path
            seq = store.append(ROOM, [entry(i)])
        seqs.append(seq)
    assert seqs == sorted(set(seqs))
    assert [e.data[0] for e in store.entries(ROOM)] == list(range(30))
    store.close()


def test_a_store_from_before_the_file_goes_on_after_its_last_seq(db: Path) -> None:
    """A data folder of an older version: its log numbered by AUTOINCREMENT, no `log_moved`."""
    old = sqlite3.connect(db, isolation_level=None)
    old.execute(
        "CREATE TABLE log (seq INTEGER PRIMARY KEY AUTOINCREMENT, room TEXT NOT NULL,"
        " ts REAL NOT NULL, kind TEXT NOT NULL, origin TEXT NOT NULL, data BLOB NOT NULL)"
    )
    for i in range(3):
        old.execute(
            "INSERT INTO log (room, ts, kind, origin, data) VALUES (?, ?, 'update', 'p', ?)",
            (ROOM, float(i), bytes([i])),
        )
    old.execute("DELETE FROM log WHERE seq = 3")  # its newest entry gone: 3 is still used up
    old.close()
    store = SQLiteStore(db)
    try:
        assert store.append_now(ROOM, [entry(7)]) == 4
        assert [(e.seq, e.data[0]) for e in store.entries(ROOM)] == [(1, 0), (2, 1), (4, 7)]
    finally:
        store.close()
