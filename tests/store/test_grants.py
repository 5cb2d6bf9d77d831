"""The store contract for grants (sessions shared with signed-in users and groups): memory,
SQLite and PostgreSQL behave the same."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from collabd.store import GrantRecord, MemoryStore, SessionRecord, Store
from collabd.store.postgres import PostgresStore
from collabd.store.sqlite import SQLiteStore


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    opened: Store
    if request.param == "memory":
        opened = MemoryStore()
    elif request.param == "sqlite":
        opened = SQLiteStore(tmp_path / "store.sqlite3")
    else:
        opened = PostgresStore(str(request.getfixturevalue("pg_url")))
    yield opened
    opened.close()


def session(session_id: str, path: str) -> SessionRecord:
    return SessionRecord(session_id, path, "e" * 43, "v" * 43, 1.0)


def grant(session_id: str, name: str, role: str = "edit", **kw: object) -> GrantRecord:
    kind = kw.pop("kind", "user")
    created = kw.pop("created", 10.0)
    assert isinstance(kind, str) and isinstance(created, float)
    return GrantRecord(session_id, kind, name, role, created, **kw)  # type: ignore[arg-type]


def test_grants_are_listed_oldest_first_and_found_by_user_and_group(store: Store) -> None:
    store.add_session(session("s1", "a.ipynb"))
    store.add_session(session("s2", "b.ipynb"))
    owner = grant("s1", "alice", "owner", created=5.0)
    bob = grant("s1", "bob é", "view", created=7.5, created_by="alice")
    team = grant("s2", "physics", "edit", kind="group", created=6.0)
    other = grant("s2", "carol", "edit", created=8.0)
    for g in (bob, team, owner, other):
        store.put_grant(g)
    assert store.grants("s1") == [owner, bob]
    assert store.grants("s2") == [team, other]
    assert store.grants("nope") == []
    assert store.grants_for("alice") == [owner]
    assert store.grants_for("alice", ["physics", "chemistry"]) == [owner, team]
    assert store.grants_for("physics") == []  # a user named like a group is not in it
    assert store.grants_for("nobody", []) == []


def test_granting_again_changes_the_role_and_removing_takes_it_away(store: Store) -> None:
    store.add_session(session("s1", "a.ipynb"))
    store.put_grant(grant("s1", "bob", "view"))
    changed = grant("s1", "bob", "edit", created=20.0, created_by="alice")
    store.put_grant(changed)
    assert store.grants("s1") == [changed]
    assert store.remove_grant("s1", "user", "bob") is True
    assert store.remove_grant("s1", "user", "bob") is False
    assert store.remove_grant("s1", "group", "bob") is False
    assert store.grants("s1") == [] and store.grants_for("bob") == []


def test_deleting_a_session_deletes_its_grants_only(store: Store) -> None:
    store.add_session(session("s1", "a.ipynb"))
    store.add_session(session("s2", "b.ipynb"))
    store.put_grant(grant("s1", "alice", "owner"))
    kept = grant("s2", "alice", "view")
    store.put_grant(kept)
    assert store.delete_session("s1")
    assert store.grants("s1") == [] and store.grants_for("alice") == [kept]


def test_sqlite_grants_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    first = SQLiteStore(path)
    first.add_session(session("s1", "a.ipynb"))
    kept = grant("s1", "alice", "owner", created=3.25)
    first.put_grant(kept)
    first.close()
    again = SQLiteStore(path)
    try:
        assert again.grants_for("alice") == [kept]
    finally:
        again.close()
