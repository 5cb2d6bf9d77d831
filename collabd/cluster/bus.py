"""The relay between hubs: Redis Streams, one inbound stream per room and one per hub.

A hub that does not own a room sends its participants' joins, frames and leaves to the room's
stream (`collabd:room:<id>:in`), which the owner reads in order; the owner sends frames and
closes for those participants to each hub's stream (`collabd:node:<node>:out`). Streams, not
pub/sub: entries are ordered and kept (capped), so a reader that reconnects goes on from the last
id it saw instead of silently missing what was sent meanwhile.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

Fields = dict[bytes, bytes]

if TYPE_CHECKING:  # redis takes ~0.25 s to import: a hub outside a cluster never does
    import redis.asyncio as aioredis
    from redis.typing import EncodableT, FieldT

    OutFields = dict[FieldT, EncodableT]
else:
    OutFields = dict
STREAM_MAXLEN = 10_000  # entries kept per stream (approximately): catch-up room for a slow reader


def entry_age(entry_id: bytes) -> float:
    """Seconds since Redis added the entry (its id starts with Redis' clock in ms)."""
    return max(0.0, time.time() - int(entry_id.split(b"-", 1)[0]) / 1000)


def room_stream(room: str) -> str:
    return f"collabd:room:{room}:in"


def node_stream(node: str) -> str:
    return f"collabd:node:{node}:out"


def node_key(node: str) -> str:
    return f"collabd:node:{node}:alive"


class Bus:
    def __init__(self, url: str) -> None:
        self.url = url
        import redis.asyncio as aioredis

        self._redis: aioredis.Redis = aioredis.from_url(url, socket_connect_timeout=5)

    async def close(self) -> None:
        await self._redis.aclose()

    async def ping(self) -> bool:
        return bool(await self._redis.ping())

    async def add(self, stream: str, fields: OutFields) -> bytes:
        entry_id = await self._redis.xadd(stream, fields, maxlen=STREAM_MAXLEN, approximate=True)
        return entry_id if isinstance(entry_id, bytes) else entry_id.encode()

    async def add_many(self, stream: str, entries: list[OutFields]) -> None:
        """Several entries in one round trip, in order."""
        pipe = self._redis.pipeline(transaction=False)
        for fields in entries:
            pipe.xadd(stream, fields, maxlen=STREAM_MAXLEN, approximate=True)
        await pipe.execute()

    async def add_each(self, entries: list[tuple[str, OutFields]]) -> None:
        """Entries to several streams in one round trip, in order (a pipeline: Redis runs its
        commands in the order sent)."""
        pipe = self._redis.pipeline(transaction=False)
        for stream, fields in entries:
            pipe.xadd(stream, fields, maxlen=STREAM_MAXLEN, approximate=True)
        await pipe.execute()

    async def last_id(self, stream: str) -> bytes:
        """The id of the newest entry ("0-0" for an empty stream): read after it for what is new."""
        newest: Any = await self._redis.xrevrange(stream, count=1)
        return bytes(newest[0][0]) if newest else b"0-0"

    async def read(
        self, stream: str, after: bytes, block_ms: int, count: int = 500
    ) -> list[tuple[bytes, Fields]]:
        """Entries after id `after`, waiting up to `block_ms` for the first one."""
        result: Any = await self._redis.xread({stream: after}, count=count, block=block_ms)
        if not result:
            return []
        entries = result[0][1] if isinstance(result, list) else next(iter(result.values()))[0]
        return [(bytes(entry_id), dict(fields)) for entry_id, fields in entries]

    async def heartbeat(self, node: str, ttl_ms: int) -> None:
        await self._redis.set(node_key(node), b"1", px=ttl_ms)

    async def alive(self, node: str) -> bool:
        return bool(await self._redis.exists(node_key(node)))
