"""Redis restarted in the middle of a session (its own redis-server, emptied by the restart)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from collabd.client import NotebookClient
from tests.cluster.conftest import Cluster, health
from tests.support.hubproc import free_port

pytestmark = [pytest.mark.slow]
WAIT = 60.0


class RedisServer:
    def __init__(self, port: int, folder: Path) -> None:
        self.port, self.folder = port, folder
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is needed (Debian's redis-server package)"
        args = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        args += ["--appendonly", "no", "--dir", str(self.folder)]
        self.proc = subprocess.Popen(
            [binary, *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while (
            subprocess.run(
                ["redis-cli", "-p", str(self.port), "ping"], capture_output=True
            ).stdout.strip()
            != b"PONG"
        ):
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(free_port(), tmp_path)
    server.start()
    yield server
    server.stop()


async def wait_health(hub: Any, ok: bool) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT
    while True:
        status, body = health(hub)
        if (status == 200) == ok:
            return body
        assert time.monotonic() < deadline, body
        await asyncio.sleep(0.2)


async def test_a_redis_restart_loses_nothing_and_the_relay_resumes(
    cluster_factory: Any, redis_server: RedisServer
) -> None:
    cluster: Cluster = cluster_factory(2, env={"COLLABD_REDIS_URL": redis_server.url})
    session = cluster.hubs[0].create_session("redis.ipynb")
    ann = NotebookClient(cluster.hubs[0].base, session["id"], session["edit_token"], name="ann")
    bob = NotebookClient(cluster.hubs[1].base, session["id"], session["edit_token"], name="bob")
    await ann.connect()
    await ann.wait_synced()
    assert cluster.owner_of(session["id"]) == 0
    await bob.connect()
    await bob.wait_synced()
    try:
        cell = ann.insert_cell(0, "a = 1")
        await bob.wait_for(lambda: cell in bob.cell_ids(), WAIT)

        redis_server.stop()
        down = await wait_health(cluster.hubs[1], ok=False)  # what is down is said, with 503
        assert down["redis"] != "ok" and down["database"] == "ok"
        await bob.wait_for(lambda: not bob.connected, WAIT)  # the relay is gone: told so
        assert bob.close_code == 1011, bob.closed_because
        ann.insert_text(cell, 0, "# during the outage\n")  # the owner's own clients go on
        bob.insert_text(cell, len(bob.source(cell)), "\nb = 2")  # offline on the other side

        redis_server.start()  # empty: every stream is gone
        await wait_health(cluster.hubs[1], ok=True)
        deadline = time.monotonic() + WAIT
        while not bob.connected:
            try:
                await bob.reconnect(timeout=10)
            except Exception:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.5)
        expected = "# during the outage\na = 1\nb = 2"
        for c in (ann, bob):
            await c.wait_for(lambda c=c: c.source(cell) == expected, WAIT)
        bob.insert_text(cell, 0, "# after\n")  # and the relay works again both ways
        await ann.wait_for(lambda: ann.source(cell).startswith("# after\n# during"), WAIT)
    finally:
        await ann.close()
        await bob.close()
