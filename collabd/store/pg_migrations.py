"""The PostgreSQL schema, as numbered migrations applied in order when a store opens.

Migration N is MIGRATIONS[N - 1]. A released migration is never edited: a change is a new one
appended here. Each is applied in the same transaction as its `schema_version` row, under a
transaction-scoped advisory lock, so hubs starting together against one database apply every
migration exactly once and a failed start leaves the schema as it was.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg

# Key of the advisory lock held while migrating (an arbitrary constant, "collabd" in ASCII).
LOCK_KEY = 0x636F6C6C616264

MIGRATIONS: tuple[str, ...] = (
    # 1: sessions, the per-room seq counter, the log and snapshots. Timestamps are Unix seconds
    # as double precision (as REAL in SQLite); seq is per room, assigned from rooms.last_seq.
    """
    CREATE TABLE IF NOT EXISTS sessions (
        id TEXT PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        edit_token TEXT NOT NULL,
        view_token TEXT NOT NULL,
        created DOUBLE PRECISION NOT NULL
    );
    CREATE TABLE IF NOT EXISTS rooms (
        room TEXT PRIMARY KEY,
        last_seq BIGINT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS log (
        room TEXT NOT NULL,
        seq BIGINT NOT NULL,
        ts DOUBLE PRECISION NOT NULL,
        kind TEXT NOT NULL,
        origin TEXT NOT NULL,
        data BYTEA NOT NULL,
        PRIMARY KEY (room, seq)
    );
    CREATE INDEX IF NOT EXISTS log_room_ts ON log (room, ts);
    CREATE TABLE IF NOT EXISTS snapshots (
        room TEXT NOT NULL,
        seq BIGINT NOT NULL,
        ts DOUBLE PRECISION NOT NULL,
        state BYTEA NOT NULL,
        PRIMARY KEY (room, seq)
    );
    """,
    # 2: cluster ownership. A session's owner hub holds a lease; `token` grows with every
    # takeover and is copied to `rooms.fence`, which every fenced write checks.
    """
    ALTER TABLE rooms ADD COLUMN IF NOT EXISTS fence BIGINT NOT NULL DEFAULT 0;
    CREATE TABLE IF NOT EXISTS leases (
        room TEXT PRIMARY KEY,
        node TEXT NOT NULL,
        node_url TEXT NOT NULL,
        token BIGINT NOT NULL,
        expires_at DOUBLE PRECISION NOT NULL
    );
    """,
    # 3: named links. Only the SHA-256 of a link's token is kept (hex), never the token.
    """
    CREATE TABLE IF NOT EXISTS links (
        id TEXT PRIMARY KEY,
        session_id TEXT NOT NULL,
        name TEXT NOT NULL,
        role TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        created DOUBLE PRECISION NOT NULL,
        expires DOUBLE PRECISION,
        revoked DOUBLE PRECISION,
        last_seen DOUBLE PRECISION,
        created_by TEXT
    );
    CREATE INDEX IF NOT EXISTS links_session ON links (session_id, created);
    """,
    # 4: how a snapshot's state is stored (`collabd.store.codec`): 0 the raw update, as every
    # snapshot written before this migration, 1 zstd.
    """
    ALTER TABLE snapshots ADD COLUMN IF NOT EXISTS codec SMALLINT NOT NULL DEFAULT 0;
    """,
    # 5: sessions shared with signed-in users and JupyterHub groups (kind "user" / "group"),
    # each with a role: owner, edit or view.
    """
    CREATE TABLE IF NOT EXISTS grants (
        session_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        role TEXT NOT NULL,
        created DOUBLE PRECISION NOT NULL,
        created_by TEXT,
        PRIMARY KEY (session_id, kind, name)
    );
    CREATE INDEX IF NOT EXISTS grants_name ON grants (kind, name);
    """,
    # 6: the anonymous links' tokens are derived from the hub's link key, never stored: only
    # each role's generation is (SessionRecord). Sessions made before keep generation 0 and
    # their stored tokens until a link is replaced.
    """
    ALTER TABLE sessions ADD COLUMN IF NOT EXISTS edit_gen INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE sessions ADD COLUMN IF NOT EXISTS view_gen INTEGER NOT NULL DEFAULT 0;
    """,
    # 7: the seek index (`SeekBlock`): derived data, built again from the log when dropped.
    # `data` is compressed already.
    """
    CREATE TABLE IF NOT EXISTS seek_index (
        room TEXT NOT NULL,
        seq BIGINT NOT NULL,
        ts DOUBLE PRECISION NOT NULL,
        end_seq BIGINT NOT NULL,
        end_ts DOUBLE PRECISION NOT NULL,
        data BYTEA NOT NULL,
        PRIMARY KEY (room, seq)
    );
    """,
)

_VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY,
    applied DOUBLE PRECISION NOT NULL
)
"""


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer collabd than this one."""


def migrate(conn: psycopg.Connection[Any]) -> list[int]:
    """Bring the schema up to date; returns the versions this call applied."""
    with conn.transaction():
        # Taken before anything else: two hubs creating the tables at once would otherwise
        # collide even with IF NOT EXISTS (it is not safe against concurrent creation).
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        conn.execute(_VERSION_TABLE)
        current = current_version(conn)
        if current > len(MIGRATIONS):
            raise SchemaTooNew(
                f"the database schema is at version {current}, newer than the {len(MIGRATIONS)}"
                " this collabd knows: upgrade collabd"
            )
        applied = list(range(current + 1, len(MIGRATIONS) + 1))
        for version in applied:
            conn.execute(MIGRATIONS[version - 1])  # several statements: no parameters allowed
            conn.execute(
                "INSERT INTO schema_version (version, applied) VALUES (%s, %s)",
                (version, time.time()),
            )
    return applied


def current_version(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
    return int(row[0]) if row else 0
