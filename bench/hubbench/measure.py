"""One measurement per phase, and one target's whole run."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from .common import Json, Options
from .loadgen import run_loadgen
from .notebooks import write_notebook
from .procs import cpu_seconds, machine_busy_seconds, rss_bytes, wait_quiet
from .profiling import start_profiler, summarize_profile
from .servers import Server, start_baseline, start_collabd, start_node


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
        if name == "edit-start" and opt.profile_dir is not None and srv.name != "node":
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


def measure_lecture(srv: Server, opt: Options) -> Json:
    """`opt.lecture_editors` editors type (as in `edit`) while `opt.viewers` viewers (view links)
    watch: fan-out latency to everyone, server CPU per delivered update, and RSS per viewer."""
    nb = write_notebook(srv.root, "lecture.ipynb", opt.edit_cells)
    url = srv.room_url(nb)
    view = srv.view_url(nb) if srv.view_url is not None else url
    if opt.quiet_wait > 0:
        wait_quiet(0.25, opt.quiet_wait, lambda m: print(m, file=sys.stderr, flush=True))
    cpu: dict[str, float] = {}
    rss: dict[str, int] = {}

    def on_mark(name: str, _pid: int) -> None:
        if name.startswith("viewers-"):
            rss[name] = settled_rss(srv)
        else:
            cpu[name] = cpu_seconds(srv.pid)

    cfg = {
        "mode": "edit",
        "url": url,
        "viewerUrl": view,
        "viewers": opt.viewers,
        "n": opt.lecture_editors,
        "rate": opt.rate,
        "duration": opt.duration,
    }
    res = run_loadgen(cfg, opt.load_cpu, on_mark, budget=opt.duration + 240)
    if "edit-end" in cpu:
        res["serverCpuS"] = cpu["edit-end"] - cpu["edit-start"]
        res["serverCpuShare"] = res["serverCpuS"] / res["windowS"]
        res["serverCpuUsPerDelivered"] = (
            res["serverCpuS"] / res["delivered"] * 1e6 if res.get("delivered") else None
        )
    if "viewers-after" in rss:
        res["rssBefore"], res["rssAfter"] = rss["viewers-before"], rss["viewers-after"]
        res["bytesPerViewer"] = (rss["viewers-after"] - rss["viewers-before"]) / opt.viewers
    return res


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


IDLE_CPU_S = 10.0


def settled_rss(srv: Server) -> int:
    """The server's RSS, read once it has settled."""
    time.sleep(0.5)
    return rss_bytes(srv.pid)


def measure_idle(srv: Server, opt: Options) -> Json:
    url = srv.room_url(write_notebook(srv.root, "idle.ipynb", opt.edit_cells))
    rss: dict[str, int] = {}
    cpu: dict[str, float] = {}

    def on_mark(name: str, _pid: int) -> None:
        rss[name] = settled_rss(srv)
        # and its CPU while nothing happens (timers, keep-alives): with none, then all, connected
        started = cpu_seconds(srv.pid)
        time.sleep(IDLE_CPU_S)
        cpu[name] = (cpu_seconds(srv.pid) - started) / IDLE_CPU_S

    res = run_loadgen({"mode": "idle", "url": url, "count": opt.idle}, opt.load_cpu, on_mark)
    if "idle-after" in rss:
        res["rssBefore"] = rss["idle-before"]
        res["rssAfter"] = rss["idle-after"]
        synced = res.get("synced") or 0  # a refused connection costs nothing: count synced ones
        res["bytesPerConn"] = (rss["idle-after"] - rss["idle-before"]) / synced if synced else None
        res["cpuShareBefore"], res["cpuShareAfter"] = cpu["idle-before"], cpu["idle-after"]
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

    def start(where: Path) -> Server:
        if name == "collabd":
            # the idle phase needs more participants than collabd's default limit allows
            env = {"COLLABD_MAX_PARTICIPANTS": str(max(200, opt.idle + 10)), **opt.collabd_env}
            return start_collabd(where, opt.server_cpu, opt.collabd_args, env, opt.collabd_cmd)
        if name == "node":
            return start_node(where, opt.server_cpu)
        return start_baseline(where, opt.server_cpu, opt.baseline_ws)

    srv = start(work)
    out: Json = {"name": name, "pid": srv.pid}
    phases: list[tuple[str, str, Callable[[Server], Json]]] = [
        (
            f"edit{n}",
            f"{n} editors x {opt.rate}/s for {opt.duration} s",
            partial(_edit_phase, opt=opt, n=n),
        )
        for n in opt.editors
    ]
    phases += [
        ("sync", f"sync {opt.sync_cells} cells", partial(measure_sync, opt=opt)),
        ("idle", f"{opt.idle} idle connections", partial(measure_idle, opt=opt)),
        (
            "lecture",
            f"lecture: {opt.lecture_editors} editors, {opt.viewers} viewers",
            partial(measure_lecture, opt=opt),
        ),
        (
            "fresh",
            f"{opt.fresh} clients open a fresh room at once",
            partial(measure_fresh, opt=opt),
        ),
    ]
    phases = [ph for ph in phases if ph[0].rstrip("0123456789") in opt.phases]
    try:
        for i, (key, what, measure) in enumerate(phases):
            if key in FRESH_PROCESS and i > 0:
                srv.stop()
                srv = start(work / key)
            log(f"[{name}] {what}")
            try:
                out[key] = measure(srv)
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


# Phases that read the server's RSS before and after their connections run on a server process
# of their own: garbage of an earlier phase, freed in between, would count against the
# connections (Node's V8 gives memory back late: its per-connection figure came out negative)
FRESH_PROCESS = {"idle", "lecture"}


def _edit_phase(srv: Server, *, opt: Options, n: int) -> Json:
    return measure_edit(srv, opt, n)
