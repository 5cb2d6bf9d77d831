"""A store holding one session (`ROOM`) for the recording tests: in memory, and in a SQLite
file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from collabd.store import MemoryStore, SessionRecord, SQLiteStore, Store
from tests.recording.test_reader import ROOM, T0


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    s: Store = MemoryStore() if request.param == "memory" else SQLiteStore(tmp_path / "s.db")
    s.add_session(SessionRecord(ROOM, "dir/nb.ipynb", "e" * 10, "v" * 10, T0))
    yield s
    s.close()
