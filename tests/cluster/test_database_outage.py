"""PostgreSQL refusing connections for a while, under a cluster of two hubs (through a proxy);
and PostgreSQL that stops answering, which must not stop a hub telling the others it lives."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis

from collabd.client import NotebookClient
from collabd.cluster.bus import node_key
from tests.cluster.conftest import LEASE_TTL_S, REDIS_URL, Cluster, health
from tests.cluster.tcpproxy import TcpProxy

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
WAIT = 90.0


@pytest.fixture
def pg_proxy(pg_url: str) -> Iterator[tuple[TcpProxy, str]]:
    parts = urlsplit(pg_url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    yield proxy, parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}").geturl()
    proxy.stop()


async def until(predicate: Any, what: str) -> None:
    print(time.strftime("%X"), "waiting for", what, flush=True)
    deadline = time.monotonic() + WAIT
    while not predicate():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.2)


async def online(c: NotebookClient) -> None:
    """Reconnect until the hub takes the client again (it refuses with 1011 while it cannot)."""
    deadline = time.monotonic() + WAIT
    while not c.connected:
        try:
            await c.reconnect(timeout=10)
        except Exception:
            assert time.monotonic() < deadline, c.closed_because
            await asyncio.sleep(0.5)


async def test_a_database_outage_shows_in_health_loses_nothing_and_resumes(
    pg_proxy: tuple[TcpProxy, str], cluster_factory: Any
) -> None:
    # pg_proxy first: fixtures are torn down in reverse, so the hubs stop while their database
    # is still reachable (a hub stopping without one waits out its 30 s hand-over limit)
    proxy, url = pg_proxy
    cluster: Cluster = cluster_factory(2, env={"COLLABD_DATABASE_URL": url})
    session = cluster.hubs[0].create_session("outage.ipynb")
    ann = NotebookClient(cluster.hubs[0].base, session["id"], session["edit_token"], name="ann")
    bob = NotebookClient(cluster.hubs[1].base, session["id"], session["edit_token"], name="bob")
    try:
        await ann.connect()
        await ann.wait_synced()
        await bob.connect()
        await bob.wait_synced()
        cell = ann.insert_cell(0, "x = 1")
        await bob.wait_for(lambda: cell in bob.cell_ids(), WAIT)

        proxy.cut()
        ann.insert_text(cell, 0, "# typed while the database was away\n")
        await until(lambda: health(cluster.hubs[0])[0] == 503, "health says nothing")
        _, body = health(cluster.hubs[0])
        assert not body["ok"] and ("store" in body or body["database"] != "ok")
        # what could not be stored was not sent
        await asyncio.sleep(1.0)
        assert not bob.source(cell).startswith("# typed while")
        # the participants are told, with a close code, and come back when the database does
        await until(lambda: not ann.connected and not bob.connected, "clients were not told")
        assert {ann.close_code, bob.close_code} <= {1011, 1012}, (
            ann.closed_because,
            bob.closed_because,
        )
        proxy.restore()
        await until(lambda: all(health(h)[0] == 200 for h in cluster.hubs), "no recovery")
        await online(ann)
        await online(bob)
        expected = "# typed while the database was away\nx = 1"
        for c in (ann, bob):
            await c.wait_for(lambda c=c: c.source(cell) == expected, WAIT)
        bob.insert_text(cell, len(expected), "\ny = 2")
        await ann.wait_for(lambda: ann.source(cell).endswith("y = 2"), WAIT)
    finally:
        await ann.close()
        await bob.close()


async def test_a_database_that_stops_answering_does_not_stop_the_heartbeat(
    pg_proxy: tuple[TcpProxy, str], cluster_factory: Any
) -> None:
    """Other hubs take a hub whose heartbeat lapsed for dead and send its participants away; a
    PostgreSQL that hangs (its ping waits) must not make the heartbeat lapse."""
    proxy, url = pg_proxy
    cluster: Cluster = cluster_factory(1, env={"COLLABD_DATABASE_URL": url})
    node = health(cluster.hubs[0])[1]["node"]
    client = redis.Redis.from_url(REDIS_URL)
    try:
        proxy.hang()
        await until(lambda: health(cluster.hubs[0])[0] == 503, "health says the database hangs")
        deadline = time.monotonic() + 3 * LEASE_TTL_S  # longer than a heartbeat lives
        while time.monotonic() < deadline:
            assert client.exists(node_key(node)), "the heartbeat lapsed"
            await asyncio.sleep(0.1)
    finally:
        proxy.restore()
        client.close()
