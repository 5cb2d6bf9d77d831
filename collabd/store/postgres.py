"""The shared store for a cluster of hubs: PostgreSQL through psycopg 3 and a connection pool.

Same semantics as the SQLite store, with one difference that only adds a guarantee: seq is
counted per room (1, 2, 3, … in each room, gap-free), from a counter row in `rooms`, where
SQLite numbers all rooms' entries from one sequence. Every method is synchronous and takes a
pooled connection for its duration, so the hub's writer thread and reader threads run side by
side. Connections are in autocommit mode: a single statement is its own transaction, and methods
that need several statements open one explicitly.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterable, Sequence
from typing import Any, LiteralString

import psycopg
from psycopg import conninfo
from psycopg_pool import ConnectionPool, PoolTimeout

from . import codec
from .base import (
    UPDATE,
    EntryInfo,
    Fenced,
    GrantRecord,
    LinkRecord,
    LogEntry,
    NewEntry,
    SeekBlock,
    SessionRecord,
    Snapshot,
    Store,
    token_column,
)
from .pg_migrations import migrate

Row = tuple[Any, ...]

# One statement, so one round trip and one transaction: the upsert takes the room's counter row
# (inserting it for a new room) and holds its lock until commit, so a concurrent append to the
# same room waits and then numbers after this one; the entries take the seqs just reserved.
# The arrays go in binary (%b): dumping them as text escapes every element, twice the time of
# the whole call for a batch of 50.
_APPEND = """
WITH counter AS (
    INSERT INTO rooms AS r (room, last_seq) VALUES (%(room)s, %(n)s::bigint)
    ON CONFLICT (room) DO UPDATE SET last_seq = r.last_seq + EXCLUDED.last_seq
    WHERE %(fence)s::bigint IS NULL OR r.fence = %(fence)s::bigint
    RETURNING last_seq
), added AS (
    INSERT INTO log (room, seq, ts, kind, origin, data)
    SELECT %(room)s, counter.last_seq - %(n)s::bigint + e.n, e.ts, e.kind, e.origin, e.data
    FROM counter, unnest(%(ts)b::float8[], %(kind)b::text[], %(origin)b::text[],
                         %(data)b::bytea[]) WITH ORDINALITY AS e(ts, kind, origin, data, n)
)
SELECT last_seq FROM counter
"""

# The fence check sits in the counter row's ON CONFLICT clause: it is evaluated on the newest
# version of the locked row, so an append that waited for a takeover (which sets `rooms.fence`
# under the same row lock) sees the new owner's token and writes nothing.
_SNAPSHOT_FENCE_OK = (
    "%(fence)s::bigint IS NULL OR EXISTS"
    " (SELECT 1 FROM rooms WHERE room = %(room)s AND fence = %(fence)s::bigint)"
)

_SESSION_COLUMNS = (
    "SELECT id, path, edit_token, view_token, created, edit_gen, view_gen FROM sessions"
)
_LINK_COLUMNS = (
    "SELECT id, session_id, name, role, token_hash, created, expires, revoked, last_seen,"
    " created_by FROM links"
)
_GRANT_COLUMNS = "SELECT session_id, kind, name, role, created, created_by FROM grants"
_NEXT_GENERATION: dict[str, LiteralString] = {
    "edit": "UPDATE sessions SET edit_token = '', edit_gen = edit_gen + 1 WHERE id = %s",
    "view": "UPDATE sessions SET view_token = '', view_gen = view_gen + 1 WHERE id = %s",
}
_ENTRY_COLUMNS = "SELECT seq, ts, kind, origin, data FROM log"
_UPSERT_SNAPSHOT = (
    "INSERT INTO snapshots (room, seq, ts, state, codec)"
    " SELECT %(room)s, %(seq)s, %(ts)s, %(state)s, %(codec)s WHERE "
    + _SNAPSHOT_FENCE_OK
    + " ON CONFLICT (room, seq) DO UPDATE"
    " SET ts = EXCLUDED.ts, state = EXCLUDED.state, codec = EXCLUDED.codec"
    " RETURNING 1"
)
_SNAPSHOT_COLUMNS = "SELECT seq, ts, state, codec FROM snapshots"
_UPSERT_SEEK_BLOCK = (
    "INSERT INTO seek_index (room, seq, ts, end_seq, end_ts, data)"
    " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (room, seq) DO UPDATE"
    " SET ts = EXCLUDED.ts, end_seq = EXCLUDED.end_seq, end_ts = EXCLUDED.end_ts,"
    " data = EXCLUDED.data"
)
_SEEK_COLUMNS = "SELECT seq, ts, end_seq, end_ts, data FROM seek_index"


class StoreUnavailable(RuntimeError):
    """PostgreSQL could not be reached when the store opened."""


class PostgresStore(Store):
    def __init__(
        self,
        url: str,
        *,
        min_size: int = 1,
        max_size: int = 8,
        connect_timeout: float = 10.0,
    ) -> None:
        self.where = describe(url)
        self._url = url
        self._migrate(url, connect_timeout)
        self._pool: ConnectionPool[psycopg.Connection[Row]] = ConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            kwargs={"autocommit": True},
            open=False,
            name="collabd-store",
        )
        try:
            self._pool.open(wait=True, timeout=connect_timeout)
        except PoolTimeout as exc:
            self._pool.close()
            raise StoreUnavailable(f"no connection to PostgreSQL at {self.where}") from exc

    def _migrate(self, url: str, timeout: float) -> None:
        # A direct connection rather than the pool's: an unreachable server fails here at once
        # with libpq's reason, where the pool would retry in the background until its timeout.
        try:
            conn = psycopg.connect(url, autocommit=True, connect_timeout=max(1, round(timeout)))
        except psycopg.OperationalError as exc:
            raise StoreUnavailable(f"cannot reach PostgreSQL at {self.where}: {exc}") from exc
        with conn:
            migrate(conn)

    def close(self) -> None:
        self._pool.close()

    def reopener(self) -> Callable[[], Store]:
        # a pool of one: the other process reads one thing at a time
        return functools.partial(PostgresStore, self._url, max_size=1)

    @property
    def pool(self) -> ConnectionPool[psycopg.Connection[Row]]:
        """The connection pool, for the cluster's leases (kept in the same database)."""
        return self._pool

    # sessions

    def add_session(self, record: SessionRecord) -> None:
        self._execute(
            "INSERT INTO sessions (id, path, edit_token, view_token, created, edit_gen, view_gen)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (
                record.id,
                record.path,
                record.edit_token,
                record.view_token,
                record.created,
                record.edit_gen,
                record.view_gen,
            ),
        )

    def get_session(self, session_id: str) -> SessionRecord | None:
        row = self._one(_SESSION_COLUMNS + " WHERE id = %s", (session_id,))
        return SessionRecord(*row) if row else None

    def session_for_path(self, path: str) -> SessionRecord | None:
        row = self._one(_SESSION_COLUMNS + " WHERE path = %s", (path,))
        return SessionRecord(*row) if row else None

    def sessions(self) -> list[SessionRecord]:
        rows = self._all(_SESSION_COLUMNS + " ORDER BY created, id", ())
        return [SessionRecord(*row) for row in rows]

    # the log

    def append(self, room: str, entries: Sequence[NewEntry], *, fence: int | None = None) -> int:
        if not entries:
            return self._last_seq(room)
        row = self._one(
            _APPEND,
            {
                "room": room,
                "fence": fence,
                "n": len(entries),
                "ts": [float(e.ts) for e in entries],
                "kind": [e.kind for e in entries],
                "origin": [e.origin for e in entries],
                "data": [bytes(e.data) for e in entries],
            },
        )
        if row is None:
            raise Fenced(f"room {room}: lease token {fence} is stale; another hub owns it now")
        return int(row[0])

    def _last_seq(self, room: str) -> int:
        row = self._one("SELECT last_seq FROM rooms WHERE room = %s", (room,))
        return int(row[0]) if row else 0

    def entries(
        self,
        room: str,
        *,
        after_seq: int = 0,
        kinds: Iterable[str] = (UPDATE,),
        until_ts: float | None = None,
        from_ts: float | None = None,
        limit: int | None = None,
    ) -> list[LogEntry]:
        # Conditions only when given (not `%s IS NULL OR …`), so the planner can use the ts index.
        query = _ENTRY_COLUMNS + " WHERE room = %s AND seq > %s AND kind = ANY(%s::text[])"
        args: list[object] = [room, after_seq, list(kinds)]
        if until_ts is not None:
            query += " AND ts <= %s"
            args.append(float(until_ts))
        if from_ts is not None:
            query += " AND ts >= %s"
            args.append(float(from_ts))
        query += " ORDER BY seq"
        if limit is not None:
            query += " LIMIT %s"
            args.append(limit)
        return [LogEntry(*row) for row in self._all(query, args)]

    def count(self, room: str, *, after_seq: int = 0, kinds: Iterable[str] = (UPDATE,)) -> int:
        row = self._one(
            "SELECT count(*) FROM log WHERE room = %s AND seq > %s AND kind = ANY(%s::text[])",
            (room, after_seq, list(kinds)),
        )
        return int(row[0]) if row else 0

    # snapshots

    def add_snapshot(self, room: str, snapshot: Snapshot, *, fence: int | None = None) -> int:
        how, stored = codec.pack(snapshot.state)
        row = self._one(
            _UPSERT_SNAPSHOT,
            {
                "room": room,
                "seq": snapshot.seq,
                "ts": float(snapshot.ts),
                "state": stored,
                "codec": how,
                "fence": fence,
            },
        )
        if row is None:
            raise Fenced(f"room {room}: lease token {fence} is stale; another hub owns it now")
        return len(stored)

    def latest_snapshot(self, room: str, *, until_ts: float | None = None) -> Snapshot | None:
        query: LiteralString = _SNAPSHOT_COLUMNS + " WHERE room = %s"
        args: list[object] = [room]
        if until_ts is not None:
            query += " AND ts <= %s"
            args.append(float(until_ts))
        row = self._one(query + " ORDER BY seq DESC LIMIT 1", args)
        return _snapshot(row)

    # recording: reading and retention

    def snapshot_before(self, room: str, *, seq: int) -> Snapshot | None:
        row = self._one(
            _SNAPSHOT_COLUMNS + " WHERE room = %s AND seq <= %s ORDER BY seq DESC LIMIT 1",
            (room, seq),
        )
        return _snapshot(row)

    def snapshot_index(self, room: str) -> list[tuple[int, float]]:
        rows = self._all("SELECT seq, ts FROM snapshots WHERE room = %s ORDER BY seq", (room,))
        return [(int(seq), float(ts)) for seq, ts in rows]

    def snapshot_sizes(self, room: str) -> list[tuple[int, int]]:
        rows = self._all(
            "SELECT seq, octet_length(state) FROM snapshots WHERE room = %s ORDER BY seq", (room,)
        )
        return [(int(seq), int(size)) for seq, size in rows]

    def entry_index(self, room: str, *, kinds: Iterable[str] = (UPDATE,)) -> list[EntryInfo]:
        rows = self._all(
            "SELECT seq, ts, kind, origin, octet_length(data) FROM log"
            " WHERE room = %s AND kind = ANY(%s::text[]) ORDER BY seq",
            (room, list(kinds)),
        )
        return [EntryInfo(*row) for row in rows]

    def first_by_origin(self, room: str, *, kind: str) -> list[LogEntry]:
        rows = self._all(
            "SELECT * FROM ("
            " SELECT DISTINCT ON (origin) seq, ts, kind, origin, data FROM log"
            " WHERE room = %s AND kind = %s ORDER BY origin, seq) AS firsts"
            " ORDER BY seq",
            (room, kind),
        )
        return [LogEntry(*row) for row in rows]

    def storage_bytes(self, room: str) -> int:
        row = self._one(
            "SELECT (SELECT coalesce(sum(octet_length(data)), 0) FROM log WHERE room = %s)"
            " + (SELECT coalesce(sum(octet_length(state)), 0) FROM snapshots WHERE room = %s)",
            (room, room),
        )
        return int(row[0]) if row else 0

    def trim(self, room: str, start: Snapshot) -> int:
        how, stored = codec.pack(start.state)
        with self._pool.connection() as conn, conn.transaction():
            conn.execute(
                _UPSERT_SNAPSHOT,
                {
                    "room": room,
                    "seq": start.seq,
                    "ts": float(start.ts),
                    "state": stored,
                    "codec": how,
                    "fence": None,
                },
            )
            gone = conn.execute(
                "DELETE FROM log WHERE room = %s AND seq <= %s", (room, start.seq)
            ).rowcount
            conn.execute("DELETE FROM snapshots WHERE room = %s AND seq < %s", (room, start.seq))
            conn.execute("DELETE FROM seek_index WHERE room = %s AND seq < %s", (room, start.seq))
        return int(gone)

    # the seek index

    def add_seek_block(self, room: str, block: SeekBlock) -> None:
        self._execute(
            _UPSERT_SEEK_BLOCK,
            (
                room,
                block.seq,
                float(block.ts),
                block.end_seq,
                float(block.end_ts),
                bytes(block.data),
            ),
        )

    def seek_block(self, room: str, *, until_ts: float) -> SeekBlock | None:
        row = self._one(
            _SEEK_COLUMNS + " WHERE room = %s AND ts <= %s ORDER BY seq DESC LIMIT 1",
            (room, float(until_ts)),
        )
        if row is None:
            return None
        seq, ts, end_seq, end_ts, data = row
        return SeekBlock(int(seq), float(ts), int(end_seq), float(end_ts), bytes(data))

    def seek_index_end(self, room: str) -> tuple[int, float] | None:
        row = self._one(
            "SELECT end_seq, end_ts FROM seek_index WHERE room = %s"
            " ORDER BY end_seq DESC, seq DESC LIMIT 1",
            (room,),
        )
        return (int(row[0]), float(row[1])) if row else None

    def seek_index_bytes(self, room: str) -> int:
        row = self._one(
            "SELECT coalesce(sum(octet_length(data)), 0) FROM seek_index WHERE room = %s", (room,)
        )
        return int(row[0]) if row else 0

    def drop_seek_index(self, room: str) -> int:
        with self._pool.connection() as conn:
            gone = conn.execute("DELETE FROM seek_index WHERE room = %s", (room,)).rowcount
        return int(gone)

    # links

    def add_link(self, link: LinkRecord) -> None:
        self._execute(
            "INSERT INTO links (id, session_id, name, role, token_hash, created, expires,"
            " revoked, last_seen, created_by) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            dataclasses.astuple(link),  # the columns in the record's order
        )

    def links(self, session_id: str) -> list[LinkRecord]:
        rows = self._all(
            _LINK_COLUMNS + " WHERE session_id = %s ORDER BY created, id", (session_id,)
        )
        return [LinkRecord(*row) for row in rows]

    def link_by_hash(self, session_id: str, token_hash: str) -> LinkRecord | None:
        row = self._one(
            _LINK_COLUMNS + " WHERE session_id = %s AND token_hash = %s", (session_id, token_hash)
        )
        return LinkRecord(*row) if row else None

    def revoke_link(self, session_id: str, link_id: str, ts: float) -> LinkRecord | None:
        # The earliest revocation stays: `coalesce` keeps a time already set.
        row = self._one(
            "UPDATE links SET revoked = coalesce(revoked, %s) WHERE session_id = %s AND id = %s"
            " RETURNING id, session_id, name, role, token_hash, created, expires, revoked,"
            " last_seen, created_by",
            (float(ts), session_id, link_id),
        )
        return LinkRecord(*row) if row else None

    def touch_link(self, session_id: str, link_id: str, ts: float) -> None:
        self._execute(
            "UPDATE links SET last_seen = %s WHERE session_id = %s AND id = %s",
            (float(ts), session_id, link_id),
        )

    # grants

    def put_grant(self, grant: GrantRecord) -> None:
        self._execute(
            "INSERT INTO grants (session_id, kind, name, role, created, created_by)"
            " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (session_id, kind, name) DO UPDATE"
            " SET role = EXCLUDED.role, created = EXCLUDED.created,"
            " created_by = EXCLUDED.created_by",
            (
                grant.session_id,
                grant.kind,
                grant.name,
                grant.role,
                float(grant.created),
                grant.created_by,
            ),
        )

    def grants(self, session_id: str) -> list[GrantRecord]:
        rows = self._all(
            _GRANT_COLUMNS + " WHERE session_id = %s ORDER BY created, kind, name", (session_id,)
        )
        return [GrantRecord(*row) for row in rows]

    def grants_for(self, user: str, groups: Sequence[str] = ()) -> list[GrantRecord]:
        rows = self._all(
            _GRANT_COLUMNS + " WHERE (kind = 'user' AND name = %s)"
            " OR (kind = 'group' AND name = ANY(%s)) ORDER BY created, session_id, kind, name",
            (user, list(groups)),
        )
        return [GrantRecord(*row) for row in rows]

    def remove_grant(self, session_id: str, kind: str, name: str) -> bool:
        with self._pool.connection() as conn:
            gone = conn.execute(
                "DELETE FROM grants WHERE session_id = %s AND kind = %s AND name = %s",
                (session_id, kind, name),
            ).rowcount
        return bool(gone)

    def next_generation(self, session_id: str, role: str) -> SessionRecord | None:
        token_column(role)  # refuses any other role
        with self._pool.connection() as conn:
            conn.execute(_NEXT_GENERATION[role], (session_id,))
            row = conn.execute(_SESSION_COLUMNS + " WHERE id = %s", (session_id,)).fetchone()
        return SessionRecord(*row) if row else None

    def delete_session(self, session_id: str) -> bool:
        """Also the room's seq counter and lease (the cluster's rows for it)."""
        with self._pool.connection() as conn, conn.transaction():
            found = conn.execute("DELETE FROM sessions WHERE id = %s", (session_id,)).rowcount
            for statement in (
                "DELETE FROM log WHERE room = %s",
                "DELETE FROM snapshots WHERE room = %s",
                "DELETE FROM seek_index WHERE room = %s",
                "DELETE FROM rooms WHERE room = %s",
                "DELETE FROM leases WHERE room = %s",
                "DELETE FROM links WHERE session_id = %s",
                "DELETE FROM grants WHERE session_id = %s",
            ):
                conn.execute(statement, (session_id,))
        return bool(found)

    # one statement on a pooled connection; binary results, so bytea arrives without hex decoding

    def _execute(self, query: LiteralString, args: Sequence[object] | dict[str, object]) -> None:
        with self._pool.connection() as conn:
            conn.execute(query, args)

    def _one(self, query: LiteralString, args: Sequence[object] | dict[str, object]) -> Row | None:
        with self._pool.connection() as conn:
            return conn.execute(query, args, binary=True).fetchone()

    def _all(self, query: LiteralString, args: Sequence[object]) -> list[Row]:
        with self._pool.connection() as conn:
            return conn.execute(query, args, binary=True).fetchall()


def _snapshot(row: Row | None) -> Snapshot | None:
    if row is None:
        return None
    seq, ts, stored, how = row
    return Snapshot(int(seq), float(ts), codec.unpack(int(how), stored), len(stored))


def describe(url: str) -> str:
    """host:port/dbname of a connection URL or string, without the password, for messages."""
    try:
        parts = conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "(an unparsable connection string)"
    host = parts.get("host") or parts.get("hostaddr") or "localhost"
    return f"{host}:{parts.get('port') or 5432}/{parts.get('dbname') or '(default)'}"
