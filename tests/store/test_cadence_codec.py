"""The snapshot cadence (count and bytes) and the stored snapshot format (zstd, old raw rows)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from collabd.store import SQLiteStore
from collabd.store.base import Snapshot
from collabd.store.cadence import BYTES_FACTOR, MIN_BYTES, SnapshotCadence
from collabd.store.codec import RAW, ZSTD, pack, unpack


def test_count_bounds_the_updates_between_snapshots() -> None:
    cadence = SnapshotCadence(10)
    for _ in range(9):
        assert not cadence.due(1, 10)
        cadence.logged(1, 10)
    assert cadence.due(1, 10)


def test_bytes_since_the_last_snapshot_reaching_its_size_times_the_factor_make_one_due() -> None:
    cadence = SnapshotCadence(10**9)
    cadence.logged(5, 10 * MIN_BYTES)
    assert not cadence.due(1, 1)  # no snapshot yet: its size is the measure
    cadence.taken(4 * MIN_BYTES)  # snapshots then take at most 1/BYTES_FACTOR of the log
    cadence.logged(100, int(4 * MIN_BYTES * BYTES_FACTOR) - 10)
    assert not cadence.due(1, 9)
    assert cadence.due(1, 10)
    cadence.taken(100)  # a tiny snapshot: still at least MIN_BYTES of log between two
    assert not cadence.due(1, MIN_BYTES - 1)
    assert cadence.due(1, MIN_BYTES)


def test_snapshots_are_compressed_and_old_raw_ones_still_read(tmp_path: Path) -> None:
    state = b"the cells' text " * 1000
    how, stored = pack(state)
    assert how == ZSTD and len(stored) < len(state) // 10 and unpack(how, stored) == state
    assert pack(b"x") == (RAW, b"x")  # nothing gained: kept as it is
    # a file from before the codec column, with a raw snapshot
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE snapshots (room TEXT, seq INTEGER, ts REAL, state BLOB,"
        " PRIMARY KEY (room, seq))"
    )
    db.execute("INSERT INTO snapshots VALUES ('r', 3, 1.0, ?)", (state,))
    db.commit()
    db.close()
    store = SQLiteStore(path)
    assert store.latest_snapshot("r") == Snapshot(3, 1.0, state)
    assert store.add_snapshot("r", Snapshot(5, 2.0, state)) == len(stored)
    newest = store.latest_snapshot("r")
    assert newest is not None and newest.state == state and newest.size == len(stored)
    assert store.snapshot_sizes("r") == [(3, len(state)), (5, len(stored))]
    store.close()
