"""Recording benchmark: seek time in a long recording, storage per update, and what recording
costs the live edit path.

    .venv/bin/python bench/recording_bench.py --no-live --updates 100000 --compare HEAD~3
    .venv/bin/python bench/recording_bench.py --updates 20000 --live-s 4   # quick check

1. Seek: a recording of N one-keystroke updates (pattern "typing" and/or "random", in 20 cells,
   a new cell now and then, 20 updates/s of recorded time) is written to a SQLite store as the
   hub writes it (a snapshot wherever the hub's `SnapshotCadence` says), by a child process:
   the process that seeks holds none of the writer's heap, as the hub's reader process does
   not. Times `reader.notebook_at` (rebuild the document at t and read it as nbformat) at 5
   moments of the start, middle and end, cold and then 1 s later ("near", as a player scrubs),
   p50 and max; optionally over HTTP through `collabd serve` on that store (GET
   /recording/notebook?t=), cold (the moments backwards: a kept document never serves an
   earlier one) and where the hub's reader keeps the document. With `--browser`, the player's
   own seek too: the replay page in Debian's Chromium, `window.collabd.replay.seek(t)` timed in
   the page up to the next frame after the view is drawn (the window's HTTP read, Yjs applying
   the snapshot and the updates after it, the cells drawn), cold and near as above.
   With `--compare REF` the same runs on REF's collabd/ in a subprocess, alternating.
2. Storage: bytes of log data and snapshots per update, and the SQLite file size per update.
3. Overhead: two `collabd serve` processes, COLLABD_RECORD=1 and =0, run the same live workload
   one after the other, twice each (off, on, off, on): 4 Python editors typing 5 edits/s each and
   moving their cursor with every edit (awareness), and a probe pair: the probe types 20 edits/s
   and a watcher measures delivery latency (send to applied) from the state vector.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jupyter_ydoc import YNotebook
from pycrdt import Decoder, Doc, Text

ROOT = Path(__file__).resolve().parents[1]
# --compare REF runs the seek part again in a subprocess on that commit's collabd/ (from `git
# archive`), named by COLLABD_BENCH_TREE
sys.path.insert(0, os.environ.get("COLLABD_BENCH_TREE") or str(ROOT))

from collabd import notebook  # noqa: E402
from collabd.client import NotebookClient  # noqa: E402
from collabd.recording import reader as recording  # noqa: E402
from collabd.store import NewEntry, SessionRecord, Snapshot, SQLiteStore  # noqa: E402
from collabd.store.base import AWARENESS, UPDATE  # noqa: E402

TOKEN = "bench-" + "t" * 40
T0 = 1_700_000_000.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# 1. a long recording


def _cadence(every: int) -> Any:
    """The hub's snapshot cadence (`collabd.store.cadence`), whichever version of it is loaded."""
    from collabd.store.cadence import SnapshotCadence

    return SnapshotCadence(every)


def _takes_bytes(method: Any) -> bool:
    return len(inspect.signature(method).parameters) > 1


def generate(
    store: SQLiteStore,
    room: str,
    n: int,
    every: int,
    pattern: str = "typing",
    seed: int = 1,
    *,
    people: int = 4,
    dt: float = 0.05,
    on_append: Callable[[int], None] | None = None,
    batch_max: int = 2000,
) -> float:
    """Write n one-keystroke updates, `dt` s of recorded time apart; returns the recorded time
    of the last one. `on_append(updates so far)` after every append to the store.

    "typing": `people` participants take turns (about 50 keystrokes each), each typing at their
    own cursor, with backspaces, and now and then moving the cursor or adding a cell.
    "random": every keystroke at a random place in a random cell (the worst case for the CRDT:
    nothing merges, so the document state grows with every update).
    Snapshots are taken where the hub's `SnapshotCadence` says (each keystroke a batch of its own,
    as at typing speed), with what `add_snapshot` says it stored.
    """
    rng = random.Random(seed)
    doc: Doc[Any] = Doc()
    ynb = YNotebook(doc)
    pending: list[bytes] = []
    doc.observe(lambda e: pending.append(e.update))
    notebook.load_into(doc, notebook.empty_notebook())
    for _ in range(19):
        ynb.ycells.append(ynb.create_ycell({"cell_type": "code", "source": "", "metadata": {}}))
    t = T0
    batch: list[NewEntry] = []
    cadence = _cadence(every)
    by_bytes = _takes_bytes(cadence.due)
    store.append(room, [NewEntry(t, UPDATE, "import", u) for u in pending])
    if by_bytes:
        cadence.logged(1, sum(len(u) for u in pending))
    else:
        cadence.logged(1)
    pending.clear()
    cursors = [[rng.randrange(20), 0] for _ in range(people)]
    who, i, made = 0, -1, 0
    while made < n:  # a backspace at the start of a cell changes nothing: count real updates
        i += 1
        cells = ynb.ycells
        if rng.random() < 0.02:
            who = rng.randrange(people)
        cursor = cursors[who]
        roll = rng.random()
        if roll < 0.001:
            cells.append(ynb.create_ycell({"cell_type": "code", "source": "", "metadata": {}}))
        elif pattern == "random":
            text: Text = cells[rng.randrange(len(cells))]["source"]
            if len(text) > 5 and roll < 0.25:
                start = rng.randrange(len(text))
                del text[start : start + 1]
            else:
                text.insert(rng.randint(0, len(text)), rng.choice("abcdefgh ()=+\n"))
        else:
            text = cells[cursor[0] % len(cells)]["source"]
            cursor[1] = min(cursor[1], len(text))
            if roll < 0.02:
                cursor[0], cursor[1] = rng.randrange(len(cells)), 0
                cursor[1] = rng.randint(0, len(cells[cursor[0]]["source"]))
            elif roll < 0.1 and cursor[1] > 0:
                del text[cursor[1] - 1 : cursor[1]]
                cursor[1] -= 1
            else:
                text.insert(cursor[1], rng.choice("abcdefgh ()=+\n"))
                cursor[1] += 1
        if not pending:
            continue
        t += dt
        made += len(pending)
        size = sum(len(u) for u in pending)
        batch.extend(NewEntry(t, UPDATE, f"peer:{who}", u) for u in pending)
        pending.clear()
        if i % 50 == 0:
            batch.append(NewEntry(t, AWARENESS, f"peer:{who}", _presence(who, i)))
        due = cadence.due(1, size) if by_bytes else cadence.due(1)
        if by_bytes:
            cadence.logged(1, size)
        else:
            cadence.logged(1)
        if due or made >= n or len(batch) >= batch_max:
            seq = store.append(room, batch)
            batch = []
            if on_append is not None:
                on_append(made)
        if due:
            state = doc.get_update()
            stored = store.add_snapshot(room, Snapshot(seq, t, state))
            if by_bytes:
                cadence.taken(stored if isinstance(stored, int) else len(state))
            else:
                cadence.taken()
    return t


def _presence(client: int, i: int) -> bytes:
    from pycrdt import Awareness

    d: Doc[Any] = Doc(client_id=client + 1)
    a = Awareness(d)
    a.set_local_state({"user": {"name": f"p{client}", "color": "#123"}, "cursor": i})
    return a.encode_awareness_update([client + 1])


def _timed(fn: Any, repeat: int = 5) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, result


def _once(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def _forget_seeks() -> None:
    """Drop the reader's cache of rebuilt documents, where it has one: a cold seek."""
    cache = getattr(recording, "SEEKS", None)
    if cache is not None:
        cache.clear()


_BENCH_SESSION = SessionRecord("benchroom", "long.ipynb", "e" * 43, "v" * 43, T0)


def _generate_into(db: Path, n: int, every: int, pattern: str) -> dict[str, float]:
    store = SQLiteStore(db)
    try:
        store.add_session(_BENCH_SESSION)
        started = time.perf_counter()
        end = generate(store, _BENCH_SESSION.id, n, every, pattern)
        made = {"end": end, "generate_s": time.perf_counter() - started}
        made.update(_build_index(store))
        return made
    finally:
        store.close()


def _build_index(store: SQLiteStore) -> dict[str, float]:
    """The seek index, built as the hub's recording worker builds it (in steps, after the
    recording here rather than along it), where the code has one."""
    try:
        from collabd.recording import seekindex
    except ImportError:
        return {}
    started, steps = time.perf_counter(), 1
    while seekindex.extend(store, _BENCH_SESSION.id):
        steps += 1
    return {"index_s": time.perf_counter() - started, "index_steps": steps}


def _generate_elsewhere(db: Path, n: int, every: int, pattern: str) -> dict[str, float]:
    """`generate` (and the seek index) in a child process; returns the last update's time
    (`end`) and the seconds each took (`generate_s`, `index_s`). The
    process that seeks then holds none of the writer's objects, as the hub's reader process
    does not: in the writer's own process the same snapshot applies ~1.6x slower (its heap,
    after building 200,000 updates)."""
    cmd = [
        sys.executable, __file__, "--generate-into", str(db), "--patterns", pattern,
        "--updates", str(n), "--snapshot-every", str(every),
    ]  # fmt: skip
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=900).stdout
    made: dict[str, float] = json.loads(out.splitlines()[-1])
    return made


def seek_bench(
    n: int, every: int, workdir: Path, pattern: str, http: bool, browser: bool = False
) -> dict[str, Any]:
    """Storage per update, and seeks: at each region (start, middle, end) 5 moments spread over
    2 % of the recording, each sought cold (no rebuilt document kept) and then 1 s of recorded
    time later (a player scrubbing: "near"), twice over; p50 and max of each."""
    db = workdir / "data" / "collabd.sqlite3"
    record = _BENCH_SESSION
    made = _generate_elsewhere(db, n, every, pattern)
    end, gen_s = made["end"], made["generate_s"]
    store = SQLiteStore(db)
    updates = store.count(record.id)
    final = store.latest_snapshot(record.id)
    assert final is not None
    log_bytes = sum(e.size for e in store.entry_index(record.id, kinds=(UPDATE,)))
    result: dict[str, Any] = {
        "updates": updates,
        "pattern": pattern,
        "final_state_bytes": len(final.state),
        "snapshots": len(store.snapshot_index(record.id)),
        "generate_s": gen_s,
        "bytes_per_update_log_and_snapshots": store.storage_bytes(record.id) / updates,
        "bytes_per_update_log_only": log_bytes / updates,
    }
    if "index_s" in made:
        index_bytes = store.seek_index_bytes(record.id)  # type: ignore[attr-defined]
        result["index_us_per_update"] = made["index_s"] * 1e6 / updates
        result["index_bytes_per_update"] = index_bytes / updates
        result["index_over_log"] = index_bytes / log_bytes
    store.close()
    result["sqlite_file_bytes_per_update"] = _file_bytes(db) / updates
    store = SQLiteStore(db)
    # the in-run reference: the final document state applied to a fresh document
    result["ref_apply_final_ms"], _ = _timed(lambda: Doc().apply_update(final.state), 3)
    span = end - T0
    regions = {"start": T0 + 0.5, "middle": T0 + span * 0.49, "end": end - span * 0.02}
    moments: dict[str, list[float]] = {}
    for name, first in regions.items():
        cold: list[float] = []
        near: list[float] = []
        replayed: list[int] = []
        for _ in range(2):
            for k in range(5):
                t = min(first + span * 0.02 * k / 4, end)
                _forget_seeks()
                cold.append(_once(lambda t=t: recording.notebook_at(store, record.id, t)))
                near.append(
                    _once(lambda t=t: recording.notebook_at(store, record.id, min(t + 1, end)))
                )
                replayed.append(recording.doc_at(store, record.id, t).replayed)
        moments[name] = [min(first + span * 0.02 * k / 4, end) for k in range(5)]
        for label, times in (("cold", cold), ("near", near)):
            result[f"seek_{name}_{label}_p50_ms"] = statistics.median(times)
            result[f"seek_{name}_{label}_max_ms"] = max(times)
        result[f"seek_{name}_replayed_max"] = max(replayed)
    store.close()
    if http:
        result.update(_seek_http(workdir, record, moments, browser))
    return result


def class_growth(
    n: int, every: int, workdir: Path, people: int, rate: float
) -> list[dict[str, Any]]:
    """The store of a class: `people` typing `rate` one-character edits/s each in 20 cells, as
    the hub stores it (log and snapshots), at the end of every minute of recorded time."""
    db = workdir / "data" / "collabd.sqlite3"
    store = SQLiteStore(db)
    record = SessionRecord("classroom", "class.ipynb", "e" * 43, "v" * 43, T0)
    store.add_session(record)
    per_minute = int(60 * people * rate)
    rows: list[dict[str, Any]] = []

    def measure(made: int) -> None:
        if made >= per_minute * (len(rows) + 1) or made >= n:
            rows.append({"updates": made, "stored_bytes": store.storage_bytes(record.id)})

    # an append every 50 updates at most: a minute ends within 50 updates of where it should
    generate(store, record.id, n, every, "typing", people=people, dt=1 / (people * rate),
             on_append=measure, batch_max=50)  # fmt: skip
    store.close()
    rows.append({"updates": n, "file_bytes": _file_bytes(db)})  # checkpointed: the one file
    return rows


def _file_bytes(db: Path) -> int:
    return sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))


def _seek_http(
    workdir: Path, record: SessionRecord, moments: dict[str, list[float]], browser: bool = False
) -> dict[str, Any]:
    """Through the hub: a seek where its reader keeps a document (as a player scrubs), cold seeks
    (backwards over the region's moments: a kept document never serves an earlier moment), and
    the reads the player makes as it opens, with how long everyone else waited meanwhile."""
    (workdir / "root").mkdir(exist_ok=True)
    file = workdir / "root" / record.path
    file.write_text(notebook.to_text(notebook.empty_notebook()))
    os.utime(file, (T0, T0))  # older than the log: the hub keeps its document and rewrites it
    hub = Hub(workdir / "root", workdir / "data", {})
    result: dict[str, Any] = {}
    try:
        hub.start()
        url = f"/api/sessions/{record.id}/recording/notebook?t="
        hub.get(url + repr(moments["end"][0]), record.view_token)  # the room loads once
        for name, region in moments.items():
            t = region[0]
            cold = [
                _once(lambda t=t: hub.get(url + repr(t), record.view_token)) for t in region[::-1]
            ]
            result[f"seek_{name}_http_cold_p50_ms"] = statistics.median(cold)
            result[f"seek_{name}_http_cold_max_ms"] = max(cold)
            ms, _ = _timed(lambda t=t: hub.get(url + repr(t), record.view_token))
            result[f"seek_{name}_http_ms"] = ms
            for base in ("state", "parts"):
                window = f"/api/sessions/{record.id}/recording/events?updates=1&base={base}"
                window += f"&from={t!r}&to={t + 30!r}"  # the player's cold seek: 30 s ahead
                took, stalled = _while_probed(hub, lambda w=window: hub.get(w, record.view_token))
                result[f"window_{name}_{base}_ms"] = took
                result[f"window_{name}_{base}_stall_ms"] = stalled
            # the chat at t (what the player asks as it opens) rebuilds the document each time
            chat = f"/api/sessions/{record.id}/recording/chat?t={t!r}"
            took, stalled = _while_probed(hub, lambda c=chat: hub.get(c, record.view_token))
            result[f"chat_{name}_ms"], result[f"chat_{name}_stall_ms"] = took, stalled
        if browser:
            result.update(_seek_player(hub, record, moments))
    finally:
        hub.stop()
    return result


# [shown, ready]: the moment drawn (a preview from the hub's seek index, where the page has one),
# then the recorded document in (what playing on from there needs; the same moment on a page
# without previews)
_PLAYER_SEEK = """async (t) => {
  const frame = () => new Promise((done) => requestAnimationFrame(() => setTimeout(done, 0)))
  const started = performance.now()
  await window.collabd.replay.seek(t)
  await frame()
  const shown = performance.now() - started
  while (window.collabd.replay.previewing) await new Promise((done) => setTimeout(done, 2))
  await frame()
  return [shown, performance.now() - started]
}"""


def _seek_player(
    hub: Hub, record: SessionRecord, moments: dict[str, list[float]]
) -> dict[str, Any]:
    """The player's seek in a real browser: each region's moments backwards (cold: the player
    keeps no document for an earlier moment), each followed by one 1 s later (near)."""
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("COLLABD_CHROMIUM", "/usr/bin/chromium")
    result: dict[str, Any] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(f"{hub.base}/s/{record.id}/replay#token={record.view_token}")
        page.wait_for_selector("body[data-ready=true]", timeout=300_000)
        for name, region in moments.items():
            cold, ready, near = [], [], []
            for t in region[::-1]:
                shown, loaded = page.evaluate(_PLAYER_SEEK, t)
                cold.append(shown)
                ready.append(loaded)
                near.append(page.evaluate(_PLAYER_SEEK, t + 1)[1])
            for label, times in (("cold", cold), ("ready", ready), ("near", near)):
                result[f"player_{name}_{label}_p50_ms"] = statistics.median(times)
                result[f"player_{name}_{label}_max_ms"] = max(times)
        browser.close()
    return result


def _while_probed(hub: Hub, fn: Callable[[], Any], repeat: int = 5) -> tuple[float, float]:
    """`fn`'s p50 time (ms), and the hub's worst answer to `GET /api/health` meanwhile (ms,
    the max over the repeats): how long everyone else the hub serves waited."""

    def probe(done: threading.Event, worst: list[float]) -> None:
        while not done.is_set():
            started = time.perf_counter()
            urllib.request.urlopen(f"{hub.base}/api/health", timeout=30).read()
            worst[0] = max(worst[0], time.perf_counter() - started)
            time.sleep(0.002)

    times, stalls = [], []
    for _ in range(repeat):
        done, worst = threading.Event(), [0.0]
        prober = threading.Thread(target=probe, args=(done, worst))
        prober.start()
        time.sleep(0.05)
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
        done.set()
        prober.join()
        stalls.append(worst[0])
    return statistics.median(times) * 1000, max(stalls) * 1000


# 3. overhead on the live path


class Hub:
    def __init__(self, root: Path, data: Path, env: dict[str, str]) -> None:
        self.root, self.data, self.env = root, data, env
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        cmd = [
            sys.executable, "-m", "collabd.cli", "serve", "--port", str(self.port),
            "--root", str(self.root), "--data", str(self.data), "--token", TOKEN,
            "--log-level", "warning",
        ]  # fmt: skip
        env = {**os.environ, **self.env}
        self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.base}/api/health", timeout=1).read()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("hub did not start")

    def get(self, path: str, token: str) -> bytes:
        req = urllib.request.Request(self.base + path, headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(req, timeout=120) as resp:
            return bytes(resp.read())

    def session(self, path: str) -> dict[str, Any]:
        req = urllib.request.Request(
            self.base + "/api/sessions",
            data=json.dumps({"path": path}).encode(),
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=60) as resp:
            result: dict[str, Any] = json.loads(resp.read())
            return result

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


def _state_vector(doc: Doc[Any]) -> dict[int, int]:
    decoder = Decoder(doc.get_state())
    return {
        decoder.read_var_uint(): decoder.read_var_uint() for _ in range(decoder.read_var_uint())
    }


async def live_run(hub: Hub, seconds: float, editors: int) -> dict[str, float]:
    s = hub.session(f"live-{time.time_ns()}.ipynb")
    clients = [NotebookClient.from_link(s["edit_url"], name=f"e{i}") for i in range(editors)]
    probe = NotebookClient.from_link(s["edit_url"], name="probe")
    watcher = NotebookClient.from_link(s["edit_url"], name="watcher")
    for c in [*clients, probe, watcher]:
        await c.connect()
    cell = probe.cell_ids()[0]
    sent: list[tuple[int, float]] = []  # (probe clock after the edit, send time)
    latencies: list[float] = []
    seen = 0

    handle = watcher._handle

    async def on_frame(frame: bytes) -> None:  # after the frame is applied, outside a transaction
        nonlocal seen
        await handle(frame)
        now = time.perf_counter()
        clock = _state_vector(watcher.doc).get(probe.client_id, 0)
        while seen < len(sent) and sent[seen][0] <= clock:
            latencies.append(now - sent[seen][1])
            seen += 1

    watcher._handle = on_frame  # type: ignore[method-assign]

    async def type_(client: NotebookClient, rate: float, probe_: bool) -> None:
        rng = random.Random(client.name)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            text = client.text(cell)
            t = time.perf_counter()
            client.insert_text(cell, rng.randint(0, len(text)), rng.choice("abc "))
            if probe_:
                sent.append((_state_vector(client.doc)[client.client_id], t))
            else:
                await client.set_presence(cursor={"cell": cell, "at": len(text)})
            await asyncio.sleep(1 / rate)

    await asyncio.gather(type_(probe, 20, True), *(type_(c, 5, False) for c in clients))
    await asyncio.sleep(1.0)
    for c in [*clients, probe, watcher]:
        await c.close()
    latencies.sort()
    return {
        "edits": len(sent),
        "delivered": len(latencies),
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)],
    }


async def overhead_bench(workdir: Path, seconds: float, editors: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for record in ["0", "1", "0", "1"]:
        where = workdir / f"live-{record}-{len(rows)}"
        (where / "root").mkdir(parents=True)
        hub = Hub(where / "root", where / "data", {"COLLABD_RECORD": record})
        hub.start()
        try:
            row = await live_run(hub, seconds, editors)
        finally:
            hub.stop()
        store = SQLiteStore(where / "data" / "collabd.sqlite3")
        rid = store.sessions()[0].id
        row["record"] = record == "1"
        row["presence_entries"] = store.count(rid, kinds=(AWARENESS,))
        store.close()
        rows.append(row)
    return rows


SEEK_ROWS = (
    [
        ("snapshots", "snapshots", "{:.0f}"),
        ("final state (B)", "final_state_bytes", "{:,.0f}"),
        ("log B/update", "bytes_per_update_log_only", "{:.1f}"),
        ("log+snapshots B/update", "bytes_per_update_log_and_snapshots", "{:.1f}"),
        ("SQLite file B/update", "sqlite_file_bytes_per_update", "{:.1f}"),
        ("storage / log data", "storage_over_log", "{:.2f}"),
        ("ref: apply final state (ms)", "ref_apply_final_ms", "{:.1f}"),
        ("seek index: build µs/update", "index_us_per_update", "{:.1f}"),
        ("seek index B/update", "index_bytes_per_update", "{:.1f}"),
        ("seek index / log data", "index_over_log", "{:.2f}"),
    ]
    + [
        (f"seek {region} {label} {stat} (ms)", f"seek_{region}_{label}_{stat}_ms", "{:.1f}")
        for region in ("start", "middle", "end")
        for label in ("cold", "near")
        for stat in ("p50", "max")
    ]
    + [
        (f"seek {r} replayed (max)", f"seek_{r}_replayed_max", "{:.0f}")
        for r in ("start", "middle", "end")
    ]
)


def _seek_subprocess(tree: Path | None, args: argparse.Namespace, pattern: str) -> dict[str, Any]:
    """The seek part in a fresh process, on `tree`'s collabd (None: this work tree's)."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        cmd = [
            sys.executable, __file__, "--seek-json", out.name, "--patterns", pattern,
            "--updates", str(args.updates),
        ]  # fmt: skip
        if args.snapshot_every:
            cmd += ["--snapshot-every", str(args.snapshot_every)]
        env = {**os.environ, "COLLABD_BENCH_TREE": str(tree) if tree else ""}
        subprocess.run(cmd, env=env, check=True, timeout=600)
        result: dict[str, Any] = json.loads(Path(out.name).read_text())
        return result


def _checkout(ref: str, dest: Path) -> Path:
    """`ref`'s collabd/ package, unpacked with `git archive` (the repository is not touched)."""
    dest.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", ref, "collabd"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def _med(values: list[float]) -> str:
    if not values:
        return "-"
    lo, hi, mid = min(values), max(values), statistics.median(values)
    return f"{mid:.3g}" if len(values) == 1 or lo == hi else f"{mid:.3g} ({lo:.3g}-{hi:.3g})"


def print_compare(pattern: str, runs: dict[str, list[dict[str, Any]]]) -> None:
    names = list(runs)
    first = runs[names[0]][0]
    print(
        f"\nseek and storage, pattern {pattern!r}, {first['updates']:,} updates;"
        " median (range) over runs"
    )
    header = f"{'metric':<32}" + "".join(f" | {n:<22}" for n in names)
    if len(names) == 2:
        header += " | ratio"
    print(header)
    print("-" * len(header))
    for label, key, _ in SEEK_ROWS:
        cols = [[float(r[key]) for r in runs[n] if key in r] for n in names]
        line = f"{label:<32}" + "".join(f" | {_med(c):<22}" for c in cols)
        if len(names) == 2 and cols[0] and cols[1] and statistics.median(cols[0]):
            line += f" | {statistics.median(cols[1]) / statistics.median(cols[0]):.2f}x"
        print(line)
    # in-run ratios: each seek over the same process's reference (the final state applied)
    for name in names:
        rel = [
            max(r[f"seek_{g}_cold_max_ms"] for g in ("start", "middle", "end"))
            / r["ref_apply_final_ms"]
            for r in runs[name]
        ]
        print(f"  {name}: worst cold seek / ref apply = {_med(rel)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=200_000)
    parser.add_argument(
        "--snapshot-every", type=int, default=0, help="default: the code's own SNAPSHOT_EVERY"
    )
    parser.add_argument("--live-s", type=float, default=8.0)
    parser.add_argument("--editors", type=int, default=4)
    parser.add_argument(
        "--patterns", default="typing,random", help="typing, random, typing,random or both"
    )
    parser.add_argument("--compare", metavar="REF", help="also run the seek part on REF's code")
    parser.add_argument("--rounds", type=int, default=1, help="seek runs per code version")
    parser.add_argument("--http", action="store_true", help="seeks over HTTP too (no --compare)")
    parser.add_argument(
        "--browser", action="store_true", help="with --http: the player's seek in Chromium"
    )
    parser.add_argument("--no-live", action="store_true", help="only the seek and storage part")
    parser.add_argument("--seek-json", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--generate-into", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--class-growth",
        type=int,
        metavar="EDITS",
        help="only the store of a class: EDITS one-character edits by --people in 20 cells",
    )
    parser.add_argument("--people", type=int, default=10)
    parser.add_argument("--rate", type=float, default=5.0, help="edits/s per person")
    args = parser.parse_args()
    patterns = [p for p in args.patterns.replace("both", "typing,random").split(",") if p]
    if unknown := set(patterns) - {"typing", "random"}:
        parser.error(f"unknown pattern(s): {', '.join(sorted(unknown))}")
    from collabd.settings import Settings

    every = args.snapshot_every or Settings().snapshot_every
    if args.class_growth:
        with tempfile.TemporaryDirectory(prefix="collabd-recbench-") as tmp:
            rows = class_growth(args.class_growth, every, Path(tmp), args.people, args.rate)
        print(f"store of {args.people} people typing {args.rate:g}/s each in 20 cells")
        print(f"{'minute':>6} {'updates':>8} {'stored MB':>10} {'this minute MB':>15}")
        before = 0
        for minute, row in enumerate(rows[:-1], 1):
            stored, grew = row["stored_bytes"], row["stored_bytes"] - before
            before = stored
            print(f"{minute:6d} {row['updates']:8d} {stored / 1e6:10.2f} {grew / 1e6:15.2f}")
        print(f"SQLite file once closed: {rows[-1]['file_bytes'] / 1e6:.2f} MB")
        return
    if args.generate_into:  # the recording only, in a subprocess of the seek part
        args.generate_into.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        made = _generate_into(args.generate_into, args.updates, every, patterns[0])
        print(json.dumps(made))
        return
    if args.seek_json:  # one seek run, in a subprocess of --compare
        with tempfile.TemporaryDirectory(prefix="collabd-recbench-") as tmp:
            seek = seek_bench(args.updates, every, Path(tmp) / "seek", patterns[0], False)
        seek["storage_over_log"] = (
            seek["bytes_per_update_log_and_snapshots"] / seek["bytes_per_update_log_only"]
        )
        args.seek_json.write_text(json.dumps(seek))
        return
    report: dict[str, Any] = {"seek": {}}
    with tempfile.TemporaryDirectory(prefix="collabd-recbench-") as tmp:
        workdir = Path(tmp)
        tree = _checkout(args.compare, workdir / "ref") if args.compare else None
        for pattern in patterns:
            runs: dict[str, list[dict[str, Any]]] = {}
            for _ in range(args.rounds):  # alternating, so both see the same machine
                if tree is not None:
                    runs.setdefault(f"{args.compare}", []).append(
                        _seek_subprocess(tree, args, pattern)
                    )
                if args.http and tree is None:
                    seek = seek_bench(
                        args.updates,
                        every,
                        workdir / f"seek-{pattern}",
                        pattern,
                        True,
                        args.browser,
                    )
                    seek["storage_over_log"] = (
                        seek["bytes_per_update_log_and_snapshots"]
                        / seek["bytes_per_update_log_only"]
                    )
                else:
                    seek = _seek_subprocess(None, args, pattern)
                runs.setdefault("this tree", []).append(seek)
            report["seek"][pattern] = runs
            print_compare(pattern, runs)
            if args.http and tree is None:
                for name in ("start", "middle", "end"):
                    last = runs["this tree"][-1]
                    print(
                        f"  HTTP seek {name}: cold p50 {last[f'seek_{name}_http_cold_p50_ms']:.1f}"
                        f" ms, max {last[f'seek_{name}_http_cold_max_ms']:.1f} ms; where the"
                        f" reader keeps the document {last[f'seek_{name}_http_ms']:.1f} ms"
                    )
                    for base in ("state", "parts"):
                        took, stall = (last[f"window_{name}_{base}{x}_ms"] for x in ("", "_stall"))
                        print(
                            f"  player window {name}, base={base}: {took:.1f} ms, "
                            f"the hub's slowest /api/health meanwhile {stall:.1f} ms"
                        )
                    took, stall = last[f"chat_{name}_ms"], last[f"chat_{name}_stall_ms"]
                    print(
                        f"  chat at {name}: {took:.1f} ms, "
                        f"the hub's slowest /api/health meanwhile {stall:.1f} ms"
                    )
                    if args.browser:
                        cold, ready, near = (
                            (last[f"player_{name}_{k}_p50_ms"], last[f"player_{name}_{k}_max_ms"])
                            for k in ("cold", "ready", "near")
                        )
                        print(
                            f"  player seek {name} (Chromium, to the next frame): cold p50"
                            f" {cold[0]:.1f} ms, max {cold[1]:.1f}; the recorded document in"
                            f" (ready to play) p50 {ready[0]:.1f}, max {ready[1]:.1f}; near p50"
                            f" {near[0]:.1f}, max {near[1]:.1f}"
                        )
        if not args.no_live:
            rows = asyncio.run(overhead_bench(workdir, args.live_s, args.editors))
            report["live"] = rows
            print(f"\nlive path, {args.editors} editors + probe, {args.live_s:.0f} s per run")
            print(
                f"{'record':<7} {'edits':>6} {'delivered':>9} {'p50 ms':>7} {'p99 ms':>7}"
                f" {'presence rows':>13}"
            )
            for row in rows:
                print(
                    f"{'on' if row['record'] else 'off':<7} {row['edits']:6d} "
                    f"{row['delivered']:9d} {row['p50_ms']:7.2f} {row['p99_ms']:7.2f} "
                    f"{row['presence_entries']:13d}"
                )
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
