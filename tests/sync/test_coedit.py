"""Co-editing through a hub process: several clients over real websockets converge.

A process on purpose: under uvicorn, fan-out writes each encoded frame straight to the transports
(collabd/sync/wspeer.py), a path the in-process TestClient does not take.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collabd.client import NotebookClient
from tests.support.hubproc import HubProcess

pytestmark = [pytest.mark.slow]  # a hub process: only uvicorn runs the direct fan-out

_paths = itertools.count()


async def converged(clients: list[NotebookClient], timeout: float = 30.0) -> list[dict[str, Any]]:
    async def same() -> bool:
        states = [c.cells() for c in clients]
        return all(s == states[0] for s in states)

    deadline = asyncio.get_running_loop().time() + timeout
    while not await same():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no convergence: {[c.cells() for c in clients]}")
        await asyncio.sleep(0.05)
    return clients[0].cells()


async def test_three_editors_typing_in_one_cell_converge(shared_hub: HubProcess) -> None:
    s = shared_hub.create_session(f"co{next(_paths)}.ipynb")
    clients = [NotebookClient.from_link(s["edit_url"], name=f"p{i}") for i in range(3)]
    for c in clients:
        await c.connect()
    cell = clients[0].cell_ids()[0]
    for round_ in range(5):
        for i, c in enumerate(clients):
            c.insert_text(cell, 0, f"<{i}.{round_}>")
    cells = await converged(clients)
    source = cells[0]["source"]
    assert sorted(source.replace(">", ">\n").split()) == sorted(
        f"<{i}.{r}>" for i in range(3) for r in range(5)
    )
    late = NotebookClient.from_link(s["view_url"])
    async with late:
        assert late.cells() == cells
    for c in clients:
        await c.close()


async def test_twenty_clients_opening_a_fresh_room_at_once_all_sync(
    shared_hub: HubProcess,
) -> None:
    s = shared_hub.create_session(f"rush{next(_paths)}.ipynb")
    clients = [NotebookClient.from_link(s["edit_url"], name=f"r{i}") for i in range(20)]
    await asyncio.gather(*(c.connect(timeout=60) for c in clients))
    assert all(len(c.cells()) == 1 for c in clients)
    await asyncio.gather(*(c.close() for c in clients))


async def test_presence_is_relayed_and_removed_when_a_participant_leaves(
    shared_hub: HubProcess,
) -> None:
    s = shared_hub.create_session(f"presence{next(_paths)}.ipynb")
    async with NotebookClient.from_link(s["edit_url"], name="watcher") as watcher:
        leaver = NotebookClient.from_link(s["view_url"], name="leaver")
        await leaver.connect()
        await leaver.set_presence(cell="abc")
        await watcher.wait_for(
            lambda: any(st.get("cell") == "abc" for st in watcher.others().values())
        )
        await leaver.close()
        await watcher.wait_for(lambda: leaver.client_id not in watcher.others())


# Property: random concurrent edits and random disconnects, all replicas equal at the end.

Op = tuple[str, int, int, str]
ops = st.lists(
    st.tuples(
        st.sampled_from(["type", "type", "type", "delete", "add_cell", "del_cell", "drop"]),
        st.integers(0, 2),  # which client
        st.integers(0, 1_000),  # position seed
        st.text(alphabet="abcxyzé🙂\n", min_size=1, max_size=4),
    ),
    min_size=1,
    max_size=25,
)


def _offset(text: str, chars: int) -> int:
    """pycrdt indexes text by UTF-8 byte; scripts pick positions in characters."""
    return len(text[:chars].encode())


async def _scenario(hub: HubProcess, script: list[Op]) -> None:
    s = hub.create_session(f"prop{next(_paths)}.ipynb")
    clients = [NotebookClient.from_link(s["edit_url"], name=f"h{i}") for i in range(3)]
    for c in clients:
        await c.connect()
    offline: set[int] = set()
    for kind, who, seed, chars in script:
        c = clients[who]
        ids = c.cell_ids()
        rnd = random.Random(seed)
        if kind == "type" and ids:
            cell = rnd.choice(ids)
            src = c.source(cell)
            c.insert_text(cell, rnd.randint(0, len(src)), chars)
        elif kind == "delete" and ids:
            cell = rnd.choice(ids)
            src = c.source(cell)
            if src:
                start = rnd.randrange(len(src))
                end = min(len(src), start + 2)
                del c.text(cell)[_offset(src, start) : _offset(src, end)]
        elif kind == "add_cell":
            c.insert_cell(rnd.randint(0, len(ids)), chars)
        elif kind == "del_cell" and len(ids) > 1:
            c.delete_cell(rnd.choice(ids))
        elif kind == "drop":
            if who in offline:
                await c.connect()
                offline.discard(who)
            else:
                await c.close()  # edits made while away are merged on return
                offline.add(who)
        await asyncio.sleep(rnd.choice([0, 0, 0.01]))
    for who in offline:
        await clients[who].connect()
    final = await converged(clients)
    async with NotebookClient.from_link(s["view_url"]) as fresh:
        assert fresh.cells() == final
    nb = await clients[0].notebook_json()
    assert [c["id"] for c in nb["cells"]] == [c["id"] for c in final]
    for c in clients:
        await c.close()


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(script=ops)
def test_random_concurrent_edits_and_disconnects_converge(
    shared_hub: HubProcess, script: list[Op]
) -> None:
    asyncio.run(_scenario(shared_hub, script))
