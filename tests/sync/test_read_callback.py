"""Frames taken in uvicorn's read callback (`WebSocketPeer.take_frames`), through a hub process
over real websockets: a bad frame closes only its sender, with the code and reason it would get
from the endpoint's loop, and everyone else's edits go on."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import websockets
from pycrdt import Doc

from collabd.client import NotebookClient
from collabd.sync import protocol
from collabd.sync.wire import Close
from tests.support.hubproc import HubFactory

pytestmark = pytest.mark.slow  # a hub process

LIMITS = {
    "COLLABD_MAX_MESSAGE_BYTES": "100000",
    "COLLABD_RATE_MESSAGES_PER_S": "5",
    "COLLABD_RATE_BURST": "20",
}
BAD = [
    ([b"\x00\x02\x09ab"], Close.BAD_FRAME),  # length prefix past the end
    ([b"\x07"], Close.BAD_FRAME),  # unknown message type
    ([protocol.update(b"\x05\xff\xff\xff\x0f")], Close.BAD_UPDATE),  # pycrdt cannot apply it
    ([b"\x01" + b"\x00" * 200_000], Close.TOO_BIG),
    ([protocol.awareness(b"\x00")] * 100, Close.RATE),
]


async def _closed_by(url: str, frames: list[bytes]) -> tuple[int, str]:
    """Join (sync step 1 first, so the hub has taken the participant in), wait until the hub
    has answered, then send `frames` as fast as they go; the close code and reason."""
    async with websockets.connect(url, max_size=None) as ws:
        await ws.send(protocol.sync_step1(Doc().get_state()))
        await asyncio.wait_for(ws.recv(), 30)  # admitted: frames from now on are read directly
        try:
            for frame in frames:
                await ws.send(frame)
            while True:
                await asyncio.wait_for(ws.recv(), 30)
        except websockets.ConnectionClosed as exc:
            assert exc.rcvd is not None, "the hub did not say why it closed"
            return exc.rcvd.code, exc.rcvd.reason
    raise AssertionError("unreachable")


async def test_bad_frames_read_directly_close_only_their_sender(hub_factory: HubFactory) -> None:
    hub = hub_factory(env=LIMITS)
    s = hub.create_session("direct.ipynb")
    url = f"ws://127.0.0.1:{hub.port}/ws/{s['id']}?token={s['edit_token']}"
    writer = NotebookClient.from_link(s["edit_url"], name="writer")
    reader = NotebookClient.from_link(s["view_url"], name="reader")
    async with writer, reader:
        cell = writer.cell_ids()[0]
        for n, (frames, code) in enumerate(BAD, 1):
            got: Any = await _closed_by(url, frames)
            assert got[0] == code and got[1], (frames[0][:8], got)
            writer.insert_text(cell, 0, "x")  # the others are unharmed, and so is the document
            await reader.wait_for(lambda n=n: reader.source(cell) == "x" * n, 30)
        assert writer.connected and reader.connected
    assert "Exception in callback" not in hub.log()  # nothing escaped into uvicorn's protocol
