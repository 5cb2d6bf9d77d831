"""Finding 6 (medium): a failing store (disk full) is reported, not silently retried.

In process: the hub runs under uvicorn on loopback with a SQLite store whose append can be made to
fail the way a full disk does; clients are real websockets and HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import httpx
import pytest
import uvicorn
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from collabd import __version__
from collabd.api.app import build_hub, create_app
from collabd.client import NotebookClient
from collabd.settings import Settings
from collabd.store import NewEntry, SQLiteStore
from tests.support.hubproc import free_port


class DiskFullStore(SQLiteStore):
    failing = False

    def append(self, room: str, entries: Sequence[NewEntry], *, fence: int | None = None) -> int:
        if self.failing:
            raise sqlite3.OperationalError("database or disk is full")
        return super().append(room, entries, fence=fence)

    def append_now(
        self, room: str, entries: Sequence[NewEntry], *, fence: int | None = None
    ) -> int | None:
        if self.failing:  # a full disk fails the append on the event loop the same way
            raise sqlite3.OperationalError("database or disk is full")
        return super().append_now(room, entries, fence=fence)


@contextlib.asynccontextmanager
async def serving(tmp_path: Path, store: DiskFullStore) -> AsyncIterator[str]:
    (tmp_path / "root").mkdir()
    settings = Settings(token="admin", root=tmp_path / "root", data=tmp_path / "data")
    settings.port = free_port()
    app = create_app(settings, build_hub(settings, store))
    config = uvicorn.Config(
        app, host="127.0.0.1", port=settings.port, ws="websockets-sansio", log_level="warning"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done()
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{settings.port}"
    finally:
        server.should_exit = True
        await task


async def health(http: httpx.AsyncClient) -> tuple[int, dict[str, object]]:
    reply = await http.get("/api/health")
    return reply.status_code, reply.json()


async def test_disk_full_shows_in_health_newcomers_and_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = DiskFullStore(tmp_path / "data" / "collabd.sqlite3")
    caplog.set_level(logging.ERROR, logger="collabd")
    async with serving(tmp_path, store) as base, httpx.AsyncClient(base_url=base) as http:
        created = await http.post(
            "/api/sessions", json={"path": "full.ipynb"}, headers={"Authorization": "Bearer admin"}
        )
        s = created.json()
        async with NotebookClient(base, s["id"], s["edit_token"], name="ada") as ada:
            assert await health(http) == (200, {"ok": True, "version": __version__, "rooms": 1})
            store.failing = True
            ada.insert_cell(0, "print('kept for later')")
            for _ in range(100):
                status, body = await health(http)
                if status == 503:
                    break
                await asyncio.sleep(0.05)
            assert (status, body["ok"], body["store"]) == (503, False, "database or disk is full")

            ws_url = base.replace("http", "ws") + f"/ws/{s['id']}?token={s['view_token']}"
            async with connect(ws_url) as newcomer:
                with contextlib.suppress(ConnectionClosed):
                    await asyncio.wait_for(newcomer.recv(), 10)
            assert newcomer.close_code == 1011
            assert "disk is full" in (newcomer.close_reason or "")
            assert any("database or disk is full" in r.getMessage() for r in caplog.records)
            ada.insert_cell(1, "print('and this, after it')")  # waits behind the first
            await asyncio.sleep(0.2)

            store.failing = False  # space freed: the pending edit is written, joins work again
            for _ in range(100):
                if (await health(http))[0] == 200:
                    break
                await asyncio.sleep(0.05)
            assert (await health(http))[0] == 200
            async with NotebookClient(base, s["id"], s["view_token"], name="late") as late:
                sources = [c["source"] for c in late.cells()]
                assert sources[:2] == ["print('kept for later')", "print('and this, after it')"]
        # each edit was appended once, in the order it was made
        logged = [e.data for e in store.entries(s["id"])]
        assert len(logged) == len(set(logged))
