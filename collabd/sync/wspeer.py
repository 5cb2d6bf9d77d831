"""A connected websocket as a Peer: sends without awaiting, one encoding for many receivers.

Under uvicorn's websockets (sans-I/O) protocol, frames are written to the transport directly, as
`websockets.broadcast()` does, so a fan-out to N peers costs N cheap writes and no coroutine each.
Better still, a server frame is unmasked and we never compress broadcasts (an uncompressed message
is valid even where permessage-deflate was negotiated), so the frame for a broadcast is encoded
once and the same bytes go to every receiver. Under any other ASGI server, frames go through a
queue drained by one writer task per connection, in order.

Every path is bounded by `max_buffer`: the bytes queued here plus the transport's own write buffer.
A peer that does not read (a tiny receive window, a stalled tab) is closed with 4408 as soon as a
frame would take it over the limit, so the hub never holds more than that for one connection.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from typing import Any

from starlette.websockets import WebSocket
from websockets.frames import Frame, Opcode
from websockets.protocol import State

from collabd.sync.wire import Close

log = logging.getLogger("collabd.ws")


# A peer closed for reading too slowly gets its close frame behind the data it has not read; if
# it still has not read it all after this long, the connection is dropped to free the buffer.
SLOW_CLOSE_GRACE_S = 30.0
TOO_SLOW_REASON = "reading too slowly: send buffer limit reached"


class WebSocketPeer:
    # hundreds of these per room (a lecture's viewers): no per-instance __dict__
    __slots__ = (
        "_closing",
        "_direct",
        "_max_buffer",
        "_queue",
        "_queued_bytes",
        "_writer",
        "_ws",
        "closed",
        "id",
    )

    def __init__(self, peer_id: int, websocket: WebSocket, max_buffer: int) -> None:
        self.id = peer_id
        self._ws = websocket
        self._max_buffer = max_buffer
        self._direct = _uvicorn_protocol(websocket)
        if self._direct is not None:
            _forget_handshake(self._direct)
            _slim_inbox(self._direct)
            _slim_gate(self._direct)
        self._queue: deque[bytes] | None = None  # the queued path only (~600 B when made)
        self._queued_bytes = 0
        self._writer: asyncio.Task[None] | None = None
        self._closing: asyncio.Task[None] | None = None
        self.closed = False

    def take_frames(self, taker: Callable[[Any], None] | None) -> bool:
        """From now on, binary messages read while none is queued go to `taker(message)` at
        once, in the read callback, instead of waiting in the queue for `receive()`; anything
        else (a disconnect, text) is still queued. Returns whether this connection can (uvicorn's
        websockets-sansio protocol with its inbox swapped); None stops it."""
        inbox = self._direct.queue if self._direct is not None else None
        if not isinstance(inbox, Inbox):
            return False
        inbox.take_frames(taker)
        return True

    def send(self, data: bytes) -> None:
        if self.closed:
            return
        if self._direct is not None:
            self._send_direct(self._direct, data)
        else:
            self._send_queued(data)

    def _send_direct(self, direct: Any, data: bytes) -> None:
        """Write to uvicorn's transport now; its buffer is the only queue, and it is bounded."""
        if direct.close_sent or direct.conn.state is not State.OPEN:
            return
        transport = direct.transport
        if transport.is_closing():
            return
        # What is still unread from before decides, so that one frame larger than the limit
        # still reaches a reader that keeps up; memory stays under the limit plus one frame.
        if transport.get_write_buffer_size() > self._max_buffer:
            self.close(Close.TOO_SLOW, TOO_SLOW_REASON)
            return
        transport.write(_encoded(data))

    def _send_queued(self, data: bytes) -> None:
        if self._queued_bytes > self._max_buffer:
            self.close(Close.TOO_SLOW, TOO_SLOW_REASON)
            return
        if self._queue is None:
            self._queue = deque()
        self._queue.append(data)
        self._queued_bytes += len(data)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        try:
            while self._queue and not self.closed:
                data = self._queue.popleft()
                self._queued_bytes -= len(data)
                await self._ws.send_bytes(data)
        except Exception as exc:  # the connection went away; the endpoint will see it
            log.debug("peer %s: send failed: %r", self.id, exc)
            self._clear_queue()

    def _clear_queue(self) -> None:
        self._queue = None
        self._queued_bytes = 0

    def close(self, code: int, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        self._clear_queue()
        direct = self._direct
        if direct is not None and not direct.writable.is_set():
            # uvicorn's own close waits for the transport to drain, which a peer that does not
            # read never lets happen: the close would hang and the buffer stay for good.
            _close_behind_unread(direct, code, reason)
            return
        self._closing = asyncio.get_running_loop().create_task(self._close(code, reason))

    async def wait_closed(self) -> None:
        """Let a close started by `close()` finish sending its frame."""
        if self._closing is not None:
            await self._closing

    async def _close(self, code: int, reason: str) -> None:
        try:
            await self._ws.close(code, reason)
        except Exception as exc:
            log.debug("peer %s: close failed: %r", self.id, exc)


def _forget_handshake(direct: Any) -> None:
    """Drop the handshake's request and response (headers and all: ~3.5 KiB) that uvicorn's
    protocol keeps for the connection's life but reads only until the accept was sent."""
    if getattr(direct, "handshake_complete", False):
        for name in ("request", "response"):
            if hasattr(direct, name):
                setattr(direct, name, None)


# uvicorn stops reading after every frame and reads on once the endpoint took it: two epoll
# calls per frame, ~15 % of the hub's CPU with 50 editors typing. An Inbox lets the transport
# read ahead up to this much instead (the endpoint takes frames as fast as they come).
READ_AHEAD_FRAMES = 64
READ_AHEAD_BYTES = 1024 * 1024


class Inbox:
    """What uvicorn's protocol needs of its receive queue (`put_nowait`, `get`, `empty`,
    `qsize`) for its one reader, the endpoint: ~0.2 KB where an `asyncio.Queue` and its four
    deques and Event take ~2.4 KB, for as long as the connection lives.

    It also takes over uvicorn's flow control: uvicorn pauses reading when a frame arrives
    unless it believes reading is paused already, and resumes once the queue is empty. The
    inbox says it is (`read_paused`) and pauses the transport for real only past the
    read-ahead bounds; uvicorn's resume, once the endpoint has emptied it, lifts that pause."""

    __slots__ = ("_bytes", "_items", "_proto", "_taker", "_waiter")

    def __init__(self, items: list[Any], proto: Any = None) -> None:
        self._items = items
        self._bytes = sum(_size(m) for m in items)
        self._proto = proto
        self._waiter: asyncio.Future[None] | None = None
        self._taker: Callable[[Any], None] | None = None

    def take_frames(self, taker: Callable[[Any], None] | None) -> None:
        """Hand binary messages to `taker` as they are read (None: queue them again)."""
        self._taker = taker

    def put_nowait(self, item: Any) -> None:
        taker = self._taker
        if taker is not None and not self._items and "bytes" in item:
            # taken in the protocol's read callback, as the Node servers do: applied and on its
            # way to the room's flush in the same loop pass that read it, not two passes later
            # through the reader's task. Only with nothing queued ahead of it, so order holds.
            if self._proto is not None:
                self._proto.read_paused = True  # so uvicorn does not pause reading
            taker(item)
            return
        self._items.append(item)
        self._bytes += _size(item)
        proto = self._proto
        if proto is not None:
            if len(self._items) >= READ_AHEAD_FRAMES or self._bytes >= READ_AHEAD_BYTES:
                proto.transport.pause_reading()
            proto.read_paused = True
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def get(self) -> Any:
        while not self._items:
            if self._waiter is not None:  # a second reader would never be woken: say so
                raise RuntimeError("an Inbox has one reader")
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        item = self._items.pop(0)  # at most READ_AHEAD_FRAMES
        self._bytes -= _size(item)
        return item

    def empty(self) -> bool:
        return not self._items

    def qsize(self) -> int:
        return len(self._items)


def _size(message: Any) -> int:
    data = message.get("bytes") or message.get("text") or b""
    return len(data)


def _slim_inbox(direct: Any) -> None:
    """Swap uvicorn's receive queue for an `Inbox` holding the same messages, unless someone
    is waiting on it (nobody is once the endpoint accepted: it reads only later)."""
    queue = direct.queue
    if type(queue) is not asyncio.Queue or getattr(queue, "_getters", None):
        return
    items = []
    while not queue.empty():
        items.append(queue.get_nowait())
    direct.queue = Inbox(items, direct)


class Gate:
    """What uvicorn's protocol needs of its `writable` event (`set`, `clear`, `is_set`,
    `wait`): an `asyncio.Event` without the deque it makes up front (~0.75 KB)."""

    __slots__ = ("_open", "_waiters")

    def __init__(self, is_open: bool) -> None:
        self._open = is_open
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self._open

    def set(self) -> None:
        self._open = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self._open = False

    async def wait(self) -> bool:
        if self._open:
            return True
        waiter = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(waiter)
        try:
            await waiter
        finally:
            if self._waiters is not None and waiter in self._waiters:
                self._waiters.remove(waiter)
        return True


def _slim_gate(direct: Any) -> None:
    """Swap uvicorn's `writable` event for a `Gate` in the same state, unless a send waits on
    it (none does between the accept and the first frame)."""
    event = direct.writable
    if type(event) is asyncio.Event and not getattr(event, "_waiters", None):
        direct.writable = Gate(event.is_set())


def _close_behind_unread(direct: Any, code: int, reason: str) -> None:
    """Queue the close frame behind the unread data, end the endpoint's receive loop at once,
    and drop the connection if the client has not read up to the close within the grace."""
    if direct.close_sent or direct.conn.state is not State.OPEN:
        return
    transport = direct.transport
    if transport.is_closing():
        return
    direct.conn.send_close(code, reason)
    transport.write(b"".join(direct.conn.data_to_send()))
    direct.close_sent = True
    direct.queue.put_nowait({"type": "websocket.disconnect", "code": code, "reason": reason})
    # abort() on a transport that has closed meanwhile does nothing
    asyncio.get_running_loop().call_later(SLOW_CLOSE_GRACE_S, transport.abort)


_last: tuple[bytes, bytes] = (b"", Frame(Opcode.BINARY, b"").serialize(mask=False))


def _encoded(data: bytes) -> bytes:
    """The websocket frame for `data`; a broadcast asks for the same object N times in a row."""
    global _last
    if _last[0] is not data:
        _last = (data, Frame(Opcode.BINARY, data).serialize(mask=False))
    return _last[1]


# the server's own websocket `send`, kept in the scope before Starlette wraps it
# (`collabd.api.ws.DirectJoin`)
RAW_SEND = "collabd.raw_send"


def _uvicorn_protocol(websocket: WebSocket) -> Any:
    """uvicorn's websockets-sansio protocol behind this connection, if that is what serves it."""
    send = websocket.scope.get(RAW_SEND)
    proto = getattr(send, "__self__", None)
    needed = ("conn", "transport", "writable", "close_sent", "queue")
    if proto is not None and all(hasattr(proto, name) for name in needed):
        return proto
    return None
