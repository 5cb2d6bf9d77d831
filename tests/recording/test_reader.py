"""The recording read back: the notebook and presence at any moment, summaries, run history,
retention and the export file, over the in-memory and the SQLite store."""

from __future__ import annotations

import asyncio
import base64
import json
import random
from pathlib import Path
from typing import Any

import pytest
from jupyter_ydoc import YNotebook
from pycrdt import Awareness, Doc, Text, TransactionEvent

from collabd import notebook
from collabd.recording import diff, history, reader, retention
from collabd.recording.file import NotARecording, export, open_recording
from collabd.settings import Settings
from collabd.store import MemoryStore, NewEntry, Snapshot, Store
from collabd.store.base import AWARENESS, EVENT, UPDATE
from collabd.sync.liveroom import LiveRoom
from collabd.sync.room import Relay

ROOM = "r1"
T0 = 1_700_000_000.0


class Author:
    """Makes random edits to a notebook and logs each one as a hub would, remembering what the
    notebook was after each."""

    def __init__(self, store: Store, seed: int, room: str = ROOM) -> None:
        self.store, self.rng, self.room = store, random.Random(seed), room
        self.doc: Doc[Any] = Doc()
        self.nb = YNotebook(self.doc)
        self.pending: list[bytes] = []
        self.doc.observe(self._collect)
        self.t = T0
        self.history: list[tuple[float, dict[str, Any]]] = []  # (ts, notebook after)
        notebook.load_into(self.doc, notebook.empty_notebook())
        self._log("import")

    def _collect(self, event: TransactionEvent) -> None:
        self.pending.append(event.update)

    def _log(self, origin: str) -> None:
        self.t += self.rng.choice([0.1, 0.3, 1.0, 7.0])
        entries = [NewEntry(self.t, UPDATE, origin, u) for u in self.pending]
        self.pending.clear()
        self.store.append(self.room, entries)
        self.history.append((self.t, notebook.to_json(self.doc)))

    def event(self, kind: str, data: dict[str, Any]) -> None:
        self.t += 0.05
        payload = json.dumps({"type": kind, **data}).encode()
        self.store.append(self.room, [NewEntry(self.t, EVENT, kind, payload)])

    def edit(self) -> None:
        cells = self.nb.ycells
        choice = self.rng.random()
        if choice < 0.2 or len(cells) == 0:
            ycell = self.nb.create_ycell({"cell_type": "code", "source": "x = 1", "metadata": {}})
            cells.insert(self.rng.randint(0, len(cells)), ycell)
        elif choice < 0.3 and len(cells) > 1:
            del cells[self.rng.randrange(len(cells))]
        else:
            text: Text = cells[self.rng.randrange(len(cells))]["source"]
            if self.rng.random() < 0.7 or len(text) == 0:
                text.insert(self.rng.randint(0, len(text)), self.rng.choice("abc \n()+"))
            else:
                start = self.rng.randrange(len(text))
                del text[start : start + 1]
        self._log(f"peer:{self.rng.randint(1, 3)}")


def test_notebook_at_any_moment_is_what_it_was(store: Store) -> None:
    author = Author(store, seed=1)
    for _ in range(120):
        author.edit()
    added = reader.backfill_snapshots(store, ROOM, every=10)
    assert added >= 10
    assert reader.backfill_snapshots(store, ROOM, every=10) == 0
    for ts, expected in author.history[::7] + author.history[-2:]:
        state = reader.doc_at(store, ROOM, ts)
        assert reader.notebook_of(state.doc()) == expected
        assert state.replayed <= 10  # bounded by the snapshot spacing
        between = ts + 0.01  # before the next edit
        assert reader.notebook_at(store, ROOM, between) == expected
    with pytest.raises(reader.BeforeStart):
        reader.doc_at(store, ROOM, T0)


def test_events_and_playback_window(store: Store) -> None:
    author = Author(store, seed=2)
    for _ in range(10):
        author.edit()
    author.event("join", {"peer": 1, "role": "edit"})
    for _ in range(10):
        author.edit()
    start, end = author.history[5][0], author.history[15][0]
    events = reader.events_between(store, ROOM, start, end)
    assert [e["kind"] for e in events].count("join") == 1
    assert all(start <= e["ts"] <= end and "update" not in e for e in events)
    window = reader.playback_window(store, ROOM, start, end)
    doc: Doc[Any] = Doc()
    doc.apply_update(base64.b64decode(window["base"]["state"]))
    assert notebook.to_json(doc) == author.history[5][1]
    for entry in window["entries"]:
        if entry["kind"] == UPDATE:
            doc.apply_update(base64.b64decode(entry["update"]))
    assert notebook.to_json(doc) == author.history[15][1]
    going_on = reader.playback_window(store, ROOM, start, end, after_seq=window["base"]["seq"])
    assert going_on["base"] is None and going_on["entries"] == window["entries"]


def test_a_players_base_in_parts_is_the_same_document_unbuilt(store: Store) -> None:
    """`base_parts`: the snapshot before `start` and the updates after it, not rebuilt."""
    author = Author(store, seed=3)
    for i in range(30):
        author.edit()
        if i == 9:  # after the tenth edit
            last = store.entries(ROOM, kinds=(UPDATE,))[-1]
            store.add_snapshot(ROOM, Snapshot(last.seq, last.ts, author.doc.get_update()))
    start, end = author.history[20][0], author.history[25][0]
    whole = reader.playback_window(store, ROOM, start, end)
    parts = reader.playback_window(store, ROOM, start, end, base_parts=True)
    assert parts["entries"] == whole["entries"]
    base_seq = parts["base"]["seq"]
    assert base_seq == whole["base"]["seq"]
    assert parts["base"]["presence"] == whole["base"]["presence"]
    between = [e for e in store.entries(ROOM, kinds=(UPDATE,)) if last.seq < e.seq <= base_seq]
    assert [base64.b64decode(u) for u in parts["base"]["updates"]] == [e.data for e in between]
    doc: Doc[Any] = Doc()
    doc.apply_update(base64.b64decode(parts["base"]["state"]))
    assert notebook.to_json(doc) == author.history[10][1]  # the snapshot's bytes as stored
    for update in parts["base"]["updates"]:
        doc.apply_update(base64.b64decode(update))
    assert notebook.to_json(doc) == author.history[20][1]
    # before the first snapshot: an empty document and every update up to `start`
    early = reader.playback_window(store, ROOM, author.history[4][0], end, base_parts=True)
    doc = Doc()
    doc.apply_update(base64.b64decode(early["base"]["state"]))
    for update in early["base"]["updates"]:
        doc.apply_update(base64.b64decode(update))
    assert notebook.to_json(doc) == author.history[4][1]


def test_what_changed_across_snapshots_is_the_two_moments_compared(store: Store) -> None:
    """`diff.between` rebuilds the document once and replays up to `end` (snapshots between the
    two moments are not used): the same cells as comparing the two notebooks directly."""
    author = Author(store, seed=4)
    for _ in range(60):
        author.edit()
    assert reader.backfill_snapshots(store, ROOM, every=7) > 3
    for i, j in ((3, 50), (10, 11), (0, 60), (25, 41)):
        (start, before), (end, after) = author.history[i], author.history[j]
        found = diff.between(store, ROOM, start, end)
        expected = diff.cell_changes(before, after)
        for kind in ("added", "changed", "removed"):
            assert [{k: v for k, v in c.items() if k != "authors"} for c in found[kind]] == (
                expected[kind]
            ), (i, j, kind)
        assert found["nbdime"] == expected["nbdime"]


def _awareness_update(client_id: int, state: dict[str, Any] | None) -> bytes:
    doc: Doc[Any] = Doc(client_id=client_id)
    awareness = Awareness(doc)
    awareness.set_local_state(state)
    return awareness.encode_awareness_update([client_id])


def test_presence_at_keeps_the_last_state_per_client(store: Store) -> None:
    def put(t: float, peer: int, client: int, state: dict[str, Any] | None) -> None:
        store.append(ROOM, [_presence(t, peer, client, state)])

    put(T0 + 1, 1, 11, {"user": {"name": "ada"}, "cell": "a"})
    put(T0 + 2, 2, 22, {"user": {"name": "bob"}, "cell": "b"})
    put(T0 + 3, 1, 11, {"user": {"name": "ada"}, "cell": "c"})
    store.append(ROOM, [NewEntry(T0 + 4, EVENT, "leave", b'{"type":"leave","peer":2}')])
    assert reader.presence_at(store, ROOM, T0 + 2.5) == {
        11: {"user": {"name": "ada"}, "cell": "a"},
        22: {"user": {"name": "bob"}, "cell": "b"},
    }
    assert reader.presence_at(store, ROOM, T0 + 5) == {11: {"user": {"name": "ada"}, "cell": "c"}}
    put(T0 + 6, 1, 11, None)
    assert reader.presence_at(store, ROOM, T0 + 6) == {}
    # a state older than the window is one nobody saw any more
    assert reader.presence_at(store, ROOM, T0 + 3 + reader.PRESENCE_WINDOW_S + 1) == {}


def _run(t: float, cell: str, by: tuple[str, int], status: str, code: str, out: str) -> NewEntry:
    data = {
        "type": "run", "request_id": f"q{t}", "batch_id": None, "cell_id": cell,
        "by": {"name": by[0], "client_id": by[1]}, "code": code, "queued_at": t,
        "started": t + 0.1, "ended": t + 0.5, "status": status,
        "execution_count": int(t - T0), "outputs": out,
    }  # fmt: skip
    return NewEntry(t, EVENT, "run", json.dumps(data).encode())


def _presence(t: float, peer: int, client: int, state: dict[str, Any] | None) -> NewEntry:
    return NewEntry(t, AWARENESS, f"peer:{peer}", _awareness_update(client, state))


def test_summary_participants_counts_and_runs(store: Store) -> None:
    author = Author(store, seed=3)
    store.append(
        ROOM,
        [
            NewEntry(T0 + 0.5, EVENT, "join", b'{"type":"join","peer":1,"role":"edit"}'),
            _presence(T0 + 0.6, 1, 11, {"user": {"name": "ada", "color": "#111"}}),
            NewEntry(T0 + 0.7, EVENT, "join", b'{"type":"join","peer":2,"role":"view"}'),
            _presence(T0 + 0.8, 2, 22, {"user": {"name": "bob"}}),
        ],
    )
    for _ in range(30):
        author.edit()
    store.append(
        ROOM,
        [
            _run(author.t + 1, "c1", ("ada", 11), "ok", "print(42)", "42\n"),
            _run(author.t + 2, "c2", ("bob", 22), "error", "1/0", "ZeroDivisionError: oops"),
            NewEntry(author.t + 3, EVENT, "leave", b'{"type":"leave","peer":2}'),
        ],
    )
    summary = reader.summary(store, ROOM)
    # the first entry is the import the author logged when it opened the notebook, before the join
    first = author.history[0][0]
    assert first < T0 + 0.5
    assert summary["start"] == first
    assert summary["end"] == author.t + 3
    names = {p["name"]: p for p in summary["participants"]}
    assert {"ada", "bob"} <= names.keys()
    assert names["ada"]["color"] == "#111" and names["ada"]["client_ids"] == [11]
    assert names["bob"]["roles"] == ["view"] and names["bob"]["left"] == author.t + 3
    assert names["ada"]["runs"] == 1 and names["ada"]["updates"] > 0
    assert sum(n for _, n in names["ada"]["activity"]) == names["ada"]["updates"]
    counts = summary["counts"]
    assert counts["updates"] == 31 and counts["runs"] == 2 and counts["presence"] == 2
    assert [r["cell_id"] for r in summary["runs"]] == ["c1", "c2"]
    assert all(b - a > reader.IDLE_GAP_S for a, b in summary["idle"])


def test_run_search_and_export(store: Store) -> None:
    store.append(
        ROOM,
        [
            _run(T0 + 1, "c1", ("Ada", 11), "ok", "lr = 0.1\nfit()", "score 0.93"),
            _run(T0 + 2, "c1", ("bob", 22), "error", "fit(lr=2)", "ValueError: diverged"),
            _run(T0 + 3, "c2", ("bob", 22), "cancelled", "sleep(9)", ""),
            NewEntry(T0 + 4, EVENT, "kernel", b'{"type":"kernel","status":"idle"}'),
        ],
    )
    found = reader.runs(store, ROOM)
    assert len(found) == 3
    q = history.RunQuery
    assert [r.status for r in history.search(found, q(cell_id="c1"))] == ["ok", "error"]
    assert [r.by_name for r in history.search(found, q(by="ada"))] == ["Ada"]
    assert [r.by_name for r in history.search(found, q(by="22"))] == ["bob", "bob"]
    assert [r.cell_id for r in history.search(found, q(text="DIVERGED"))] == ["c1"]
    assert [r.cell_id for r in history.search(found, q(text="sleep"))] == ["c2"]
    assert history.search(found, q(status="ok", by="bob")) == []
    assert history.search(found, q.from_params({"since": str(T0 + 2.6)}))[0].cell_id == "c2"
    rows = history.to_csv(found).splitlines()
    assert rows[0].split(",")[:4] == ["seq", "request_id", "batch_id", "cell_id"]
    assert len(rows) == 1 + 3 + 1  # header, runs, one code with a newline (quoted)
    as_json = json.loads(history.to_json_text(found))
    assert as_json[1]["by"] == {"name": "bob", "client_id": 22}
    assert as_json[0]["duration"] == pytest.approx(0.4)


def test_retention_trims_yet_keeps_playback_exact(store: Store) -> None:
    author = Author(store, seed=4)
    for _ in range(80):
        author.edit()
    reader.backfill_snapshots(store, ROOM, every=10)
    before = store.storage_bytes(ROOM)
    limit = before // 2
    result = retention.trim(store, ROOM, retention.Policy(max_bytes=limit), now=author.t)
    assert result["dropped"] > 0
    assert store.storage_bytes(ROOM) <= limit
    start = reader.start_of(store, ROOM)
    assert start is not None and start > author.history[0][0]
    kept = [(ts, nb) for ts, nb in author.history if ts >= start]
    assert len(kept) >= 5
    for ts, expected in kept:
        assert reader.notebook_at(store, ROOM, ts) == expected
    with pytest.raises(reader.BeforeStart):
        reader.notebook_at(store, ROOM, start - 0.001)
    # loading the room (newest snapshot + the log after it) still gives the notebook
    snap = store.latest_snapshot(ROOM)
    assert snap is not None
    doc: Doc[Any] = Doc()
    doc.apply_update(snap.state)
    for entry in store.entries(ROOM, after_seq=snap.seq):
        doc.apply_update(entry.data)
    assert notebook.to_json(doc) == author.history[-1][1]


def test_retention_by_age(store: Store) -> None:
    author = Author(store, seed=5)
    for _ in range(40):
        author.edit()
    assert retention.trim(store, ROOM, retention.Policy(max_age_s=1), now=author.t)["dropped"] == 0
    reader.backfill_snapshots(store, ROOM, every=10)  # no snapshot, no trim (see below)
    newest = store.latest_snapshot(ROOM)
    middle = author.history[20][0]
    days = (author.t - middle) / retention.DAY
    retention.trim(store, ROOM, retention.policy_of(days, 0), now=author.t)
    start = reader.start_of(store, ROOM)
    assert start is not None and author.history[19][0] <= start < middle
    for ts, expected in author.history[20:]:
        assert reader.notebook_at(store, ROOM, ts) == expected
    assert retention.trim(store, ROOM, retention.Policy(), now=author.t)["dropped"] == 0
    # Everything is "too old", yet the cut stops at the newest snapshot: a room that is loading
    # right now (newest snapshot, then the log after it) reads both unchanged.
    assert newest is not None
    retention.trim(store, ROOM, retention.Policy(max_age_s=1e-9), now=author.t + 1e6)
    assert store.latest_snapshot(ROOM) == newest
    assert store.entries(ROOM, after_seq=newest.seq)[-1].ts == author.t


def test_export_file_reads_back_the_same(store: Store, tmp_path: Path) -> None:
    author = Author(store, seed=6)
    for _ in range(40):
        author.edit()
    author.event("run", {"cell_id": "c", "status": "ok", "code": "1", "by": {"name": "a"}})
    reader.backfill_snapshots(store, ROOM, every=8)
    record = store.get_session(ROOM)
    assert record is not None
    facts = export(store, record, tmp_path / "x.collabd")
    assert facts["format"] == "collabd-recording" and facts["path"] == "dir/nb.ipynb"
    opened = open_recording(tmp_path / "x.collabd")
    try:
        assert opened.session.id == ROOM and opened.session.edit_token == ""
        for ts, expected in author.history[::5]:
            assert reader.notebook_at(opened.store, ROOM, ts) == expected
        assert len(reader.runs(opened.store, ROOM)) == 1
        assert opened.store.snapshot_index(ROOM) == store.snapshot_index(ROOM)
    finally:
        opened.close()
    (tmp_path / "not.collabd").write_bytes(b"hello")
    with pytest.raises(NotARecording):
        open_recording(tmp_path / "not.collabd")


async def test_presence_throttle_keeps_the_last_state_of_a_burst() -> None:
    store = MemoryStore()
    settings = Settings(record_presence_interval_s=0.2)

    async def run_io(fn: Any, *args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    live = LiveRoom(ROOM, Doc(), store=store, settings=settings, run_io=run_io, last_seq=0)
    live.start()
    states = [_awareness_update(7, {"user": {"name": "ada"}, "cell": str(i)}) for i in range(5)]
    for update in states:
        live.dispatch([Relay(b"frame", update, "peer:1", 1)])
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.5)
    await live.close()
    recorded = store.entries(ROOM, kinds=(AWARENESS,))
    assert [e.data for e in recorded] == [states[0], states[-1]]
    assert recorded[1].ts < recorded[0].ts + 0.2  # stamped when it arrived, not when written
