"""The store contract for named links, anonymous-link rotation and session deletion: memory,
SQLite and PostgreSQL behave the same. The durable backends never hold a link's token."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from collabd.store import LinkRecord, MemoryStore, NewEntry, SessionRecord, Snapshot, Store
from collabd.store.pg_migrations import MIGRATIONS
from collabd.store.postgres import PostgresStore
from collabd.store.sqlite import SQLiteStore

DUPLICATE = (ValueError, sqlite3.IntegrityError, psycopg.errors.UniqueViolation)
ALL = ("update", "awareness", "event")


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Store]:
    opened: Store
    if kind == "memory":
        opened = MemoryStore()
    elif kind == "sqlite":
        opened = SQLiteStore(tmp_path / "store.sqlite3")
    else:
        opened = PostgresStore(str(request.getfixturevalue("pg_url")))
    yield opened
    opened.close()


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link(
    link_id: str, session: str = "s1", name: str = "Ada", role: str = "edit", **kw: object
) -> LinkRecord:
    token = kw.pop("token", f"token-of-{link_id}")
    assert isinstance(token, str)
    return LinkRecord(link_id, session, name, role, digest(token), **kw)  # type: ignore[arg-type]


def session(session_id: str = "s1", path: str = "a.ipynb") -> SessionRecord:
    return SessionRecord(session_id, path, "e" * 43, "v" * 43, 1.0)


def test_links_are_kept_listed_oldest_first_and_found_by_hash(store: Store) -> None:
    store.add_session(session())
    late = link("l2", name="Bob", role="view", created=20.0, expires=100.5)
    early = link("l1", name="Ada é ☃", created=10.25, created_by=None)
    made = link("l3", name="Bot", created=30.0, created_by="l1")
    for one in (late, early, made):
        store.add_link(one)
    store.add_link(link("other", session="s2", created=1.0))
    assert store.links("s1") == [early, late, made]
    assert store.link_by_hash("s1", digest("token-of-l2")) == late
    assert store.link_by_hash("s1", digest("token-of-other")) is None  # another session's
    assert store.link_by_hash("s1", digest("nope")) is None
    assert store.links("nope") == []
    found = store.links("s1")[1]
    assert type(found.created) is float and found.expires == 100.5 and found.revoked is None


def test_a_second_link_with_an_id_or_a_token_is_refused(store: Store) -> None:
    store.add_link(link("l1", created=1.0))
    with pytest.raises(DUPLICATE):
        store.add_link(link("l1", created=2.0, token="another"))
    with pytest.raises(DUPLICATE):
        store.add_link(link("l2", created=2.0, token="token-of-l1"))
    assert [one.id for one in store.links("s1")] == ["l1"]


def test_revoking_keeps_the_first_time_and_only_touches_that_link(store: Store) -> None:
    store.add_link(link("l1", created=1.0))
    store.add_link(link("l2", created=2.0))
    revoked = store.revoke_link("s1", "l1", 50.0)
    assert revoked is not None and revoked.revoked == 50.0
    again = store.revoke_link("s1", "l1", 60.0)
    assert again is not None and again.revoked == 50.0
    assert store.revoke_link("s1", "nope", 60.0) is None
    assert store.revoke_link("s2", "l2", 60.0) is None  # the link is not that session's
    assert [one.revoked for one in store.links("s1")] == [50.0, None]
    assert store.link_by_hash("s1", digest("token-of-l1")) == revoked  # still found: refused


def test_last_seen_is_when_a_connection_last_joined(store: Store) -> None:
    store.add_link(link("l1", created=1.0))
    store.touch_link("s1", "l1", 5.0)
    store.touch_link("s1", "l1", 7.5)
    store.touch_link("s2", "l1", 9.0)  # another session: nothing
    store.touch_link("s1", "nope", 9.0)
    assert [one.last_seen for one in store.links("s1")] == [7.5]


def test_replacing_an_anonymous_link_bumps_its_generation_and_forgets_an_old_token(
    store: Store,
) -> None:
    store.add_session(session())  # made before 0.3: generation 0, the tokens stored
    assert store.get_session("s1") == SessionRecord("s1", "a.ipynb", "e" * 43, "v" * 43, 1.0)
    edited = store.next_generation("s1", "edit")
    assert edited == SessionRecord("s1", "a.ipynb", "", "v" * 43, 1.0, edit_gen=1, view_gen=0)
    viewed = store.next_generation("s1", "view")
    again = store.next_generation("s1", "view")
    assert viewed is not None and viewed.view_gen == 1
    assert again == SessionRecord("s1", "a.ipynb", "", "", 1.0, edit_gen=1, view_gen=2)
    assert store.get_session("s1") == again and store.session_for_path("a.ipynb") == again
    assert store.sessions() == [again]
    assert store.next_generation("nope", "edit") is None
    with pytest.raises(ValueError):
        store.next_generation("s1", "admin")
    assert store.get_session("s1") == again


def test_a_new_session_keeps_its_generations_and_no_token(store: Store) -> None:
    record = SessionRecord("s9", "n.ipynb", "", "", 2.5, edit_gen=1, view_gen=1)
    store.add_session(record)
    assert store.get_session("s9") == record and store.sessions() == [record]


def test_deleting_a_session_removes_its_history_and_links_only(store: Store) -> None:
    for one in ("s1", "s2"):
        store.add_session(session(one, f"{one}.ipynb"))
        last = store.append(one, [NewEntry(1.0, kind, "peer:1", b"x") for kind in ALL])
        store.add_snapshot(one, Snapshot(last, 1.0, b"state"))
        store.add_link(link(f"{one}-l", session=one, created=1.0))

    assert store.delete_session("s1") is True

    assert store.get_session("s1") is None and store.session_for_path("s1.ipynb") is None
    assert store.entries("s1", kinds=ALL) == [] and store.latest_snapshot("s1") is None
    assert store.links("s1") == [] and store.storage_bytes("s1") == 0
    assert store.link_by_hash("s1", digest("token-of-s1-l")) is None
    assert [s.id for s in store.sessions()] == ["s2"]
    assert len(store.entries("s2", kinds=ALL)) == 3 and store.latest_snapshot("s2") is not None
    assert len(store.links("s2")) == 1
    assert store.delete_session("s1") is False
    # The path is free again: a new session may take it.
    store.add_session(session("s3", "s1.ipynb"))
    assert store.append("s3", [NewEntry(2.0, "update", "p", b"y")]) >= 1


def test_links_survive_reopening_and_no_token_is_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    token = "tok-" + "Z" * 40
    first = SQLiteStore(path)
    first.add_session(session())
    kept = link("l1", created=1.0, token=token)
    first.add_link(kept)
    first.close()
    again = SQLiteStore(path)
    assert again.links("s1") == [kept]
    again.close()
    held = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert token.encode() not in held
    assert digest(token).encode() in held


def test_postgres_holds_only_the_hash(pg_url: str) -> None:
    token = "tok-" + "Q" * 40
    store = PostgresStore(pg_url)
    try:
        store.add_link(link("l1", created=1.0, token=token))
    finally:
        store.close()
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute("SELECT * FROM links").fetchall()
    assert rows and token not in repr(rows) and digest(token) in repr(rows)


def test_postgres_deleting_a_session_drops_its_counter_and_lease(pg_url: str) -> None:
    store = PostgresStore(pg_url)
    try:
        store.add_session(session())
        store.append("s1", [NewEntry(1.0, "update", "p", b"x")])
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute("INSERT INTO leases VALUES ('s1', 'n', 'http://n', 1, 0)")
        assert store.delete_session("s1")
        with psycopg.connect(pg_url) as conn:
            for table in ("rooms", "leases", "log"):
                count = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
                assert count == (0,), table
    finally:
        store.close()


def test_a_sqlite_file_from_before_0_3_gets_generations_and_keeps_its_tokens(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:  # the sessions table as 0.2 made it
        db.execute(
            "CREATE TABLE sessions (id TEXT PRIMARY KEY, path TEXT NOT NULL UNIQUE,"
            " edit_token TEXT NOT NULL, view_token TEXT NOT NULL, created REAL NOT NULL)"
        )
        db.execute("INSERT INTO sessions VALUES ('s1', 'a.ipynb', 'old-e', 'old-v', 1.0)")
    store = SQLiteStore(path)
    try:
        assert store.get_session("s1") == SessionRecord("s1", "a.ipynb", "old-e", "old-v", 1.0)
        changed = store.next_generation("s1", "edit")
        assert changed == SessionRecord("s1", "a.ipynb", "", "old-v", 1.0, 1, 0)
    finally:
        store.close()


def test_a_postgres_database_from_before_0_3_is_migrated_and_keeps_its_tokens(
    pg_url: str,
) -> None:
    before = next(n for n, sql in enumerate(MIGRATIONS) if "edit_gen" in sql)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE schema_version (version INTEGER PRIMARY KEY,"
            " applied DOUBLE PRECISION NOT NULL)"
        )
        for version, migration in enumerate(MIGRATIONS[:before], start=1):
            conn.execute(migration)  # type: ignore[call-overload]
            conn.execute("INSERT INTO schema_version VALUES (%s, 0)", (version,))
        conn.execute("INSERT INTO sessions VALUES ('s1', 'a.ipynb', 'old-e', 'old-v', 1.0)")
    store = PostgresStore(pg_url)
    try:
        assert store.get_session("s1") == SessionRecord("s1", "a.ipynb", "old-e", "old-v", 1.0)
        changed = store.next_generation("s1", "view")
        assert changed == SessionRecord("s1", "a.ipynb", "old-e", "", 1.0, 0, 1)
    finally:
        store.close()
