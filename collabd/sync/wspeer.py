"""A connected websocket as a Peer: sends without awaiting, one encoding for many receivers.

Under uvicorn's websockets (sans-I/O) protocol, frames are written to the transport directly, as
`websockets.broadcast()` does, so a fan-out to N peers costs N cheap writes and no coroutine each.
Better still, a server frame is unmasked and we never compress broadcasts (an uncompressed message
is valid even where permessage-deflate was negotiated), so the frame for a broadcast is encoded
once and the same bytes go to every receiver. Under any other ASGI server, or while a transport
pushes back, frames go through a queue drained by one writer task per connection, in order.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket
from websockets.frames import Frame, Opcode
from websockets.protocol import State

from collabd.sync.wire import Close

log = logging.getLogger("collabd.ws")



class WebSocketPeer:
    def __init__(self, peer_id: int, websocket: WebSocket, max_buffer: int) -> None:
        self.id = peer_id
        self._ws = websocket
        self._max_buffer = max_buffer
        self._direct = _uvicorn_protocol(websocket)
        self._queue: deque[bytes] = deque()
        self._writer: asyncio.Task[None] | None = None
        self._closing: asyncio.Task[None] | None = None
        self.closed = False

    def send(self, data: bytes) -> None:
        if self.closed:
            return
        direct = self._direct
        if direct is not None and not self._queue and direct.writable.is_set():
            if direct.close_sent or direct.conn.state is not State.OPEN:
                return
            if direct.transport.is_closing():
                return
            direct.transport.write(_encoded(data))
            if direct.transport.get_write_buffer_size() > self._max_buffer:
                self.close(Close.TOO_SLOW, "reading too slowly: send buffer limit reached")
            return
        self._queue.append(data)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        try:
            while self._queue and not self.closed:
                await self._ws.send_bytes(self._queue.popleft())
        except Exception as exc:  # the connection went away; the endpoint will see it
            log.debug("peer %s: send failed: %r", self.id, exc)
            self._queue.clear()

    def close(self, code: int, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        self._queue.clear()
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


_last: tuple[bytes, bytes] = (b"", Frame(Opcode.BINARY, b"").serialize(mask=False))


def _encoded(data: bytes) -> bytes:
    """The websocket frame for `data`; a broadcast asks for the same object N times in a row."""
    global _last
    if _last[0] is not data:
        _last = (data, Frame(Opcode.BINARY, data).serialize(mask=False))
    return _last[1]


RAW_SEND = "collabd.raw_send"


class KeepRawSend:
    """ASGI middleware: keep the server's own websocket `send`, before Starlette wraps it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            scope[RAW_SEND] = send
        await self.app(scope, receive, send)


def _uvicorn_protocol(websocket: WebSocket) -> Any:
    """uvicorn's websockets-sansio protocol behind this connection, if that is what serves it."""
    send = websocket.scope.get(RAW_SEND)
    proto = getattr(send, "__self__", None)
    needed = ("conn", "transport", "writable", "close_sent")
    if proto is not None and all(hasattr(proto, name) for name in needed):
        return proto
    return None
