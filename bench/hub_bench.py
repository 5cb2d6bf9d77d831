"""Benchmark collabd against pycrdt-websocket in one run, with the same Node Yjs load generator.

    .venv/bin/python bench/hub_bench.py                 # both servers, defaults below
    .venv/bin/python bench/hub_bench.py --targets baseline --editors 10 --duration 5

Each server runs alone on --server-cpu, the load generator (bench/loadgen, real `yjs`) on
--load-cpu. See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
LOADGEN = BENCH / "loadgen"
VENV_BIN = Path(sys.executable).parent

Json = dict[str, Any]
DEFLATE = [False]  # set from --deflate: every loadgen client offers permessage-deflate


# --- notebooks -------------------------------------------------------------------------------


def make_notebook(cells: int) -> Json:
    """An nbformat 4.5 notebook of `cells` small code cells, a markdown cell every tenth."""
    out: list[Json] = []
    for i in range(cells):
        cell_id = f"cell-{i:05d}"
        if i % 10 == 0:
            src = f"## Section {i // 10}\nSome prose here."
            out.append({"cell_type": "markdown", "id": cell_id, "metadata": {}, "source": src})
        else:
            out.append(
                {
                    "cell_type": "code",
                    "id": cell_id,
                    "metadata": {},
                    "execution_count": None,
                    "outputs": [],
                    "source": f"x{i} = {i} * 2\nprint(x{i})",
                }
            )
    kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": kernelspec, "language_info": {"name": "python"}},
        "cells": out,
    }


def write_notebook(root: Path, name: str, cells: int) -> str:
    (root / name).write_text(json.dumps(make_notebook(cells), indent=1))
    return name


# --- process helpers -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"server did not listen on {port} within {timeout} s")


def cpu_seconds(pid: int) -> float:
    """utime+stime of the process and its live descendants (threads are included)."""
    proc = psutil.Process(pid)
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def rss_bytes(pid: int) -> int:
    rss: int = psutil.Process(pid).memory_info().rss
    return rss


NICE = [0]  # set from --nice: priority of the server and load generator


def pinned(cpu: int | None, cmd: list[str]) -> list[str]:
    """`cmd` on core `cpu` (taskset), at priority NICE (the same pid: both exec the command)."""
    if NICE[0] and shutil.which("nice") is not None:
        cmd = ["nice", "-n", str(NICE[0]), *cmd]
    if cpu is None or shutil.which("taskset") is None:
        return cmd
    return ["taskset", "-c", str(cpu), *cmd]


# --- servers ---------------------------------------------------------------------------------


@dataclass
class Server:
    """A running server under test: how to reach a notebook's room, and its process."""

    name: str
    proc: subprocess.Popen[bytes]
    port: int
    root: Path
    room_url: Callable[[str], str]
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def start_baseline(work: Path, cpu: int | None, ws: str) -> Server:
    root = work / "root"
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = work / "server.log"
    cmd = [sys.executable, str(BENCH / "baseline_server.py"), "--port", str(port)]
    cmd += ["--root", str(root), "--ws", ws]
    proc = subprocess.Popen(pinned(cpu, cmd), stdout=log.open("wb"), stderr=subprocess.STDOUT)
    wait_port(port, proc)
    return Server("baseline", proc, port, root, lambda nb: f"ws://127.0.0.1:{port}/{nb}", log)


def start_node(work: Path, cpu: int | None) -> Server:
    """The reference: a minimal y-websocket server on Node's yjs (loadgen/node_server.mjs)."""
    root = work / "root"
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = work / "server.log"
    cmd = ["node", str(LOADGEN / "node_server.mjs"), str(port), str(root)]
    proc = subprocess.Popen(pinned(cpu, cmd), stdout=log.open("wb"), stderr=subprocess.STDOUT)
    wait_port(port, proc)
    return Server("node", proc, port, root, lambda nb: f"ws://127.0.0.1:{port}/{nb}", log)


def http_json(url: str, token: str, body: Json | None = None) -> Json:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method="GET" if body is None else "POST")
    req.add_header("Authorization", f"Bearer {token}")
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=30) as resp:
        out: Json = json.loads(resp.read())
        return out


def start_collabd(
    work: Path,
    cpu: int | None,
    extra: list[str],
    env: dict[str, str],
    collabd_cmd: list[str] | None = None,
) -> Server:
    root, data = work / "root", work / "data"
    root.mkdir(parents=True, exist_ok=True)
    data.mkdir(parents=True, exist_ok=True)
    port = free_port()
    token = "bench-" + os.urandom(16).hex()
    log = work / "server.log"
    exe = shutil.which("collabd", path=str(VENV_BIN)) or "collabd"
    cmd = [*(collabd_cmd or [exe]), "serve", "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--root", str(root), "--data", str(data), "--token", token, *extra]
    proc = subprocess.Popen(
        pinned(cpu, cmd), stdout=log.open("wb"), stderr=subprocess.STDOUT, env={**os.environ, **env}
    )
    wait_port(port, proc)

    def room_url(nb: str) -> str:
        s = http_json(f"http://127.0.0.1:{port}/api/sessions", token, {"path": nb})
        return f"ws://127.0.0.1:{port}/ws/{s['id']}?token={s['edit_token']}"

    return Server("collabd", proc, port, root, room_url, log)


# --- load generator --------------------------------------------------------------------------


def machine_busy_seconds() -> float:
    """CPU time all cores spent on anything but idle/iowait since boot."""
    t = psutil.cpu_times()
    busy: float = sum(t) - t.idle - getattr(t, "iowait", 0.0)
    return busy


def wait_quiet(threshold: float, max_wait: float, log: Callable[[str], None]) -> float:
    """Wait (at most `max_wait` s) until the machine's busy share over 1 s is under
    `threshold` (fraction of one core), so other jobs disturb the window less. Returns the
    last share seen."""
    end = time.monotonic() + max_wait
    while True:
        before = machine_busy_seconds()
        time.sleep(1.0)
        share = machine_busy_seconds() - before
        if share < threshold or time.monotonic() >= end:
            return share
        log(f"  machine busy at {100 * share:.0f}% of a core; waiting for it to calm down")


def run_loadgen(
    cfg: Json, cpu: int | None, on_mark: Callable[[str, int], None], budget: float = 600
) -> Json:
    """Run one loadgen mode; `on_mark(name, loadgen pid)` runs at each MARK before it goes on."""
    cfg = {**cfg, "budget": budget, "deflate": DEFLATE[0]}
    cmd = pinned(cpu, ["node", str(LOADGEN / "loadgen.mjs"), json.dumps(cfg)])
    proc = subprocess.Popen(
        cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=LOADGEN
    )
    assert proc.stdin is not None and proc.stdout is not None
    result: Json | None = None
    try:
        for raw in proc.stdout:
            line = raw.decode().strip()
            if line.startswith("MARK "):
                on_mark(line[5:], proc.pid)
                proc.stdin.write(b"ok\n")
                proc.stdin.flush()
            elif line.startswith("RESULT "):
                result = json.loads(line[7:])
        proc.wait(budget + 10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if result is None:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise RuntimeError(f"loadgen {cfg['mode']} failed ({proc.returncode}): {err[-2000:]}")
    return result


# --- measurements ----------------------------------------------------------------------------


@dataclass
class Options:
    editors: list[int]
    rate: float
    duration: float
    edit_cells: int
    sync_cells: int
    sync_tries: int
    idle: int
    fresh: int
    server_cpu: int | None
    load_cpu: int | None
    profile_dir: Path | None = None
    collabd_args: list[str] = field(default_factory=list)
    baseline_ws: str = "auto"
    collabd_env: dict[str, str] = field(default_factory=dict)
    fresh_tries: int = 3
    quiet_wait: float = 60.0
    phases: tuple[str, ...] = ("edit", "sync", "idle", "fresh")
    workdir: Path | None = None
    collabd_cmd: list[str] | None = None


def measure_edit(srv: Server, opt: Options, n: int) -> Json:
    url = srv.room_url(write_notebook(srv.root, f"edit-{n}.ipynb", opt.edit_cells))
    if opt.quiet_wait > 0:
        wait_quiet(0.25, opt.quiet_wait, lambda m: print(m, file=sys.stderr, flush=True))
    cpu: dict[str, float] = {}
    profiler: list[subprocess.Popen[bytes]] = []

    def on_mark(name: str, loadgen_pid: int) -> None:
        cpu[name] = cpu_seconds(srv.pid)
        cpu["loadgen-" + name] = cpu_seconds(loadgen_pid)
        cpu["machine-" + name] = machine_busy_seconds()
        if name == "edit-start" and opt.profile_dir is not None:
            profiler.append(start_profiler(srv, opt, n))

    res = run_loadgen(
        {"mode": "edit", "url": url, "n": n, "rate": opt.rate, "duration": opt.duration},
        opt.load_cpu,
        on_mark,
        budget=opt.duration + 120,
    )
    for p in profiler:
        p.wait(60)
        prof = opt.profile_dir / f"{srv.name}-{n}.txt" if opt.profile_dir else None
        if prof is not None and prof.is_file():
            summary = summarize_profile(prof)
            prof.with_suffix(".summary").write_text(summary + "\n")
            res["profileSummary"] = str(prof.with_suffix(".summary"))
    if "edit-end" in cpu:
        res["serverCpuS"] = cpu["edit-end"] - cpu["edit-start"]
        # whatever else ran on the machine meanwhile (other test runs): a noisy run shows here
        other = cpu["machine-edit-end"] - cpu["machine-edit-start"] - res["serverCpuS"]
        other -= cpu["loadgen-edit-end"] - cpu["loadgen-edit-start"]
        res["otherCpuShare"] = max(0.0, other) / res["windowS"]
        res["serverCpuShare"] = res["serverCpuS"] / res["windowS"]
        res["serverCpuUsPerDelivered"] = (
            res["serverCpuS"] / res["delivered"] * 1e6 if res.get("delivered") else None
        )
    return res


def start_profiler(srv: Server, opt: Options, n: int) -> subprocess.Popen[bytes]:
    """py-spy on the server for the editing window (it samples from the load-gen core).

    Writes collapsed stacks (`<name>-<n>.txt`, one `frame;frame;... count` per line), which
    `summarize_profile` turns into the top frames."""
    assert opt.profile_dir is not None
    opt.profile_dir.mkdir(parents=True, exist_ok=True)
    out = opt.profile_dir / f"{srv.name}-{n}.txt"
    exe = shutil.which("py-spy", path=str(VENV_BIN)) or "py-spy"
    cmd = [exe, "record", "--pid", str(srv.pid), "--duration", str(int(opt.duration))]
    cmd += ["--rate", "250", "--nonblocking", "--format", "raw", "-o", str(out)]
    return subprocess.Popen(
        pinned(opt.load_cpu, cmd), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def summarize_profile(path: Path, top: int = 25) -> str:
    """Inclusive and self share of the busiest frames, idle thread-pool waits left out."""
    incl: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = [_frame(f) for f in stack.split(";")]
        if frames[-1].startswith(("_worker (thread.py", "EpollSelector.select")):
            continue  # waiting, not working
        n = int(count)
        total += n
        for f in set(frames):
            incl[f] += n
        own[frames[-1]] += n
    lines = [f"{path.name}: {total} busy samples"]
    lines += [f"  incl {100 * v / total:5.1f}%  {k}" for k, v in incl.most_common(top)]
    lines += [f"  self {100 * v / total:5.1f}%  {k}" for k, v in own.most_common(top)]
    return "\n".join(lines)


def _frame(raw: str) -> str:
    """`func (path/to/file.py:12)` -> `func (file.py:12)`."""
    name, sep, where = raw.partition(" (")
    return f"{name} ({where.rsplit('/', 1)[-1]}" if sep else raw


def measure_sync(srv: Server, opt: Options) -> Json:
    url = srv.room_url(write_notebook(srv.root, "sync.ipynb", opt.sync_cells))
    # the first try opens the room cold (loads the .ipynb); the next ones join a loaded room
    cpu: dict[str, float] = {}

    def on_mark(name: str, _pid: int) -> None:
        cpu[name] = cpu_seconds(srv.pid)

    res = run_loadgen(
        {"mode": "sync", "url": url, "tries": opt.sync_tries + 1}, opt.load_cpu, on_mark
    )
    times = res.get("times", [])
    if "sync-warm-end" in cpu and len(times) > 1:
        res["serverCpuMsPerWarmSync"] = (
            (cpu["sync-warm-end"] - cpu["sync-warm-start"]) / (len(times) - 1) * 1e3
        )
    res["cold"] = times[0] if times else None
    res["warmMedian"] = statistics.median(times[1:]) if len(times) > 1 else None
    return res


def measure_idle(srv: Server, opt: Options) -> Json:
    url = srv.room_url(write_notebook(srv.root, "idle.ipynb", opt.edit_cells))
    rss: dict[str, int] = {}

    def on_mark(name: str, _pid: int) -> None:
        time.sleep(0.5)  # let the server settle before reading its RSS
        rss[name] = rss_bytes(srv.pid)

    res = run_loadgen({"mode": "idle", "url": url, "count": opt.idle}, opt.load_cpu, on_mark)
    if "idle-after" in rss:
        res["rssBefore"] = rss["idle-before"]
        res["rssAfter"] = rss["idle-after"]
        synced = res.get("synced") or 0  # a refused connection costs nothing: count synced ones
        res["bytesPerConn"] = (rss["idle-after"] - rss["idle-before"]) / synced if synced else None
    return res


def measure_fresh(srv: Server, opt: Options) -> Json:
    runs = []
    for i in range(opt.fresh_tries):
        url = srv.room_url(write_notebook(srv.root, f"fresh-{i}.ipynb", opt.edit_cells))
        cfg = {"mode": "fresh", "url": url, "count": opt.fresh}
        runs.append(run_loadgen(cfg, opt.load_cpu, lambda *_: None))
    synced = [r.get("synced") for r in runs]
    return {"runs": runs, "synced": "/".join(map(str, synced))}


def run_target(name: str, opt: Options, log: Callable[[str], None]) -> Json:
    work = Path(tempfile.mkdtemp(prefix=f"bench-{name}-", dir=opt.workdir))
    if name == "collabd":
        # the idle phase needs more participants than collabd's default limit allows
        env = {"COLLABD_MAX_PARTICIPANTS": str(max(200, opt.idle + 10)), **opt.collabd_env}
        srv = start_collabd(work, opt.server_cpu, opt.collabd_args, env, opt.collabd_cmd)
    elif name == "node":
        srv = start_node(work, opt.server_cpu)
    else:
        srv = start_baseline(work, opt.server_cpu, opt.baseline_ws)
    out: Json = {"name": name, "pid": srv.pid}
    phases: list[tuple[str, str, Callable[[], Json]]] = [
        (
            f"edit{n}",
            f"{n} editors x {opt.rate}/s for {opt.duration} s",
            partial(measure_edit, srv, opt, n),
        )
        for n in opt.editors
    ]
    phases += [
        ("sync", f"sync {opt.sync_cells} cells", partial(measure_sync, srv, opt)),
        ("idle", f"{opt.idle} idle connections", partial(measure_idle, srv, opt)),
        (
            "fresh",
            f"{opt.fresh} clients open a fresh room at once",
            partial(measure_fresh, srv, opt),
        ),
    ]
    phases = [ph for ph in phases if ph[0].rstrip("0123456789") in opt.phases]
    try:
        for key, what, measure in phases:
            log(f"[{name}] {what}")
            try:
                out[key] = measure()
            except Exception as exc:  # a failed phase still lets the others report
                log(f"[{name}] {key} FAILED: {exc!r}")
                out[key] = {"error": repr(exc)}
            if srv.proc.poll() is not None:
                log(f"[{name}] server exited with {srv.proc.returncode}")
                break
        out["serverAlive"] = srv.proc.poll() is None
    finally:
        srv.stop()
        out["serverLog"] = str(srv.log)
    return out


# --- report ----------------------------------------------------------------------------------


def _get(d: Json, *path: str) -> Any:
    cur: Any = d
    for key in path:
        if not isinstance(cur, dict) or key not in cur:
            return None
        cur = cur[key]
    return cur


Row = tuple[str, list[Any], bool]


def rows(results: dict[str, Json], opt: Options, names: list[str]) -> Iterator[Row]:
    """(label, one value per target in `names`, is-a-ratio-meaningful) per table row."""

    def each(*path: str, f: Callable[[Any], Any] = lambda v: v) -> list[Any]:
        return [f(_get(results.get(name, {}), *path)) for name in names]

    for n in opt.editors:
        e = f"edit{n}"
        yield (f"N={n} latency p50 (ms)", each(e, "p50"), True)
        yield (f"N={n} latency p99 (ms)", each(e, "p99"), True)
        delivered = zip(each(e, "delivered"), each(e, "expected"), strict=True)
        yield (f"N={n} delivered/expected", [_frac(d, x) for d, x in delivered], False)
        yield (f"N={n} server CPU/delivered (us)", each(e, "serverCpuUsPerDelivered"), True)
        yield (f"N={n} server CPU share (%)", each(e, "serverCpuShare", f=_x100), True)
        yield (f"N={n} frames to clients", each(e, "framesIn"), True)
        yield (f"N={n} loadgen CPU share (%)", each(e, "loadgenCpuShare", f=_x100), False)
        yield (f"N={n} loadgen loop delay p99 (ms)", each(e, "loopDelayP99"), False)
        yield (f"N={n} other load on machine (%)", each(e, "otherCpuShare", f=_x100), False)
    cells = opt.sync_cells
    yield (f"sync {cells} cells, warm median (ms)", each("sync", "warmMedian"), True)
    yield (f"sync {cells} cells, cold open (ms)", each("sync", "cold"), True)
    yield (
        f"sync {cells} cells, server CPU per warm sync (ms)",
        each("sync", "serverCpuMsPerWarmSync"),
        True,
    )
    last_kib = _last_kib
    yield (f"sync {cells} cells, bytes to client (KiB)", each("sync", "bytes", f=last_kib), True)
    yield (f"RSS per idle conn, {opt.idle} (KiB)", each("idle", "bytesPerConn", f=_kib), True)
    yield (f"idle conns synced of {opt.idle}", each("idle", "synced"), False)
    fresh = f"fresh room: synced of {opt.fresh}, {opt.fresh_tries} rooms"
    yield (fresh, each("fresh", "synced"), False)


def _last_kib(v: Any) -> float | None:
    return v[-1] / 1024 if v else None


def _frac(a: Any, b: Any) -> str | None:
    return None if a is None or b is None else f"{a}/{b}"


def _kib(v: Any) -> float | None:
    return None if v is None else v / 1024


def _x100(v: Any) -> float | None:
    return None if v is None else 100 * v


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3g}" if abs(v) < 100 else f"{v:.0f}"
    return str(v)


def table(results: dict[str, Json], opt: Options) -> str:
    """metric | one column per target | collabd / baseline."""
    names = list(results)
    lines = [("metric", *names, "ratio")]
    for label, values, ratio_ok in rows(results, opt, names):
        if all(v is None for v in values):
            continue  # a phase that did not run
        byname = dict(zip(names, values, strict=True))
        c, b = byname.get("collabd"), byname.get("baseline")
        ratio = "-"
        if ratio_ok and isinstance(c, int | float) and isinstance(b, int | float) and b:
            ratio = f"{c / b:.2f}x"
        lines.append((label, *map(_fmt, values), ratio))
    widths = [max(len(r[i]) for r in lines) for i in range(len(lines[0]))]
    out = [" | ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)) for r in lines]
    out.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="collabd vs pycrdt-websocket benchmark")
    p.add_argument(
        "--targets",
        default="collabd,baseline",
        help="comma list of collabd, baseline, node (a minimal Node yjs server, for reference)",
    )
    p.add_argument("--editors", default="10,50", help="comma list of editor counts")
    p.add_argument("--rate", type=float, default=5.0, help="edits/s per editor")
    p.add_argument("--duration", type=float, default=20.0, help="editing window, seconds")
    p.add_argument("--edit-cells", type=int, default=20, help="cells in the edited notebook")
    p.add_argument("--sync-cells", type=int, default=1000)
    p.add_argument("--sync-tries", type=int, default=7)
    p.add_argument("--idle", type=int, default=500, help="idle connections for RSS")
    p.add_argument("--fresh", type=int, default=20, help="clients opening a fresh room at once")
    p.add_argument("--fresh-tries", type=int, default=3, help="fresh rooms, one after another")
    p.add_argument("--server-cpu", type=int, default=0, help="core for the server (-1: none)")
    p.add_argument("--load-cpu", type=int, default=1, help="core for the load gen (-1: none)")
    p.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="dir: py-spy profiles (collapsed stacks + summary) of each server per N",
    )
    p.add_argument(
        "--collabd-arg",
        action="append",
        default=[],
        help="extra argument for `collabd serve` (repeatable)",
    )
    p.add_argument(
        "--collabd-env",
        action="append",
        default=[],
        help="NAME=VALUE environment setting for collabd, e.g. COLLABD_MERGE_WINDOW_S=0.002",
    )
    p.add_argument(
        "--baseline-ws", default="auto", help="uvicorn websocket implementation for the baseline"
    )
    p.add_argument(
        "--quiet-wait",
        type=float,
        default=60.0,
        help="before each editing window, wait up to this many s for the machine to be idle",
    )
    p.add_argument(
        "--deflate", action="store_true", help="clients offer permessage-deflate, as browsers do"
    )
    p.add_argument(
        "--nice",
        type=int,
        default=-10,
        help="nice value for server and load generator (negative needs root): other jobs on "
        "the machine then disturb the measured windows less",
    )
    p.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="parent dir of the servers' notebook roots and stores (default: system temp)",
    )
    p.add_argument(
        "--collabd-cmd",
        default=None,
        help="command that stands for the `collabd` executable (split on spaces), e.g. to try "
        "another build: '.venv/bin/python /tmp/patched_collabd.py'",
    )
    p.add_argument("--phases", default="edit,sync,idle,fresh", help="which measurements to run")
    p.add_argument("--json", type=Path, default=None, help="write raw results here")
    a = p.parse_args(argv)
    if not (LOADGEN / "node_modules").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=LOADGEN, check=True)
    opt = Options(
        editors=[int(x) for x in a.editors.split(",") if x],
        rate=a.rate,
        duration=a.duration,
        edit_cells=a.edit_cells,
        sync_cells=a.sync_cells,
        sync_tries=a.sync_tries,
        idle=a.idle,
        fresh=a.fresh,
        server_cpu=None if a.server_cpu < 0 else a.server_cpu,
        load_cpu=None if a.load_cpu < 0 else a.load_cpu,
        profile_dir=a.profile,
        collabd_args=a.collabd_arg,
        baseline_ws=a.baseline_ws,
        collabd_env=dict(kv.split("=", 1) for kv in a.collabd_env),
        fresh_tries=a.fresh_tries,
        quiet_wait=a.quiet_wait,
        phases=tuple(a.phases.split(",")),
        workdir=a.workdir,
        collabd_cmd=a.collabd_cmd.split() if a.collabd_cmd else None,
    )

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    DEFLATE[0] = a.deflate
    NICE[0] = a.nice if os.geteuid() == 0 or a.nice > 0 else 0
    results: dict[str, Json] = {}
    for target in [t for t in a.targets.split(",") if t]:
        try:
            results[target] = run_target(target, opt, log)
        except Exception as exc:  # one broken target still lets the other one report
            log(f"[{target}] FAILED: {exc!r}")
            results[target] = {"error": repr(exc)}
    if a.json is not None:
        a.json.write_text(json.dumps(results, indent=1))
    print(
        f"# {','.join(map(str, opt.editors))} editors x {opt.rate} edits/s, {opt.duration} s;"
        f" edited notebook {opt.edit_cells} cells; server cpu {opt.server_cpu},"
        f" load cpu {opt.load_cpu}; nice {NICE[0]}; deflate {a.deflate};"
        " ratio = collabd / baseline"
    )
    print(table(results, opt))
    for name, res in results.items():
        for key, val in res.items():
            if isinstance(val, dict) and val.get("error"):
                print(f"# {name} {key}: {str(val['error'])[:300]}")
        if "error" in res:
            print(f"# {name}: {res['error']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
