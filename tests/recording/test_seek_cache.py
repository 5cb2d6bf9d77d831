"""Seeks that reuse a document rebuilt for an earlier seek give what a cold seek gives, in any
order, across snapshots, rooms and stores."""

from __future__ import annotations

import random

from collabd.recording import reader
from collabd.store import MemoryStore, SessionRecord
from tests.recording.test_reader import ROOM, T0, Author


def test_seeks_in_any_order_match_the_recorded_notebooks() -> None:
    store = MemoryStore()
    store.add_session(SessionRecord(ROOM, "nb.ipynb", "e" * 10, "v" * 10, T0))
    author = Author(store, seed=7)
    for _ in range(150):
        author.edit()
    reader.backfill_snapshots(store, ROOM, every=20)
    other = MemoryStore()  # the same room id in another store: never confused
    other.add_session(SessionRecord(ROOM, "nb.ipynb", "e" * 10, "v" * 10, T0))
    Author(other, seed=8).edit()
    rng = random.Random(3)
    moments = [rng.choice(author.history) for _ in range(60)]
    moments += sorted(author.history[::7]) + sorted(author.history[::5], reverse=True)
    for ts, expected in moments:
        assert reader.notebook_at(store, ROOM, ts + rng.choice([0.0, 0.05])) == expected
        if rng.random() < 0.2:
            reader.notebook_at(other, ROOM, ts)
