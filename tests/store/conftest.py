"""A fresh PostgreSQL database for each test that asks for one, dropped afterwards.

PostgreSQL is always there in CI, so these tests never skip: an unreachable server fails them
with a message saying where it was looked for (COLLABD_TEST_PG_URL, else the local default).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg import sql

ADMIN_URL = os.environ.get("COLLABD_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _admin() -> psycopg.Connection[tuple[object, ...]]:
    try:
        return psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        reason = str(exc)
    # Outside the except block, so the failure shows this message alone, not a chained trace.
    pytest.fail(
        f"PostgreSQL is needed by the store tests and is unreachable at {ADMIN_URL}"
        f" (set COLLABD_TEST_PG_URL to point elsewhere): {reason}",
        pytrace=False,
    )


@pytest.fixture
def pg_url() -> Iterator[str]:
    """The URL of a new, empty database."""
    name = f"collabd_test_{secrets.token_hex(6)}"
    with _admin() as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlsplit(ADMIN_URL)._replace(path=f"/{name}").geturl()
    finally:
        with _admin() as admin:  # FORCE: a pool a failed test left open must not keep it
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
