"""Finding 1: a viewer that never reads cannot make the hub queue without bound (real hub)."""

from __future__ import annotations

import asyncio
import os
import random
import socket
import string
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from collabd.client import NotebookClient
from tests.support.hubproc import HubProcess

pytestmark = [pytest.mark.slow]

BUFFER = 1024 * 1024
UPDATE_CHARS = 200_000
PUSHES = 200  # 40 MB through a hub whose per-peer limit is 1 MiB


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def tiny_window_socket(port: int) -> socket.socket:
    """A client socket with a small receive buffer: the hub's writes back up quickly."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.setblocking(False)
    return sock


async def read_until_closed(ws: Any, timeout: float) -> None:
    async def drain() -> None:
        try:
            async for _ in ws:
                pass
        except ConnectionClosed:
            pass

    await asyncio.wait_for(drain(), timeout)


async def test_a_viewer_that_never_reads_is_closed_4408_and_memory_stays_bounded(
    hub_factory: Any,
) -> None:
    hub: HubProcess = hub_factory({"COLLABD_MAX_SEND_BUFFER_BYTES": str(BUFFER)})
    s = hub.create_session("slow.ipynb")
    assert hub.proc is not None
    url = f"ws://127.0.0.1:{hub.port}/ws/{s['id']}?token={s['view_token']}"
    viewer = await connect(
        url, sock=tiny_window_socket(hub.port), max_size=None, max_queue=1, ping_interval=None
    )
    async with NotebookClient(hub.base, s["id"], s["edit_token"], name="editor") as editor:
        cell = editor.insert_cell(0, "")
        await asyncio.sleep(0.5)
        before = rss_bytes(hub.proc.pid)
        rng = random.Random(1)
        for _ in range(PUSHES):
            editor.set_source(cell, "".join(rng.choices(string.ascii_letters, k=UPDATE_CHARS)))
            await asyncio.sleep(0.01)  # let the client's send task run
        await asyncio.sleep(2.0)  # the hub stores and fans out what it got
        grown = rss_bytes(hub.proc.pid) - before
        # the hub still serves the editor, and holds far less than what the viewer missed
        assert editor.connected
        assert grown < PUSHES * UPDATE_CHARS // 2, f"hub grew {grown / 1e6:.0f} MB"
    await read_until_closed(viewer, timeout=60)
    assert viewer.close_code == 4408, (viewer.close_code, viewer.close_reason)
    assert "slow" in (viewer.close_reason or "")
    assert os.path.exists(f"/proc/{hub.proc.pid}")
