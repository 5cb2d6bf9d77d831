"""Random edits, random disconnects and random hub kills: every replica, a fresh joiner and the
.ipynb end equal, and nothing is duplicated (a seeded random walk per case: failures replay)."""

from __future__ import annotations

import asyncio
import json
import random
import time
from pathlib import Path
from typing import Any

import pytest

from collabd.client import NotebookClient
from tests.cluster.conftest import Cluster

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]  # kills and restarts, on a busy machine
WAIT = 60.0
STEPS = 40


class Walk:
    def __init__(self, cluster: Cluster, session: dict[str, Any], seed: int) -> None:
        self.cluster, self.session = cluster, session
        self.rnd = random.Random(seed)
        self.clients: list[NotebookClient] = []
        self.markers: list[str] = []  # text each inserted exactly once, somewhere
        self.down: set[int] = set()

    def live_hubs(self) -> list[int]:
        return [i for i in range(len(self.cluster.hubs)) if i not in self.down]

    async def join(self, name: str) -> NotebookClient:
        hub = self.cluster.hubs[self.rnd.choice(self.live_hubs())]
        c = NotebookClient(hub.base, self.session["id"], self.session["edit_token"], name=name)
        await self.connect(c)
        return c

    async def connect(self, c: NotebookClient) -> None:
        """(Re)connect through any live hub, as a client behind a load balancer would."""
        deadline = time.monotonic() + WAIT
        while True:
            c.base_url = self.cluster.hubs[self.rnd.choice(self.live_hubs())].base
            try:
                await c.reconnect(timeout=10)
                if c.connected:
                    return
            except Exception:
                pass
            assert time.monotonic() < deadline, f"{c.name} could not reconnect"
            await asyncio.sleep(0.3)

    async def step(self, n: int) -> None:
        c = self.rnd.choice(self.clients)
        action = self.rnd.random()
        if action < 0.45:  # type in a random cell (online or offline)
            cell = self.rnd.choice(c.cell_ids())
            marker = f"<{n}>"
            # at either end: an insert inside another marker would split it (still kept once,
            # but no longer findable by its text)
            c.insert_text(cell, self.rnd.choice([0, len(c.source(cell))]), marker)
            self.markers.append(marker)
        elif action < 0.65:  # a new cell
            marker = f"[cell {n}]"
            c.insert_cell(self.rnd.randint(0, len(c.cell_ids())), marker)
            self.markers.append(marker)
        elif action < 0.85:  # drop the connection and come back elsewhere (offline edits merge)
            await c.close()
            cell = self.rnd.choice(c.cell_ids())
            marker = f"<offline {n}>"
            c.insert_text(cell, 0, marker)
            self.markers.append(marker)
            await self.connect(c)
        elif len(self.live_hubs()) > 1:  # kill a hub; bring a killed one back
            victim = self.rnd.choice(self.live_hubs())
            self.cluster.hubs[victim].kill9()
            self.down.add(victim)
        elif self.down:
            back = self.down.pop()
            self.cluster.hubs[back].start()
        await asyncio.sleep(self.rnd.uniform(0.0, 0.3))
        for other in self.clients:  # whoever lost their hub reconnects through another
            if not other.connected:
                await self.connect(other)


def texts(c: NotebookClient) -> list[str]:
    return [c.source(cell) for cell in c.cell_ids()]


@pytest.mark.parametrize("seed", [1, 2])
async def test_random_failures_end_in_one_document(cluster_factory: Any, seed: int) -> None:
    cluster: Cluster = cluster_factory(3)
    session = cluster.hubs[0].create_session(f"walk{seed}.ipynb")
    walk = Walk(cluster, session, seed)
    walk.clients = [await walk.join(name) for name in ("ann", "bob", "cat")]
    try:
        for n in range(STEPS):
            await walk.step(n)
        for back in sorted(walk.down):  # every hub back, every client online
            cluster.hubs[back].start()
        walk.down.clear()
        for c in walk.clients:
            if not c.connected:
                await walk.connect(c)
        first = walk.clients[0]
        await first.wait_for(
            lambda: (
                all(texts(c) == texts(first) for c in walk.clients)
                and all(c.connected for c in walk.clients)
            ),
            WAIT,
        )
        fresh = await walk.join("dan")
        walk.clients.append(fresh)
        await fresh.wait_for(lambda: texts(fresh) == texts(first), WAIT)
        ids = first.cell_ids()
        assert len(ids) == len(set(ids)), "a cell was duplicated"
        joined = "\n".join(texts(first))
        for marker in walk.markers:  # everything typed is there, exactly once
            assert joined.count(marker) == 1, (marker, joined)
        # the owner writes the .ipynb shortly after edits pause: it ends equal too
        notebook = Path(cluster.hubs[0].root) / session["path"]
        deadline = time.monotonic() + WAIT
        while True:
            on_disk = json.loads(notebook.read_text(encoding="utf-8"))
            sources = ["".join(cell["source"]) for cell in on_disk["cells"]]
            if sources == texts(first):
                break
            assert time.monotonic() < deadline, (sources, texts(first))
            await asyncio.sleep(0.3)
    finally:
        for c in walk.clients:
            await c.close()
