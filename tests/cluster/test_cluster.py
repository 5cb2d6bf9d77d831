"""Several hubs, one service: real hub processes sharing PostgreSQL and Redis on loopback.

Participants are spread over the hubs; whatever hub they reach, they work in one document with
one kernel, and losing the hub that owns a session loses nothing anyone was shown.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from collabd.client import NotebookClient
from tests.cluster.conftest import Cluster, health

pytestmark = [pytest.mark.kernel, pytest.mark.slow, pytest.mark.timeout(300)]
WAIT = 60.0


def client(hub: Any, session: dict[str, Any], name: str, token: str = "edit") -> NotebookClient:
    return NotebookClient(hub.base, session["id"], session[f"{token}_token"], name=name)


def finished(c: NotebookClient, cell: str, count: int) -> bool:
    return (
        c.cell(cell).get("execution_count") == count
        and c.cell(cell).get("execution_state") == "idle"
    )


async def test_a_session_is_one_document_on_every_hub(cluster_factory: Any) -> None:
    cluster: Cluster = cluster_factory(3)
    h0, h1, h2 = cluster.hubs
    session = h0.create_session("shared.ipynb")
    sid = session["id"]
    for hub in (h1, h2):  # created on one hub, listed on every hub with the same links
        status, listed = hub.api("GET", "/api/sessions")
        assert status == 200 and [s["edit_url"] for s in listed if s["id"] == sid] == [
            session["edit_url"]
        ]
    ann = client(h0, session, "ann")
    bob = client(h1, session, "bob")
    cat = client(h2, session, "cat", token="view")
    for c in (ann, bob, cat):
        await c.connect()
        await c.wait_synced()
    try:
        cell = ann.insert_cell(0, "x = 6 * 7\nprint(x)")
        await bob.wait_for(lambda: cell in bob.cell_ids(), WAIT)
        bob.insert_text(cell, 0, "# bob was here\n")
        await cat.set_presence(cell=cell)
        await bob.set_presence(cell=cell)
        for c in (ann, bob, cat):
            await c.wait_for(lambda c=c: c.source(cell).startswith("# bob was here\nx = 6"), WAIT)
        # cursors cross hubs too: each sees the others' presence
        await ann.wait_for(
            lambda: (
                {s.get("user", {}).get("name") for s in ann.others().values()} >= {"bob", "cat"}
            ),
            WAIT,
        )
        # a viewer on a relaying hub changes nothing anywhere
        cat.insert_text(cell, 0, "# cat\n")
        await cat.wait_for(lambda: cat.denied, WAIT)
        await asyncio.sleep(1.0)
        assert not ann.source(cell).startswith("# cat") and not bob.source(cell).startswith("#cat")
        # a run asked on a hub that does not own the session runs on the owner's kernel
        owner = cluster.owner_of(sid)
        asker = cluster.hubs[(owner + 1) % 3]
        status, body = asker.api(
            "POST", f"/api/sessions/{sid}/execute", {"cell_id": cell}, session["edit_token"]
        )
        assert status == 202, body
        await cat.wait_for(lambda: "42" in cat.output_text(cell), WAIT)
        # the viewer's token cannot run anything, on any hub
        status, body = asker.api(
            "POST", f"/api/sessions/{sid}/execute", {"cell_id": cell}, session["view_token"]
        )
        assert status == 403
        # the notebook and the recording read the same on every hub
        for hub in cluster.hubs:
            view = session["view_token"]
            status, nb = hub.api("GET", f"/api/sessions/{sid}/notebook", token=view)
            assert status == 200 and "".join(nb["cells"][0]["source"]).startswith("# bob was here")
            status, runs = hub.api("GET", f"/api/sessions/{sid}/runs", token=view)
            assert status == 200 and [r["cell_id"] for r in runs] == [cell]
        statuses = [health(hub) for hub in cluster.hubs]
        assert all(
            code == 200 and body["redis"] == body["database"] == "ok" for code, body in statuses
        )
        assert [sid in body["owned"] for _, body in statuses].count(True) == 1
    finally:
        for c in (ann, bob, cat):
            await c.close()


async def test_the_owner_killed_another_hub_takes_over_and_nothing_shown_is_lost(
    cluster_factory: Any,
) -> None:
    cluster: Cluster = cluster_factory(3)
    session = cluster.hubs[0].create_session("failover.ipynb")
    sid = session["id"]
    first = client(cluster.hubs[0], session, "ann")
    await first.connect()
    await first.wait_synced()
    owner = cluster.owner_of(sid)
    others = [i for i in range(3) if i != owner]
    ann = client(cluster.hubs[others[0]], session, "ann2")
    bob = client(cluster.hubs[others[1]], session, "bob")
    clients = [ann, bob]
    try:
        for c in clients:
            await c.connect()
            await c.wait_synced()
        await first.close()
        before = len(ann.cell_ids())
        cell = ann.insert_cell(0, "import os\npid = os.getpid()\nprint(pid)")
        slow = ann.insert_cell(1, "import time\ntime.sleep(120)")
        after = ann.insert_cell(2, "print('after')")
        await ann.run(cell)
        await bob.wait_for(lambda: finished(bob, cell, 1), WAIT)
        await ann.run(slow)
        await ann.run(after)
        await bob.wait_for(lambda: bob.cell(slow).get("execution_state") == "running", WAIT)
        bob.insert_text(slow, 0, "# shown to everyone before the crash\n")
        await ann.wait_for(lambda: ann.source(slow).startswith("# shown"), WAIT)

        cluster.hubs[owner].kill9()
        for c in clients:  # told to move once the dead owner's lease lapses
            await c.wait_for(lambda c=c: not c.connected, WAIT)
            assert c.close_code in (1011, 1012), c.closed_because
        ann.insert_text(cell, 0, "# typed while moving\n")  # an offline edit
        for c in clients:
            await c.reconnect()
        for c in clients:
            await c.wait_for(lambda c=c: c.source(cell).startswith("# typed while moving"), WAIT)
        assert ann.cells() == bob.cells()
        ids = ann.cell_ids()
        assert len(ids) == before + 3 and len(set(ids)) == len(ids)  # nothing duplicated
        assert ann.source(slow).startswith("# shown to everyone before the crash")
        # the run that was going on and the one queued are marked, with why, for everyone
        for cut in (slow, after):
            last_run = bob.cell(cut)["metadata"]["collabd"]["last_run"]
            assert last_run["status"] == "cancelled" and "stopped" in last_run["reason"]
            assert bob.cell(cut)["execution_state"] == "idle"
        kernel = bob.state()["kernel"]
        assert kernel["status"] == "dead" and "stopped" in kernel["reason"]
        assert bob.state()["last_event"]["kind"] == "kernel_lost"
        # a new owner among the survivors, with a new kernel
        new_owner = cluster.owner_of(sid)
        assert new_owner in others
        old_pid = bob.output_text(cell).strip()
        await bob.run(cell)
        await ann.wait_for(
            lambda: finished(ann, cell, 1) and ann.output_text(cell).strip() not in ("", old_pid),
            WAIT,
        )
        # the dead hub comes back with the same links and finds the same document
        cluster.hubs[owner].start()
        back = client(cluster.hubs[owner], session, "cat")
        await back.connect()
        await back.wait_synced()
        clients.append(back)
        assert back.cells() == ann.cells()
        status, nb = cluster.hubs[owner].api(
            "GET", f"/api/sessions/{sid}/notebook", token=session["view_token"]
        )
        assert status == 200 and len(nb["cells"]) == before + 3
    finally:
        for c in clients:
            await c.close()


async def test_a_graceful_stop_hands_sessions_over_without_waiting_for_the_lease(
    cluster_factory: Any,
) -> None:
    # A lease far longer than the test waits: only a hand-over lets another hub take the room.
    cluster: Cluster = cluster_factory(2, env={"COLLABD_LEASE_TTL_S": "300"})
    session = cluster.hubs[0].create_session("handover.ipynb")
    sid = session["id"]
    ann = client(cluster.hubs[0], session, "ann")
    bob = client(cluster.hubs[1], session, "bob")
    try:
        await ann.connect()
        await ann.wait_synced()
        assert cluster.owner_of(sid) == 0
        await bob.connect()
        await bob.wait_synced()
        cell = bob.insert_cell(0, "print('handed over')")
        await ann.wait_for(lambda: cell in ann.cell_ids(), WAIT)
        cluster.hubs[0].stop()  # SIGINT: a graceful stop
        await bob.wait_for(lambda: not bob.connected, WAIT)
        deadline = time.monotonic() + WAIT
        while True:  # its clients reconnect (here to the hub left) and it takes the room
            await bob.reconnect()
            if bob.connected and cell in bob.cell_ids():
                break
            assert time.monotonic() < deadline
            await asyncio.sleep(0.5)
        assert cluster.owner_of(sid, timeout=WAIT) == 1
        await bob.run(cell)
        await bob.wait_for(lambda: "handed over" in bob.output_text(cell), WAIT)
    finally:
        await ann.close()
        await bob.close()
