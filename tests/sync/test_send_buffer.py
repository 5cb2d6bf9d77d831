"""The send-buffer limit, through uvicorn (the only server whose transport buffer the hub sees):
a participant that stops reading is closed with 4408 once its unread data passes the limit
(README: MAX_SEND_BUFFER_BYTES), and the others go on."""

from __future__ import annotations

import base64
import os
import socket
import struct

import pytest
from pycrdt import Doc
from websockets.frames import Frame, Opcode

from collabd.client import NotebookClient
from collabd.sync import protocol
from collabd.sync.wire import Close
from tests.support.hubproc import HubFactory

pytestmark = pytest.mark.slow  # a hub process and 16 MB through it

LIMIT = 256 * 1024
CHUNK = 256 * 1024
CHUNKS = 64  # 16 MB for the stalled reader: 64 times its limit, past any socket buffer


def stalled_reader(port: int, path: str) -> socket.socket:
    """A websocket client that sends its sync step 1 and then reads nothing (a tiny receive
    buffer, so the hub's unread data piles up on the hub's side)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    sock.sendall(request.encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert b" 101 " in head.split(b"\r\n")[0], head
    step1 = protocol.sync_step1(Doc().get_state())
    sock.sendall(Frame(Opcode.BINARY, step1).serialize(mask=True))
    return sock


def read_all(sock: socket.socket, quiet_s: float = 10.0) -> bytes:
    """Everything until the hub closes the socket, or sends nothing for `quiet_s`."""
    sock.settimeout(quiet_s)
    data = bytearray()
    try:
        while chunk := sock.recv(1 << 20):
            data += chunk
    except TimeoutError:
        pass
    return bytes(data)


def frames(data: bytes) -> list[tuple[int, bytes]]:
    """(opcode, payload) of each (unmasked, server) frame in `data`."""
    found, at = [], 0
    while at + 2 <= len(data):
        opcode, length = data[at] & 0x0F, data[at + 1] & 0x7F
        at += 2
        if length == 126:
            (length,) = struct.unpack("!H", data[at : at + 2])
            at += 2
        elif length == 127:
            (length,) = struct.unpack("!Q", data[at : at + 8])
            at += 8
        found.append((opcode, data[at : at + length]))
        at += length
    return found


async def test_a_reader_that_stops_reading_is_closed_and_the_others_go_on(
    hub_factory: HubFactory,
) -> None:
    hub = hub_factory(env={"COLLABD_MAX_SEND_BUFFER_BYTES": str(LIMIT)})
    s = hub.create_session("slow.ipynb")
    stalled = stalled_reader(hub.port, f"/ws/{s['id']}?token={s['view_token']}")
    try:
        writer = NotebookClient.from_link(s["edit_url"], name="writer")
        fast = NotebookClient.from_link(s["view_url"], name="fast")
        async with writer, fast:
            cell = writer.cell_ids()[0]
            for i in range(CHUNKS):
                writer.insert_text(cell, 0, "x" * CHUNK)
                await fast.wait_for(lambda i=i: len(fast.source(cell)) == (i + 1) * CHUNK, 60)
            assert fast.connected and writer.connected  # the others went on
        received = frames(read_all(stalled))
    finally:
        stalled.close()
    closes = [payload for opcode, payload in received if opcode == Opcode.CLOSE]
    sent = sum(len(payload) for opcode, payload in received if opcode == Opcode.BINARY)
    assert closes, f"never closed: it was sent {sent} bytes, {sent // LIMIT} times its limit"
    assert struct.unpack("!H", closes[0][:2])[0] == Close.TOO_SLOW
    assert b"send buffer" in closes[0][2:]
