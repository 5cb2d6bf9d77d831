"""Where sessions, the update log and snapshots live: one interface, several backends."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .base import (
    GrantRecord,
    LinkRecord,
    LogEntry,
    NewEntry,
    SeekBlock,
    SessionRecord,
    Snapshot,
    Store,
)
from .memory import MemoryStore
from .sqlite import SQLiteStore

if TYPE_CHECKING:
    from .postgres import PostgresStore, StoreUnavailable

__all__ = [
    "GrantRecord",
    "LinkRecord",
    "LogEntry",
    "MemoryStore",
    "NewEntry",
    "PostgresStore",
    "SQLiteStore",
    "SeekBlock",
    "SessionRecord",
    "Snapshot",
    "Store",
    "StoreUnavailable",
    "open_store",
]

_POSTGRES_SCHEMES = ("postgresql", "postgres")


def __getattr__(name: str) -> Any:
    # PostgreSQL's driver takes ~0.25 s to import: only a hub given a postgresql:// URL pays it
    if name in ("PostgresStore", "StoreUnavailable"):
        from . import postgres

        return getattr(postgres, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def open_store(database_url: str | None, sqlite_path: Path) -> Store:
    """PostgreSQL for a postgresql:// (or postgres://) URL; the SQLite file when there is none."""
    url = (database_url or "").strip()
    if not url:
        return SQLiteStore(sqlite_path)
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme.lower() in _POSTGRES_SCHEMES:
        from .postgres import PostgresStore

        # Schemes are case-insensitive; libpq only takes them in lower case.
        return PostgresStore(scheme.lower() + url[len(scheme) :])
    # Only the scheme is repeated: the rest of a URL may hold a password.
    given = f"scheme {scheme!r}" if scheme else "no scheme"
    raise ValueError(
        f"unsupported database URL ({given}): use postgresql://user@host:port/dbname"
        " (or postgres://…), or no URL for the SQLite file"
    )
