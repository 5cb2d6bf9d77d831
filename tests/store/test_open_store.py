"""open_store: a PostgreSQL URL gives the shared store, no URL the SQLite file, anything else a
clear error that does not repeat the URL's secrets."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from collabd.store import PostgresStore, SQLiteStore, StoreUnavailable, open_store


@pytest.mark.parametrize("url", [None, "", "  "])
def test_no_url_is_the_sqlite_file(url: str | None, tmp_path: Path) -> None:
    store = open_store(url, tmp_path / "data" / "collabd.sqlite3")
    try:
        assert isinstance(store, SQLiteStore) and store.path.exists()
    finally:
        store.close()


@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "PostgreSQL"])
def test_a_postgres_url_is_the_postgres_store(scheme: str, pg_url: str, tmp_path: Path) -> None:
    store = open_store(scheme + pg_url[pg_url.index(":") :], tmp_path / "unused.sqlite3")
    try:
        assert isinstance(store, PostgresStore) and store.count("r") == 0
    finally:
        store.close()
    assert not (tmp_path / "unused.sqlite3").exists()


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("mysql://app:s3cret@db/collabd", "scheme 'mysql'"),
        ("sqlite:///var/lib/collabd.db", "scheme 'sqlite'"),
        ("s3cret@db/collabd", "no scheme"),
    ],
)
def test_any_other_url_is_refused_without_its_secrets(url: str, said: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unsupported database URL") as refused:
        open_store(url, tmp_path / "unused.sqlite3")
    assert said in str(refused.value) and "s3cret" not in str(refused.value)
    assert "postgresql://" in str(refused.value)  # says what would work


def test_an_unreachable_server_fails_saying_where(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(StoreUnavailable, match=f"127.0.0.1:{port}/collabd") as failed:
        open_store(f"postgresql://postgres:s3cret@127.0.0.1:{port}/collabd", tmp_path / "x")
    assert "s3cret" not in str(failed.value)
