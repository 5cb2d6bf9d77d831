"""The store contract: every backend (memory, a SQLite file, a PostgreSQL database) behaves the
same for every method of `collabd.store.base.Store`. Backend-specific guarantees (persistence,
atomic trim, PostgreSQL's migrations and multi-writer safety) follow at the end."""

from __future__ import annotations

import math
import re
import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from collabd.store import (
    MemoryStore,
    NewEntry,
    SeekBlock,
    SessionRecord,
    Snapshot,
    SQLiteStore,
    Store,
)
from collabd.store.base import EntryInfo, LogEntry
from collabd.store.pg_migrations import MIGRATIONS, SchemaTooNew, migrate
from collabd.store.postgres import PostgresStore
from collabd.store.sqlite import SCHEMA

ALL = ("update", "awareness", "event")
# What a refused duplicate raises, by backend: the stores pass their database's error through.
DUPLICATE = (ValueError, sqlite3.IntegrityError, psycopg.errors.UniqueViolation)


@dataclass
class Backend:
    """Opens stores on one backend's storage: calling `open` again reopens the same data."""

    kind: str
    tmp_path: Path
    pg_url: str = ""
    opened: list[Store] = field(default_factory=list)
    memory: MemoryStore = field(default_factory=MemoryStore)

    def open(self) -> Store:
        store: Store
        if self.kind == "memory":
            store = self.memory
        elif self.kind == "sqlite":
            store = SQLiteStore(self.tmp_path / "store.sqlite3")
        else:
            store = PostgresStore(self.pg_url)
        self.opened.append(store)
        return store

    def raw_sql(self, statement: str) -> None:
        """Run SQL on the backend's database directly (for faults a test injects)."""
        if self.kind == "sqlite":
            with closing(sqlite3.connect(self.tmp_path / "store.sqlite3")) as db:
                db.executescript(statement)
        else:
            with psycopg.connect(self.pg_url, autocommit=True) as conn:
                conn.execute(statement)

    def close_all(self) -> None:
        for store in self.opened:
            store.close()


def _backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    kind = str(request.param)
    url = str(request.getfixturevalue("pg_url")) if kind == "postgres" else ""
    backend = Backend(kind, tmp_path, url)
    yield backend
    backend.close_all()


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    yield from _backend(request, tmp_path)


@pytest.fixture(params=["sqlite", "postgres"])
def durable(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    yield from _backend(request, tmp_path)


@pytest.fixture
def store(backend: Backend) -> Store:
    return backend.open()


def entry(ts: float, data: bytes = b"u", kind: str = "update", origin: str = "peer:1") -> NewEntry:
    return NewEntry(ts, kind, origin, data)


def seqs(entries: list[LogEntry]) -> list[int]:
    return [e.seq for e in entries]


# sessions


def test_sessions_by_id_and_path(store: Store) -> None:
    record = SessionRecord("id1", "a/b.ipynb", "e" * 43, "v" * 43, 1.0)
    store.add_session(record)
    assert store.get_session("id1") == record
    assert store.session_for_path("a/b.ipynb") == record
    assert store.get_session("nope") is None and store.session_for_path("x.ipynb") is None
    assert store.sessions() == [record]


def test_sessions_are_listed_oldest_first(store: Store) -> None:
    late = SessionRecord("late", "late.ipynb", "e", "v", 1730000002.5)
    early = SessionRecord("early", "early.ipynb", "e", "v", 1730000001.25)
    store.add_session(late)
    store.add_session(early)
    assert store.sessions() == [early, late]


def test_a_second_session_for_an_id_or_a_path_is_refused(store: Store) -> None:
    first = SessionRecord("id1", "a.ipynb", "e", "v", 1.0)
    store.add_session(first)
    with pytest.raises(DUPLICATE):
        store.add_session(SessionRecord("id2", "a.ipynb", "e2", "v2", 2.0))
    with pytest.raises(DUPLICATE):
        store.add_session(SessionRecord("id1", "b.ipynb", "e2", "v2", 2.0))
    assert store.sessions() == [first]


# the log


def test_log_keeps_order_kinds_and_rooms_apart(store: Store) -> None:
    last = store.append(
        "r1", [NewEntry(1.0, "update", "peer:1", b"a"), NewEntry(2.0, "event", "join", b"{}")]
    )
    store.append("r2", [NewEntry(1.5, "update", "peer:2", b"other")])
    store.append("r1", [NewEntry(3.0, "update", "kernel", b"b")])
    updates = store.entries("r1")
    assert [e.data for e in updates] == [b"a", b"b"] and updates[0].origin == "peer:1"
    assert [e.data for e in store.entries("r1", after_seq=last)] == [b"b"]
    assert [e.kind for e in store.entries("r1", kinds=("update", "event"))] == [
        "update",
        "event",
        "update",
    ]
    assert [e.data for e in store.entries("r1", until_ts=2.5)] == [b"a"]
    assert [e.data for e in store.entries("r1", from_ts=2.5)] == [b"b"]
    assert store.count("r1") == 2 and store.count("r2") == 1


def test_append_returns_the_last_seq_and_seq_only_grows_in_a_room(store: Store) -> None:
    first = store.append("r", [entry(1.0, b"a"), entry(1.0, b"b"), entry(1.0, b"c")])
    store.append("other", [entry(1.5)])
    second = store.append("r", [entry(2.0, b"d")])
    found = store.entries("r")
    assert [e.data for e in found] == [b"a", b"b", b"c", b"d"]
    assert seqs(found) == sorted(set(seqs(found)))  # strictly increasing
    assert found[2].seq == first and found[3].seq == second > first


@pytest.mark.parametrize("size", [2, 64, 65, 300])  # SQLite: one multi-row INSERT up to 64
def test_a_batch_keeps_its_order_and_returns_its_last_seq(store: Store, size: int) -> None:
    store.append("r", [entry(0.5, b"before")])
    last = store.append("r", [entry(1.0, b"%d" % i) for i in range(size)])
    found = store.entries("r")[1:]
    assert [e.data for e in found] == [b"%d" % i for i in range(size)]
    assert seqs(found) == sorted(set(seqs(found))) and found[-1].seq == last


def test_an_empty_append_writes_nothing(store: Store) -> None:
    store.append("r", [])
    assert store.entries("r", kinds=ALL) == [] and store.count("r", kinds=ALL) == 0


def test_entry_filters_combine(store: Store) -> None:
    store.append(
        "r",
        [
            entry(10.0, b"u1"),
            entry(11.0, b"a1", kind="awareness"),
            entry(12.0, b"u2"),
            entry(13.0, b"e1", kind="event"),
            entry(14.0, b"u3"),
        ],
    )
    every = store.entries("r", kinds=ALL)
    assert [e.data for e in every] == [b"u1", b"a1", b"u2", b"e1", b"u3"]
    seq = {e.data: e.seq for e in every}

    def data(**kw: object) -> list[bytes]:
        return [e.data for e in store.entries("r", **kw)]  # type: ignore[arg-type]

    assert data() == [b"u1", b"u2", b"u3"]  # updates only by default
    assert data(kinds={"event", "awareness"}) == [b"a1", b"e1"]  # any iterable, in seq order
    assert data(kinds=(k for k in ["event"])) == [b"e1"]
    assert data(kinds=()) == []
    assert data(after_seq=seq[b"u2"], kinds=ALL) == [b"e1", b"u3"]
    assert data(from_ts=12.0, until_ts=13.0, kinds=ALL) == [b"u2", b"e1"]  # both ends included
    assert data(from_ts=13.5) == [b"u3"] and data(until_ts=9.9) == []
    assert data(kinds=ALL, limit=2) == [b"u1", b"a1"]  # the oldest first
    assert data(after_seq=seq[b"a1"], from_ts=10.0, limit=1) == [b"u2"]
    assert data(limit=0) == []


def test_count_after_a_seq_and_by_kind(store: Store) -> None:
    last = store.append("r", [entry(1.0), entry(2.0, kind="event"), entry(3.0)])
    store.append("r", [entry(4.0), entry(5.0, kind="awareness")])
    assert store.count("r") == 3
    assert store.count("r", kinds=ALL) == 5
    assert store.count("r", after_seq=last) == 1
    assert store.count("r", after_seq=last, kinds=["awareness"]) == 1
    assert store.count("r", kinds=[]) == 0


def test_timestamps_bytes_and_text_round_trip_exactly(store: Store) -> None:
    ts = 1730000000.1234567  # needs all of a double's precision
    every_byte = bytes(range(256))
    big = bytes(range(256)) * 4096  # 1 MiB
    store.append(
        "r",
        [
            NewEntry(ts, "update", "peer:é ☃", every_byte),
            NewEntry(ts, "update", "p", b""),
            NewEntry(ts + 1e-6, "update", "p", big),
        ],
    )
    found = store.entries("r")
    assert [e.data for e in found] == [every_byte, b"", big]
    assert found[0].ts == ts and found[2].ts == ts + 1e-6 and found[0].origin == "peer:é ☃"
    assert all(type(e.ts) is float and type(e.seq) is int for e in found)
    store.add_snapshot("r", Snapshot(found[-1].seq, ts, big))
    assert store.latest_snapshot("r") == Snapshot(found[-1].seq, ts, big)


# snapshots


def test_latest_snapshot_and_as_of_a_time(store: Store) -> None:
    assert store.latest_snapshot("r") is None
    store.add_snapshot("r", Snapshot(5, 10.0, b"s5"))
    store.add_snapshot("r", Snapshot(9, 20.0, b"s9"))
    assert store.latest_snapshot("r") == Snapshot(9, 20.0, b"s9")
    assert store.latest_snapshot("r", until_ts=15.0) == Snapshot(5, 10.0, b"s5")
    assert store.latest_snapshot("r", until_ts=5.0) is None


def test_a_snapshot_at_a_held_seq_replaces_it(store: Store) -> None:
    store.add_snapshot("r", Snapshot(5, 10.0, b"old"))
    store.add_snapshot("r", Snapshot(5, 11.0, b"new"))
    assert store.latest_snapshot("r") == Snapshot(5, 11.0, b"new")
    assert store.snapshot_index("r") == [(5, 11.0)]


def test_snapshot_before_a_seq_and_the_index(store: Store) -> None:
    store.add_snapshot("r", Snapshot(9, 20.0, b"s9"))
    store.add_snapshot("r", Snapshot(5, 10.0, b"s5"))  # out of order: the index sorts
    store.add_snapshot("other", Snapshot(7, 15.0, b"o7"))
    assert store.snapshot_before("r", seq=4) is None
    assert store.snapshot_before("r", seq=5) == Snapshot(5, 10.0, b"s5")
    assert store.snapshot_before("r", seq=8) == Snapshot(5, 10.0, b"s5")
    assert store.snapshot_before("r", seq=100) == Snapshot(9, 20.0, b"s9")
    assert store.snapshot_index("r") == [(5, 10.0), (9, 20.0)]


# recording: reading and retention


def test_entry_index_is_sizes_without_data(store: Store) -> None:
    store.append(
        "r",
        [entry(1.0, b"abc"), entry(2.0, b"", kind="event", origin="join"), entry(3.0, b"x" * 70)],
    )
    every = store.entries("r", kinds=ALL)
    assert store.entry_index("r", kinds=ALL) == [
        EntryInfo(e.seq, e.ts, e.kind, e.origin, len(e.data)) for e in every
    ]
    assert [i.size for i in store.entry_index("r")] == [3, 70]


def test_first_by_origin_is_each_origins_oldest_entry_of_a_kind(store: Store) -> None:
    # Another room first, with the same origins: it must not leak in (PostgreSQL numbers each
    # room from 1, so its seqs are the same numbers).
    store.append("other", [entry(0.5, b"x", kind="event", origin=o) for o in "cba"])
    store.append(
        "r",
        [
            entry(1.0, b"b1", kind="event", origin="b"),
            entry(2.0, b"a-update", kind="update", origin="a"),
            entry(3.0, b"a1", kind="event", origin="a"),
            entry(4.0, b"b2", kind="event", origin="b"),
            entry(5.0, b"c1", kind="event", origin="c"),
            entry(6.0, b"a2", kind="event", origin="a"),
        ],
    )
    firsts = store.first_by_origin("r", kind="event")
    assert [(e.origin, e.data) for e in firsts] == [("b", b"b1"), ("a", b"a1"), ("c", b"c1")]
    assert seqs(firsts) == sorted(seqs(firsts))
    assert [e.data for e in store.first_by_origin("r", kind="update")] == [b"a-update"]
    assert store.first_by_origin("r", kind="awareness") == []


def test_storage_bytes_counts_log_data_and_snapshot_state(store: Store) -> None:
    store.append("r", [entry(1.0, b"abcd"), entry(2.0, b"xy", kind="awareness")])
    store.add_snapshot("r", Snapshot(1, 1.0, b"12345"))
    store.append("other", [entry(1.0, b"z" * 100)])
    assert store.storage_bytes("r") == 4 + 2 + 5


def test_trim_makes_a_snapshot_the_start(store: Store) -> None:
    store.append("r", [entry(float(t), b"%d" % t, kind=ALL[t % 3]) for t in range(1, 9)])
    every = store.entries("r", kinds=ALL)
    store.add_snapshot("r", Snapshot(every[1].seq, 2.0, b"early"))
    store.add_snapshot("r", Snapshot(every[3].seq, 4.0, b"held"))
    store.add_snapshot("r", Snapshot(every[6].seq, 7.0, b"late"))
    store.append("other", [entry(1.0)])
    cut = every[3].seq

    gone = store.trim("r", Snapshot(cut, 4.5, b"start"))

    assert gone == 4
    assert store.entries("r", kinds=ALL) == every[4:]
    assert store.snapshot_index("r") == [(cut, 4.5), (every[6].seq, 7.0)]
    assert store.snapshot_before("r", seq=cut) == Snapshot(cut, 4.5, b"start")
    assert store.latest_snapshot("r", until_ts=5.0) == Snapshot(cut, 4.5, b"start")
    assert store.storage_bytes("r") == sum(len(e.data) for e in every[4:]) + len(b"startlate")
    assert store.count("other") == 1
    # Trimming everything away never lets a seq be used again.
    assert store.trim("r", Snapshot(every[-1].seq, 8.0, b"end")) == 4
    assert store.append("r", [entry(9.0)]) > every[-1].seq


def test_trim_of_a_room_without_entries_stores_the_snapshot(store: Store) -> None:
    assert store.trim("r", Snapshot(3, 1.0, b"s")) == 0
    assert store.latest_snapshot("r") == Snapshot(3, 1.0, b"s")


# the seek index: derived data, kept apart from the log and snapshots


def block(seq: int, ts: float, end_seq: int, end_ts: float, data: bytes = b"") -> SeekBlock:
    return SeekBlock(seq, ts, end_seq, end_ts, data or b"block-%d" % seq)


def test_seek_blocks_round_trip_exactly_and_replace_one_at_the_same_seq(store: Store) -> None:
    ts = 1730000000.1234567  # needs all of a double's precision
    every_byte = bytes(range(256)) * 4096  # 1 MiB, every byte value
    kept = SeekBlock(0, ts, 2**40, ts + 1e-6, every_byte)
    store.add_seek_block("r", kept)
    found = store.seek_block("r", until_ts=ts)
    assert found == kept
    assert found is not None and type(found.ts) is float and type(found.end_seq) is int
    assert type(found.data) is bytes and type(found.end_ts) is float

    store.add_seek_block("r", SeekBlock(0, ts, 2**40 + 5, ts + 2.0, b"new"))
    assert store.seek_block("r", until_ts=math.inf) == SeekBlock(0, ts, 2**40 + 5, ts + 2.0, b"new")
    assert store.seek_index_end("r") == (2**40 + 5, ts + 2.0)
    assert store.seek_index_bytes("r") == 3  # replaced, not added


def test_seek_block_is_the_newest_at_or_before_a_time(store: Store) -> None:
    store.add_seek_block("r", block(40, 30.0, 60, 39.0))
    store.add_seek_block("r", block(0, 10.0, 20, 19.0))  # out of order: seq decides
    store.add_seek_block("r", block(20, 19.0, 40, 30.0))
    store.add_seek_block("other", block(100, 5.0, 200, 50.0))

    assert store.seek_block("r", until_ts=9.9) is None
    assert store.seek_block("r", until_ts=10.0) == block(0, 10.0, 20, 19.0)  # its ts included
    assert store.seek_block("r", until_ts=18.9) == block(0, 10.0, 20, 19.0)
    assert store.seek_block("r", until_ts=19.0) == block(20, 19.0, 40, 30.0)
    assert store.seek_block("r", until_ts=35.0) == block(40, 30.0, 60, 39.0)
    assert store.seek_block("r", until_ts=math.inf) == block(40, 30.0, 60, 39.0)
    assert store.seek_block("other", until_ts=6.0) == block(100, 5.0, 200, 50.0)
    assert store.seek_block("nope", until_ts=math.inf) is None


def test_seek_index_end_is_the_greatest_end(store: Store) -> None:
    assert store.seek_index_end("r") is None
    store.add_seek_block("r", block(20, 19.0, 35, 25.5))
    store.add_seek_block("r", block(0, 10.0, 20, 19.0))
    assert store.seek_index_end("r") == (35, 25.5)
    store.add_seek_block("other", block(0, 1.0, 900, 90.0))
    assert store.seek_index_end("r") == (35, 25.5)
    store.add_seek_block("r", block(20, 19.0, 48, 31.25))  # the block under way, extended
    assert store.seek_index_end("r") == (48, 31.25)


def test_seek_index_bytes_count_blocks_and_not_storage_bytes(store: Store) -> None:
    store.append("r", [entry(1.0, b"abcd")])
    store.add_snapshot("r", Snapshot(1, 1.0, b"12345"))
    assert store.seek_index_bytes("r") == 0
    before = store.storage_bytes("r")
    store.add_seek_block("r", block(0, 1.0, 1, 1.0, b"x" * 1000))
    store.add_seek_block("r", block(1, 1.0, 1, 1.0, b"y" * 24))
    store.add_seek_block("other", block(0, 1.0, 1, 1.0, b"z" * 7))
    assert store.seek_index_bytes("r") == 1024 and store.seek_index_bytes("other") == 7
    assert store.storage_bytes("r") == before == 4 + 5


def test_drop_seek_index_drops_only_that_rooms_blocks(store: Store) -> None:
    for room in ("r", "other"):
        store.add_seek_block(room, block(0, 1.0, 10, 2.0))
        store.add_seek_block(room, block(10, 2.0, 20, 3.0))
    store.append("r", [entry(1.0)])
    store.add_snapshot("r", Snapshot(1, 1.0, b"s"))

    assert store.drop_seek_index("r") == 2

    assert store.seek_block("r", until_ts=math.inf) is None and store.seek_index_end("r") is None
    assert store.seek_index_bytes("r") == 0
    assert store.seek_index_end("other") == (20, 3.0)
    assert store.count("r") == 1 and store.latest_snapshot("r") == Snapshot(1, 1.0, b"s")
    assert store.drop_seek_index("r") == 0
    # built again from scratch
    store.add_seek_block("r", block(0, 1.0, 1, 1.0))
    assert store.seek_index_end("r") == (1, 1.0)


def test_trim_drops_the_seek_blocks_before_the_new_start(store: Store) -> None:
    store.append("r", [entry(float(t)) for t in range(1, 9)])
    every = store.entries("r")
    starts = [0, every[2].seq, every[5].seq]  # blocks as of seq 0 and two checkpoints
    ends = [every[2].seq, every[5].seq, every[7].seq]
    for n, (start, end) in enumerate(zip(starts, ends, strict=True)):
        store.add_seek_block("r", block(start, float(n * 3), end, float(n * 3 + 3)))
    store.add_seek_block("other", block(0, 0.0, 5, 5.0))

    store.trim("r", Snapshot(every[2].seq, 3.0, b"start"))  # a block starts at the cut: kept
    assert store.seek_block("r", until_ts=2.0) is None
    assert store.seek_block("r", until_ts=3.0) == block(every[2].seq, 3.0, every[5].seq, 6.0)
    assert store.seek_index_bytes("r") == len(b"block-%d" % starts[1] + b"block-%d" % starts[2])

    store.trim("r", Snapshot(every[6].seq, 7.0, b"later"))  # between two blocks' starts
    assert store.seek_block("r", until_ts=math.inf) is None and store.seek_index_end("r") is None
    assert store.seek_index_end("other") == (5, 5.0)


def test_deleting_a_session_drops_its_seek_index(store: Store) -> None:
    for one in ("s1", "s2"):
        store.add_session(SessionRecord(one, f"{one}.ipynb", "", "", 1.0))
        store.append(one, [entry(1.0)])
        store.add_seek_block(one, block(0, 1.0, 1, 1.0))
    assert store.delete_session("s1")
    assert store.seek_block("s1", until_ts=math.inf) is None and store.seek_index_bytes("s1") == 0
    assert store.seek_index_end("s1") is None
    assert store.seek_block("s2", until_ts=math.inf) == block(0, 1.0, 1, 1.0)


def test_an_unknown_room_or_session_reads_as_nothing(store: Store) -> None:
    store.append("known", [entry(1.0)])
    store.add_snapshot("known", Snapshot(1, 1.0, b"s"))
    assert store.get_session("nope") is None and store.session_for_path("nope.ipynb") is None
    assert store.sessions() == []
    assert store.entries("nope", kinds=ALL) == [] and store.count("nope", kinds=ALL) == 0
    assert store.latest_snapshot("nope") is None and store.snapshot_before("nope", seq=9) is None
    assert store.snapshot_index("nope") == [] and store.entry_index("nope", kinds=ALL) == []
    assert store.first_by_origin("nope", kind="update") == []
    assert store.storage_bytes("nope") == 0
    assert store.seek_block("nope", until_ts=math.inf) is None
    assert store.seek_index_end("nope") is None and store.seek_index_bytes("nope") == 0
    assert store.drop_seek_index("nope") == 0


def test_concurrent_appends_get_unique_contiguous_seqs(store: Store) -> None:
    threads, batches = 4, 25

    def writer(t: int) -> list[int]:
        return [
            store.append("r", [entry(1.0, b"%d.%d.%d" % (t, b, i)) for i in range(1 + b % 3)])
            for b in range(batches)
        ]

    with ThreadPoolExecutor(threads) as pool:
        lasts = [last for got in pool.map(writer, range(threads)) for last in got]
    total = threads * sum(1 + b % 3 for b in range(batches))
    _assert_contiguous_batches(store.entries("r"), lasts, total)


def _assert_contiguous_batches(found: list[LogEntry], lasts: list[int], total: int) -> None:
    """Seqs unique and contiguous; each batch's entries adjacent, in order, ending at the seq its
    append returned; each writer's batches in the order it wrote them."""
    assert len(found) == total
    assert seqs(found) == list(range(found[0].seq, found[0].seq + total))
    by_seq = {e.seq: e.data.decode().split(".") for e in found}
    assert sorted(lasts) == sorted(set(lasts))
    for last in lasts:
        writer, batch, i = by_seq[last]
        for back in range(int(i) + 1):
            assert by_seq[last - back] == [writer, batch, str(int(i) - back)]
    for writer in {w for w, _, _ in by_seq.values()}:
        mine = [(int(b), int(i)) for w, b, i in by_seq.values() if w == writer]
        assert mine == sorted(mine)


# durable backends: what survives a restart, and trim's single transaction


def test_everything_survives_closing_and_reopening(durable: Backend) -> None:
    first = durable.open()
    record = SessionRecord("id1", "a.ipynb", "e", "v", 1730000000.5)
    first.add_session(record)
    before = first.append("r", [entry(1.0, b"a"), entry(2.0, b"b", kind="event")])
    first.add_snapshot("r", Snapshot(before, 2.0, b"snap"))
    kept = SeekBlock(0, 1.0, before, 2.0, b"\x28\xb5\x2f\xfd" + bytes(range(256)))
    first.add_seek_block("r", kept)
    first.close()

    again = durable.open()
    assert again.get_session("id1") == record
    assert [e.data for e in again.entries("r", kinds=ALL)] == [b"a", b"b"]
    assert again.latest_snapshot("r") == Snapshot(before, 2.0, b"snap")
    assert again.seek_block("r", until_ts=math.inf) == kept
    assert again.seek_index_end("r") == (before, 2.0)
    after = again.append("r", [entry(3.0, b"c")])
    assert after > before
    assert [e.data for e in again.entries("r", after_seq=before)] == [b"c"]
    assert seqs(again.entries("r", kinds=ALL)) == sorted(seqs(again.entries("r", kinds=ALL)))


def test_sqlite_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    SQLiteStore(path).close()
    assert path.stat().st_mode & 0o077 == 0  # it holds the session tokens


def test_a_sqlite_file_without_the_seek_index_gets_it_on_open(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    old_schema, found = re.subn(
        r"CREATE TABLE IF NOT EXISTS seek_index \(.*?\);\n", "", SCHEMA, flags=re.DOTALL
    )
    assert found == 1
    with closing(sqlite3.connect(path)) as db:  # a file made before the seek index
        db.executescript(old_schema)
        db.execute(
            "INSERT INTO log (room, ts, kind, origin, data) VALUES ('r', 1.0, 'update', 'p', x'61')"
        )
        db.commit()
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
        assert "seek_index" not in tables and "log" in tables
    store = SQLiteStore(path)
    try:
        assert store.seek_block("r", until_ts=math.inf) is None
        assert [e.data for e in store.entries("r")] == [b"a"]
        store.add_seek_block("r", SeekBlock(0, 1.0, 1, 1.0, b"index"))
        assert store.seek_block("r", until_ts=1.0) == SeekBlock(0, 1.0, 1, 1.0, b"index")
        assert store.seek_index_end("r") == (1, 1.0) and store.seek_index_bytes("r") == 5
    finally:
        store.close()


def test_trim_is_all_or_nothing(durable: Backend) -> None:
    store = durable.open()
    store.append("r", [entry(float(t)) for t in range(1, 5)])
    every = store.entries("r")
    store.add_snapshot("r", Snapshot(every[0].seq, 1.0, b"first"))
    store.add_seek_block("r", block(0, 0.5, every[1].seq, 2.0))
    # Trim's last step (dropping the older snapshots) fails: its earlier steps must not stay.
    if durable.kind == "sqlite":
        durable.raw_sql(
            "CREATE TRIGGER refuse BEFORE DELETE ON snapshots"
            " BEGIN SELECT RAISE(ABORT, 'refused'); END;"
        )
    else:
        durable.raw_sql(
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN RAISE EXCEPTION 'refused'; END $$;"
            " CREATE TRIGGER refuse BEFORE DELETE ON snapshots"
            " FOR EACH ROW EXECUTE FUNCTION refuse();"
        )
    with pytest.raises((sqlite3.Error, psycopg.Error), match="refused"):
        store.trim("r", Snapshot(every[2].seq, 3.0, b"start"))
    assert store.entries("r") == every
    assert store.snapshot_index("r") == [(every[0].seq, 1.0)]
    assert store.seek_block("r", until_ts=math.inf) == block(0, 0.5, every[1].seq, 2.0)


# PostgreSQL: seq per room, several writers, migrations


def test_postgres_numbers_each_room_from_one_without_gaps(pg_url: str) -> None:
    store = PostgresStore(pg_url)
    try:
        assert store.append("a", [entry(1.0), entry(1.0)]) == 2
        assert store.append("b", [entry(1.0)]) == 1
        assert store.append("a", [entry(2.0, kind="event")]) == 3
        assert store.append("a", []) == 3  # nothing written: the room's last seq
        assert seqs(store.entries("a", kinds=ALL)) == [1, 2, 3]
        assert seqs(store.entries("b")) == [1]
    finally:
        store.close()


def test_postgres_two_writers_on_one_room_never_corrupt_it(pg_url: str) -> None:
    # Two stores have two pools: to the server these are two processes' connections.
    stores = [PostgresStore(pg_url, max_size=4) for _ in range(2)]
    threads, batches = 8, 30
    start = threading.Barrier(threads)

    def writer(t: int) -> list[int]:
        start.wait()
        target = stores[t % 2]
        return [
            target.append("r", [entry(1.0, b"%d.%d.%d" % (t, b, i)) for i in range(1 + b % 4)])
            for b in range(batches)
        ]

    try:
        with ThreadPoolExecutor(threads) as pool:
            lasts = [last for got in pool.map(writer, range(threads)) for last in got]
        found = stores[0].entries("r")
        total = threads * sum(1 + b % 4 for b in range(batches))
        _assert_contiguous_batches(found, lasts, total)
        assert found[0].seq == 1
    finally:
        for store in stores:
            store.close()


def test_postgres_migrations_run_once_when_hubs_start_together(pg_url: str) -> None:
    hubs = 4
    start = threading.Barrier(hubs)

    def open_store(_: int) -> PostgresStore:
        start.wait()
        return PostgresStore(pg_url, max_size=1)

    with ThreadPoolExecutor(hubs) as pool:
        stores = list(pool.map(open_store, range(hubs)))
    try:
        with psycopg.connect(pg_url) as conn:
            versions = conn.execute("SELECT version FROM schema_version ORDER BY version")
            assert [v for (v,) in versions.fetchall()] == list(range(1, len(MIGRATIONS) + 1))
        for n, store in enumerate(stores):
            store.append("r", [entry(float(n))])
        assert seqs(stores[0].entries("r")) == list(range(1, hubs + 1))
    finally:
        for store in stores:
            store.close()


def test_postgres_migrating_again_applies_nothing(pg_url: str) -> None:
    PostgresStore(pg_url).close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        applied = conn.execute("SELECT version, applied FROM schema_version").fetchall()
        assert migrate(conn) == []
        assert conn.execute("SELECT version, applied FROM schema_version").fetchall() == applied


def test_postgres_refuses_a_schema_newer_than_it_knows(pg_url: str) -> None:
    PostgresStore(pg_url).close()
    newer = len(MIGRATIONS) + 1
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("INSERT INTO schema_version VALUES (%s, 0)", (newer,))
    with pytest.raises(SchemaTooNew, match=f"version {newer}"):
        PostgresStore(pg_url)
