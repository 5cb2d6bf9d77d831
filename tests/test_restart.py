"""Killing the hub: nothing broadcast is lost, and reconnecting clients duplicate nothing."""

from __future__ import annotations

import sqlite3

import pytest

from collabd.client import NotebookClient
from tests.support.hubproc import HubFactory

pytestmark = pytest.mark.slow  # each test starts, kills and restarts a hub process


async def test_kill9_then_reconnect_with_old_state_duplicates_nothing(
    hub_factory: HubFactory,
) -> None:
    hub = hub_factory()
    s = hub.create_session("nb.ipynb")
    a = NotebookClient.from_link(s["edit_url"], name="a")
    b = NotebookClient.from_link(s["edit_url"], name="b")
    await a.connect()
    await b.connect()
    first = a.cell_ids()[0]
    a.set_source(first, "x = 1")
    added = [a.insert_cell(i + 1, f"print({i})") for i in range(3)]
    await b.wait_for(lambda: b.cell_ids() == [first, *added] and b.source(first) == "x = 1")
    before = b.cells()

    hub.kill9()
    a.insert_text(added[0], 0, "# offline\n")  # typed while the hub is down
    hub.start()
    await a.reconnect()
    await b.reconnect()
    await b.wait_for(lambda: b.source(added[0]).startswith("# offline\n"))

    async with NotebookClient.from_link(s["view_url"]) as fresh:
        cells = fresh.cells()
    assert [c["id"] for c in cells] == [c["id"] for c in before]
    assert cells[0]["source"] == "x = 1"
    assert cells[1]["source"] == "# offline\nprint(0)"
    assert cells == a.cells() == b.cells()
    await a.close()
    await b.close()


async def test_every_broadcast_update_is_in_the_log_before_a_kill(hub_factory: HubFactory) -> None:
    hub = hub_factory()
    s = hub.create_session("nb.ipynb")
    async with NotebookClient.from_link(s["edit_url"]) as writer:
        watcher = NotebookClient.from_link(s["view_url"])
        await watcher.connect()
        cell = writer.cell_ids()[0]
        for i in range(50):
            writer.insert_text(cell, len(writer.text(cell)), f"{i},")
        expected = "".join(f"{i}," for i in range(50))
        await watcher.wait_for(lambda: watcher.source(cell) == expected)  # broadcast to watcher
        hub.kill9()
        await watcher.close()
    hub.start()
    async with NotebookClient.from_link(s["view_url"]) as after:
        assert after.source(cell) == expected


async def test_long_history_loads_from_a_snapshot_and_a_short_tail(hub_factory: HubFactory) -> None:
    hub = hub_factory(env={"COLLABD_SNAPSHOT_EVERY": "25"})
    s = hub.create_session("nb.ipynb")
    async with NotebookClient.from_link(s["edit_url"]) as writer:
        cell = writer.cell_ids()[0]
        for i in range(200):
            writer.insert_text(cell, len(writer.text(cell)), "x")
            if i % 10 == 0:
                await writer.wait_for(lambda: True)
        await writer.notebook_json()  # the hub has stored everything by now
        final = writer.source(cell)
    hub.stop()
    db = sqlite3.connect(hub.data / "collabd.sqlite3")
    (snap_seq,) = db.execute("SELECT max(seq) FROM snapshots WHERE room = ?", (s["id"],)).fetchone()
    (total,) = db.execute(
        "SELECT count(*) FROM log WHERE room = ? AND kind = 'update'", (s["id"],)
    ).fetchone()
    (tail,) = db.execute(
        "SELECT count(*) FROM log WHERE room = ? AND kind = 'update' AND seq > ?",
        (s["id"], snap_seq),
    ).fetchone()
    db.close()
    assert total > 25 and tail < 25  # the full history stays; loading reads only the tail
    hub.start()
    async with NotebookClient.from_link(s["view_url"]) as reader:
        assert reader.source(cell) == final == "x" * 200
