"""Recording benchmark: seek time in a long recording, storage per update, and what recording
costs the live edit path.

    .venv/bin/python bench/recording_bench.py                # 200,000 updates, ~3 min
    .venv/bin/python bench/recording_bench.py --updates 20000 --live-s 4   # quick check

1. Seek: a recording of N typing updates (random inserts and deletes in 20 cells, a new cell now
   and then, 20 updates/s of recorded time) is written to a SQLite store as the hub writes it
   (a snapshot after every `snapshot_every` updates). Times `recording.notebook_at` (rebuild the
   document at t and read it as nbformat) at the start, middle and end, in process and over HTTP
   through `collabd serve` on that store (GET /recording/notebook?t=).
2. Storage: bytes of log data and snapshots per update, and the SQLite file size per update.
3. Overhead: two `collabd serve` processes, COLLABD_RECORD=1 and =0, run the same live workload
   one after the other, twice each (off, on, off, on): 4 Python editors typing 5 edits/s each and
   moving their cursor with every edit (awareness), and a probe pair: the probe types 20 edits/s
   and a watcher measures delivery latency (send to applied) from the state vector.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from jupyter_ydoc import YNotebook
from pycrdt import Decoder, Doc, Text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from collabd import notebook, recording  # noqa: E402
from collabd.client import NotebookClient  # noqa: E402
from collabd.store import NewEntry, SessionRecord, Snapshot, SQLiteStore  # noqa: E402
from collabd.store.base import AWARENESS, UPDATE  # noqa: E402

TOKEN = "bench-" + "t" * 40
T0 = 1_700_000_000.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# 1. a long recording


def generate(
    store: SQLiteStore, room: str, n: int, every: int, pattern: str = "typing", seed: int = 1
) -> float:
    """Write n one-keystroke updates; returns the recorded time of the last one.

    "typing": four participants take turns (about 50 keystrokes each), each typing at their own
    cursor, with backspaces, and now and then moving the cursor or adding a cell.
    "random": every keystroke at a random place in a random cell (the worst case for the CRDT:
    nothing merges, so the document state grows with every update).
    """
    rng = random.Random(seed)
    doc: Doc[Any] = Doc()
    ynb = YNotebook(doc)
    pending: list[bytes] = []
    doc.observe(lambda e: pending.append(e.update))
    notebook.load_into(doc, notebook.empty_notebook())
    for _ in range(19):
        ynb.ycells.append(ynb.create_ycell({"cell_type": "code", "source": "", "metadata": {}}))
    t, since = T0, 0
    batch: list[NewEntry] = []
    store.append(room, [NewEntry(t, UPDATE, "import", u) for u in pending])
    pending.clear()
    cursors = [[rng.randrange(20), 0] for _ in range(4)]
    who, i, made = 0, -1, 0
    while made < n:  # a backspace at the start of a cell changes nothing: count real updates
        i += 1
        cells = ynb.ycells
        if rng.random() < 0.02:
            who = rng.randrange(4)
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
        t += 0.05
        made += len(pending)
        batch.extend(NewEntry(t, UPDATE, f"peer:{who}", u) for u in pending)
        pending.clear()
        if i % 50 == 0:
            batch.append(NewEntry(t, AWARENESS, f"peer:{who}", _presence(who, i)))
        since += 1
        if since >= every or made >= n:
            seq = store.append(room, batch)
            store.add_snapshot(room, Snapshot(seq, t, doc.get_update()))
            batch, since = [], 0
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


def seek_bench(n: int, every: int, workdir: Path, pattern: str) -> dict[str, Any]:
    db = workdir / "data" / "collabd.sqlite3"
    store = SQLiteStore(db)
    record = SessionRecord("benchroom", "long.ipynb", "e" * 43, "v" * 43, T0)
    store.add_session(record)
    started = time.perf_counter()
    end = generate(store, record.id, n, every, pattern)
    gen_s = time.perf_counter() - started
    updates = store.count(record.id)
    result: dict[str, Any] = {
        "updates": updates,
        "pattern": pattern,
        "final_state_bytes": len(store.latest_snapshot(record.id).state),  # type: ignore[union-attr]
        "generate_s": gen_s,
        "bytes_per_update_log_and_snapshots": store.storage_bytes(record.id) / updates,
        "bytes_per_update_log_only": sum(
            e.size for e in store.entry_index(record.id, kinds=(UPDATE,))
        )
        / updates,
    }
    store.close()
    result["sqlite_file_bytes_per_update"] = _file_bytes(db) / updates
    store = SQLiteStore(db)
    moments = {"start": T0 + 0.5, "middle": (T0 + end) / 2, "end": end}
    for name, t in moments.items():
        ms, _ = _timed(lambda t=t: recording.doc_at(store, record.id, t).doc())
        state = recording.doc_at(store, record.id, t)
        ms_nb, _ = _timed(lambda t=t: recording.notebook_at(store, record.id, t))
        result[f"seek_{name}_doc_ms"] = ms
        result[f"seek_{name}_notebook_ms"] = ms_nb
        result[f"seek_{name}_replayed"] = state.replayed
    store.close()
    result.update(_seek_http(workdir, record, moments))
    return result


def _file_bytes(db: Path) -> int:
    return sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))


def _seek_http(workdir: Path, record: SessionRecord, moments: dict[str, float]) -> dict[str, Any]:
    (workdir / "root").mkdir(exist_ok=True)
    file = workdir / "root" / record.path
    file.write_text(notebook.to_text(notebook.empty_notebook()))
    os.utime(file, (T0, T0))  # older than the log: the hub keeps its document and rewrites it
    hub = Hub(workdir / "root", workdir / "data", {})
    result: dict[str, Any] = {}
    try:
        hub.start()
        url = f"/api/sessions/{record.id}/recording/notebook?t="
        hub.get(url + repr(moments["end"]), record.view_token)  # the room loads once
        for name, t in moments.items():
            ms, _ = _timed(lambda t=t: hub.get(url + repr(t), record.view_token))
            result[f"seek_{name}_http_ms"] = ms
    finally:
        hub.stop()
    return result


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=200_000)
    parser.add_argument("--snapshot-every", type=int, default=500)
    parser.add_argument("--live-s", type=float, default=8.0)
    parser.add_argument("--editors", type=int, default=4)
    parser.add_argument("--pattern", choices=["typing", "random"], default="typing")
    parser.add_argument("--no-live", action="store_true", help="only the seek and storage part")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="collabd-recbench-") as tmp:
        workdir = Path(tmp)
        seek = seek_bench(args.updates, args.snapshot_every, workdir / "seek", args.pattern)
        print(
            f"\nrecording of {seek['updates']:,} updates, pattern {args.pattern!r} (generated in"
            f" {seek['generate_s']:.0f} s; final document state {seek['final_state_bytes']:,} B)"
        )
        print(f"{'seek at':<8} {'doc ms':>8} {'notebook ms':>12} {'HTTP ms':>9} {'replayed':>9}")
        for name in ("start", "middle", "end"):
            print(
                f"{name:<8} {seek[f'seek_{name}_doc_ms']:8.1f} "
                f"{seek[f'seek_{name}_notebook_ms']:12.1f} {seek[f'seek_{name}_http_ms']:9.1f} "
                f"{seek[f'seek_{name}_replayed']:9d}"
            )
        print(
            f"storage per update: {seek['bytes_per_update_log_only']:.1f} B log, "
            f"{seek['bytes_per_update_log_and_snapshots']:.1f} B log+snapshots, "
            f"{seek['sqlite_file_bytes_per_update']:.1f} B SQLite file"
        )
        rows = (
            [] if args.no_live else asyncio.run(overhead_bench(workdir, args.live_s, args.editors))
        )
        if args.no_live:
            return
        print(f"\nlive path, {args.editors} editors + probe, {args.live_s:.0f} s per run")
        print(
            f"{'record':<7} {'edits':>6} {'delivered':>9} {'p50 ms':>7} {'p99 ms':>7}"
            f" {'presence rows':>13}"
        )
        for row in rows:
            print(
                f"{'on' if row['record'] else 'off':<7} {row['edits']:6d} {row['delivered']:9d} "
                f"{row['p50_ms']:7.2f} {row['p99_ms']:7.2f} {row['presence_entries']:13d}"
            )
        if args.json:
            args.json.write_text(json.dumps({"seek": seek, "live": rows}, indent=1))


if __name__ == "__main__":
    main()
