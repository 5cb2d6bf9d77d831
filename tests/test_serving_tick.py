"""The server's main loop wakes once a second, not ten times, and a stop still ends it at once.

In process: the real app under `HubServer` on loopback; the tick is made an hour long, so a stop
that waited for the next tick would never finish within the test's limit.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import httpx
import pytest
import uvicorn

from collabd import serving
from collabd.api.app import create_app
from collabd.serving import HubServer
from collabd.settings import Settings
from tests.support.hubproc import free_port


async def test_a_stop_ends_the_main_loop_without_waiting_for_its_tick(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(serving, "TICK_S", 3600.0)
    (tmp_path / "root").mkdir()
    settings = Settings(token="admin", root=tmp_path / "root", data=tmp_path / "data")
    settings.port = free_port()
    app = create_app(settings)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=settings.port, ws="websockets-sansio", log_level="warning"
    )
    server = HubServer(config, app.state.hub)
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done()
        await asyncio.sleep(0.05)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.port}") as http:
        reply = await http.get("/api/health")
        assert reply.status_code == 200 and reply.headers["date"]  # set by the first tick
    server.handle_exit(signal.SIGTERM, None)  # as the signal handler calls it
    await asyncio.wait_for(task, 30)
    assert server.should_exit
