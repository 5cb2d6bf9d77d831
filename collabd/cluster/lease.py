"""Session ownership in a cluster: one lease per room in PostgreSQL, with a fencing token.

The owner of a room is the hub whose lease has not expired. Taking a room over (its lease
expired, or was released) increments the token and copies it to `rooms.fence` in the same
transaction; every write of the owner carries its token and the store refuses a stale one
(`collabd.store.base.Fenced`), so a hub that lost its lease — paused, partitioned, slow to notice
— can never write after the new owner started. Times are the database's clock, so hubs' clocks
need not agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the driver is imported by the store a cluster needs, not by every hub
    import psycopg
    from psycopg_pool import ConnectionPool

_NOW = "extract(epoch from clock_timestamp())"

# Takes the lease when it is free (no row, expired, or released); the token grows by one per
# takeover. The rooms row is written under its row lock, which an append in flight also holds.
_ACQUIRE = f"""
INSERT INTO leases AS l (room, node, node_url, token, expires_at)
VALUES (%(room)s, %(node)s, %(url)s, 1, {_NOW} + %(ttl)s)
ON CONFLICT (room) DO UPDATE
    SET node = EXCLUDED.node, node_url = EXCLUDED.node_url, token = l.token + 1,
        expires_at = EXCLUDED.expires_at
    WHERE l.expires_at < {_NOW}
RETURNING token
"""
_FENCE = """
INSERT INTO rooms AS r (room, last_seq, fence) VALUES (%(room)s, 0, %(token)s)
ON CONFLICT (room) DO UPDATE SET fence = EXCLUDED.fence
"""
_RENEW = f"""
UPDATE leases SET expires_at = {_NOW} + %(ttl)s
WHERE room = %(room)s AND node = %(node)s AND token = %(token)s
RETURNING token
"""
_RELEASE = "UPDATE leases SET expires_at = 0 WHERE room = %(room)s AND token = %(token)s"
_OWNER = f"SELECT node, node_url, token, expires_at > {_NOW} FROM leases WHERE room = %s"
_OWNED = f"SELECT room FROM leases WHERE node = %s AND expires_at > {_NOW} ORDER BY room"


@dataclass(frozen=True, slots=True)
class Lease:
    room: str
    node: str
    node_url: str
    token: int
    live: bool  # not expired


class Leases:
    """Blocking calls (run them off the event loop); one instance per hub."""

    def __init__(
        self, pool: ConnectionPool[psycopg.Connection[Any]], node: str, node_url: str, ttl: float
    ) -> None:
        self._pool = pool
        self.node, self.node_url, self.ttl = node, node_url, ttl

    def _connection(self) -> Any:
        # Waiting for a pooled connection longer than a lease lives is pointless: the answer
        # would come too late to keep a lease, and a database that is away must show at once.
        return self._pool.connection(timeout=self.ttl)

    def ping(self) -> None:
        """Raise when the database cannot be reached."""
        with self._connection() as conn:
            conn.execute("SELECT 1")

    def acquire(self, room: str) -> int | None:
        """This hub's new token if it took the room, else None (someone else holds it)."""
        with self._connection() as conn, conn.transaction():
            row = conn.execute(
                _ACQUIRE, {"room": room, "node": self.node, "url": self.node_url, "ttl": self.ttl}
            ).fetchone()
            if row is None:
                return None
            token = int(row[0])
            conn.execute(_FENCE, {"room": room, "token": token})
            return token

    def renew(self, room: str, token: int) -> bool:
        """Extend the lease; False when it is no longer ours (taken over, or released)."""
        with self._connection() as conn:
            args = {"room": room, "node": self.node, "token": token, "ttl": self.ttl}
            return conn.execute(_RENEW, args).fetchone() is not None

    def release(self, room: str, token: int) -> None:
        """Give the room up now (a graceful stop): the next hub that asks takes it at once."""
        with self._connection() as conn:
            conn.execute(_RELEASE, {"room": room, "token": token})

    def owner(self, room: str) -> Lease | None:
        with self._connection() as conn:
            row = conn.execute(_OWNER, (room,)).fetchone()
        return Lease(room, row[0], row[1], int(row[2]), bool(row[3])) if row else None

    def owned(self) -> list[str]:
        with self._connection() as conn:
            return [row[0] for row in conn.execute(_OWNED, (self.node,)).fetchall()]
