"""collabd as a cluster: what the relay between hubs costs, in one run, side by side.

    .venv/bin/python bench/cluster_bench.py                       # ~3 min
    .venv/bin/python bench/cluster_bench.py --editors 10 --duration 5 --failovers 1   # quick

Starts three `collabd serve` hubs on one fresh PostgreSQL database (dropped at the end) and
Redis, pinned to --server-cpu, and measures:

1. fan-out: N editors (the Node load generator, real `yjs` clients) type into one session, all
   on the hub that owns it ("single") or spread over the three hubs ("spread": editor i on hub
   i % 3, so two thirds are relayed through Redis Streams), alternating, on fresh sessions;
2. join: a new client's connect -> synced time on a 200-cell notebook through the owner and
   through another hub (tries alternate), and a forwarded HTTP read (`GET .../notebook`);
3. failover: clients on the two hubs that do not own a session, the owner killed with SIGKILL:
   time until an edit made just after the kill is in every client, and until the first run
   on the new owner has completed.

See bench/README.md ("Cluster") for what bounds each figure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script from anywhere

import psutil  # type: ignore[import-untyped]
from hubbench import common
from hubbench.cluster import (
    Hub,
    Meter,
    create_database,
    drop_database,
    log_findings,
    redis_cleanup,
)
from hubbench.common import LOADGEN, Json
from hubbench.loadgen import run_loadgen
from hubbench.notebooks import write_notebook
from hubbench.procs import free_port, wait_quiet

from collabd.client import ClientError, NotebookClient


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class Run:
    def __init__(self, a: argparse.Namespace, work: Path) -> None:
        self.a = a
        self.work = work
        self.root = work / "root"
        self.root.mkdir()
        self.sessions: list[str] = []
        self.db_url = create_database(a.pg)
        token = "bench-" + os.urandom(16).hex()
        env = {
            "COLLABD_DATABASE_URL": self.db_url,
            "COLLABD_REDIS_URL": a.redis,
            "COLLABD_LEASE_TTL_S": str(a.lease_ttl),
            "COLLABD_MAX_PARTICIPANTS": str(max(200, max(a.editors) + 10)),
        }
        cpu = None if a.server_cpu < 0 else a.server_cpu
        self.hubs = [
            Hub(i, self.root, work / f"data{i}", free_port(), token, env, cpu) for i in range(3)
        ]
        self.meter: Meter | None = None
        git = ["git", "-C", str(Path(__file__).resolve().parent), "log", "-1", "--format=%h"]
        self.commit = subprocess.run(git, capture_output=True, text=True).stdout.strip() or "?"

    def start(self) -> None:
        for hub in self.hubs:
            hub.start()
        self.meter = Meter(self.hubs, self.a.redis, self.a.pg, self.db_url)

    def stop(self) -> None:
        for hub in self.hubs:
            hub.stop()
        if self.meter is not None:
            self.meter.close()
        nodes = [n for h in self.hubs for n in h.nodes]
        try:
            redis_cleanup(self.a.redis, nodes, self.sessions)
        except Exception as exc:
            log(f"redis cleanup failed: {exc!r}")
        try:
            drop_database(self.a.pg, self.db_url)
        except Exception as exc:
            log(f"dropping {self.db_url} failed: {exc!r}")

    def session(self, name: str, cells: int, on: int = 0) -> Json:
        nb = write_notebook(self.root, name, cells)
        s: Json = self.hubs[on].api("POST", "/api/sessions", {"path": nb})
        self.sessions.append(s["id"])
        return s

    def owner_of(self, sid: str) -> int | None:
        for i, hub in enumerate(self.hubs):
            if hub.alive and hub.owns(sid):
                return i
        return None


# 1. fan-out


def measure_edit(run: Run, n: int, mode: str) -> Json:
    a = run.a
    s = run.session(f"edit-{mode}-{n}.ipynb", a.edit_cells)
    if mode == "single":
        cfg: Json = {"url": run.hubs[0].ws_url(s)}
    else:
        cfg = {"urls": [h.ws_url(s) for h in run.hubs]}  # urls[0] loads (owns) the room
    if a.quiet_wait > 0:
        wait_quiet(0.25, a.quiet_wait, log)
    assert run.meter is not None
    meter = run.meter
    marks: dict[str, Json] = {}
    lg: dict[str, float] = {}

    def on_mark(name: str, pid: int) -> None:
        marks[name] = meter.read()
        try:
            t = psutil.Process(pid).cpu_times()
            lg[name] = t.user + t.system
        except psutil.NoSuchProcess:
            pass

    cfg.update(mode="edit", n=n, rate=a.rate, duration=a.duration)
    load_cpu = None if a.load_cpu < 0 else a.load_cpu
    res = run_loadgen(cfg, load_cpu, on_mark, budget=a.duration + 90)
    res["owner"] = run.owner_of(s["id"])
    if "edit-start" in marks and "edit-end" in marks:
        d = Meter.since(marks["edit-start"], marks["edit-end"])
        res["cpu"] = d
        hubs = sum(d["hubs"])
        res["hubCpuS"] = hubs
        delivered = res.get("delivered") or 0
        per = (lambda x: x / delivered * 1e6) if delivered else (lambda x: None)
        res["hubCpuUs"] = per(hubs)
        res["ownerCpuUs"] = per(d["hubs"][0])
        res["otherHubsCpuUs"] = per(sum(d["hubs"][1:]))
        res["redisCpuUs"] = per(d["redis"])
        res["pgCpuUs"] = per(d["pg"])
        res["redisCmdsPerDelivered"] = d["redisCommands"] / delivered if delivered else None
        res["hubCpuShare"] = hubs / res["windowS"]
        other = d["machine"] - hubs - d["redis"] - d["pg"]
        other -= lg.get("edit-end", 0.0) - lg.get("edit-start", 0.0)
        res["otherCpuShare"] = max(0.0, other) / res["windowS"]
    return res


# 2. join


def measure_join(run: Run) -> Json:
    a = run.a
    s = run.session("join.ipynb", a.join_cells)
    owner, other = run.hubs[0], run.hubs[1]
    cfg = {"mode": "sync", "urls": [owner.ws_url(s), other.ws_url(s)], "tries": 1 + 2 * a.tries}
    load_cpu = None if a.load_cpu < 0 else a.load_cpu
    res = run_loadgen(cfg, load_cpu, lambda *_: None, budget=120)
    times, which = res.get("times", []), res.get("urlIndex", [])
    out: Json = {"raw": res, "owner": run.owner_of(s["id"]), "cells": (res.get("cells") or [0])[-1]}
    out["cold"] = times[0] if times and which[0] == 0 else None
    out["viaOwner"] = [t for k, (t, w) in enumerate(zip(times, which, strict=True)) if w == 0 and k]
    out["viaOther"] = [t for t, w in zip(times, which, strict=True) if w == 1]
    # the notebook as it is now: on a non-owner, forwarded over HTTP to the owner
    path = f"/api/sessions/{s['id']}/notebook"
    http: dict[int, list[float]] = {0: [], 1: []}
    for _ in range(a.tries):
        for k, hub in ((0, owner), (1, other)):
            req = urllib.request.Request(hub.base + path)
            req.add_header("Authorization", f"Bearer {s['edit_token']}")
            t0 = time.perf_counter()
            with urllib.request.urlopen(req, timeout=30) as resp:
                resp.read()
            http[k].append((time.perf_counter() - t0) * 1e3)
            time.sleep(0.05)
    out["httpViaOwner"], out["httpViaOther"] = http[0], http[1]
    return out


# 3. failover


async def keep_connected(c: NotebookClient, st: Json, since: float, stop: asyncio.Event) -> None:
    """Reconnect `c` to its hub whenever it is closed (bounded by `stop`), noting when."""
    while not stop.is_set():
        if c.connected:
            await asyncio.sleep(0.01)
            continue
        st.setdefault("closedAt", time.monotonic() - since)
        st.setdefault("closeCode", c.close_code)
        st["attempts"] = st.get("attempts", 0) + 1
        try:
            await c.reconnect(timeout=10)
            st.setdefault("resyncedAt", time.monotonic() - since)
        except (ClientError, OSError, TimeoutError) as exc:
            st.setdefault("errors", []).append(f"{type(exc).__name__}: {exc}"[:120])
            await asyncio.sleep(0.1)
        except Exception as exc:  # websockets' InvalidStatus and the like: try again
            st.setdefault("errors", []).append(f"{type(exc).__name__}: {exc}"[:120])
            await asyncio.sleep(0.1)


def _done(c: NotebookClient, cell: str) -> bool:
    try:
        return c.cell(cell).get("execution_count") is not None
    except KeyError:
        return False


async def failover_once(run: Run, rep: int) -> Json:
    a = run.a
    k = rep % 3
    owner_hub = run.hubs[k]
    s = run.session(f"failover-{rep}.ipynb", 10, on=k)
    sid, tok = s["id"], s["edit_token"]
    first = NotebookClient(owner_hub.base, sid, tok, name="first")
    await first.connect()
    if not owner_hub.owns(sid):
        raise RuntimeError(f"hub {k} should own {sid} (owner: {run.owner_of(sid)})")
    ann = NotebookClient(run.hubs[(k + 1) % 3].base, sid, tok, name="ann")
    bob = NotebookClient(run.hubs[(k + 2) % 3].base, sid, tok, name="bob")
    clients = [ann, bob]
    for c in clients:
        await c.connect()
    await first.close()
    out: Json = {"killed": k}
    # a kernel on the owner, as in a session in use: its start is the reference for (b)
    warm = ann.insert_cell(0, "import os\nos.getpid()")
    probe = ann.insert_cell(1, "x = 1")
    t0 = time.monotonic()
    await ann.run(warm)
    await bob.wait_for(lambda: _done(bob, warm), 60)
    out["firstRunS"] = time.monotonic() - t0
    await bob.wait_for(lambda: probe in bob.cell_ids(), 30)
    await asyncio.sleep(0.5)  # let the lease keeper renew as it does in steady state

    marker = f"# typed after the kill {rep}\n"
    kill_t = time.monotonic()
    orphans = owner_hub.kill9()
    ann.insert_text(probe, 0, marker)  # the first edit after the kill (its frame is lost)
    states: list[Json] = [{}, {}]
    stop = asyncio.Event()
    keepers = [
        asyncio.create_task(keep_connected(c, st, kill_t, stop))
        for c, st in zip(clients, states, strict=True)
    ]
    try:

        async def seen(c: NotebookClient, st: Json) -> None:
            await c.wait_for(lambda: marker in c.source(probe), a.failover_wait)
            st["seenAt"] = time.monotonic() - kill_t  # checked after every frame it receives

        seen_tasks = [
            asyncio.create_task(seen(c, st)) for c, st in zip(clients, states, strict=True)
        ]
        # (b): once ann is back (synced with the hub that now runs the session), run the probe
        run_errors: list[str] = []
        deadline = kill_t + a.failover_wait
        while time.monotonic() < deadline:
            if "resyncedAt" in states[0] and ann.connected:
                try:
                    await asyncio.wait_for(ann.run(probe), 10)
                    out["runAcceptedS"] = time.monotonic() - kill_t
                    break
                except (ClientError, TimeoutError, OSError) as exc:
                    run_errors.append(f"{type(exc).__name__}: {exc}"[:120])
            await asyncio.sleep(0.05)
        if "runAcceptedS" in out:
            with contextlib.suppress(TimeoutError):
                await ann.wait_for(lambda: _done(ann, probe), max(1.0, deadline - time.monotonic()))
                out["runDoneS"] = time.monotonic() - kill_t
        for task in seen_tasks:
            with contextlib.suppress(TimeoutError):
                await task
        have = [marker in c.source(probe) for c in clients]
        if all(have) and all("seenAt" in st for st in states):
            out["editSeenS"] = max(st["seenAt"] for st in states)  # ann at once; bob's counts
        out["runErrors"] = run_errors[:3]
    finally:
        stop.set()
        await asyncio.gather(*keepers, return_exceptions=True)
        for c in clients:
            await c.close()
        for pid in orphans:  # the killed hub's kernels, if their parent poller left them
            with contextlib.suppress(psutil.NoSuchProcess):
                psutil.Process(pid).kill()
    out["clients"] = states
    out["newOwner"] = run.owner_of(sid)
    owner_hub.start()  # back for the next round, on the same port
    return out


def median(xs: list[float]) -> float | None:
    return statistics.median(xs) if xs else None


def pct(xs: list[float], p: float) -> float | None:
    if not xs:
        return None
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, int(-(-p * len(s) // 100)) - 1))]


def fmt(v: Any, digits: int = 3) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{digits}g}" if abs(v) < 1000 else f"{v:.0f}"
    return str(v)


def table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    out.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(out)


def ratio(a: Any, b: Any) -> str:
    ok = isinstance(a, int | float) and isinstance(b, int | float) and a
    return f"{b / a:.2f}x" if ok else "-"


def _why(errors: list[str]) -> str:
    """Failed reconnects of one client, by the hub's reason, shortly."""
    if not errors:
        return "0"
    short = []
    for e in errors:
        if "did not answer" in e:
            short.append("1012 no answer")
        elif "relay between hubs failed" in e:
            short.append("1011 relay failed")
        else:
            short.append(e.split(":", 1)[0][:24])
    return f"{len(errors)} ({'; '.join(short)})"


def report(run: Run, edits: dict[str, Json], join: Json | None, fails: list[Json]) -> str:
    a = run.a
    lines = [
        f"# collabd {run.commit}: cluster of 3 hubs (PostgreSQL + Redis),"
        f" COLLABD_LEASE_TTL_S={a.lease_ttl};"
        f" hubs on cpu {a.server_cpu}, load generator on cpu {a.load_cpu}, nice {common.NICE[0]};"
        f" {a.rate} edits/s per editor for {a.duration} s, {a.edit_cells} cells",
        "",
        "## 1. fan-out: all editors on the owner hub vs spread over the 3 hubs (i % 3)",
    ]
    rows: list[tuple[str, ...]] = [("metric", "single (owner)", "spread (3 hubs)", "spread/single")]
    for n in a.editors:
        one, three = edits.get(f"single{n}", {}), edits.get(f"spread{n}", {})

        def row(label: str, key: str, scale: float = 1.0, r: bool = True, n: int = n) -> None:
            x, y = edits.get(f"single{n}", {}).get(key), edits.get(f"spread{n}", {}).get(key)
            x = x * scale if isinstance(x, int | float) else x
            y = y * scale if isinstance(y, int | float) else y
            rows.append((f"N={n} {label}", fmt(x), fmt(y), ratio(x, y) if r else "-"))

        row("latency p50 (ms)", "p50")
        row("latency p99 (ms)", "p99")
        rows.append(
            (
                f"N={n} delivered/expected",
                f"{one.get('delivered')}/{one.get('expected')}",
                f"{three.get('delivered')}/{three.get('expected')}",
                "-",
            )
        )
        row("hub CPU/delivered, all 3 hubs (us)", "hubCpuUs")
        row("  of which owner hub (us)", "ownerCpuUs")
        row("  of which the 2 other hubs (us)", "otherHubsCpuUs")
        row("redis-server CPU/delivered (us)", "redisCpuUs")
        row("postgres backends CPU/delivered (us)", "pgCpuUs")
        row("redis commands/delivered", "redisCmdsPerDelivered")
        row("hubs CPU share (% of a core)", "hubCpuShare", 100)
        row("frames to clients", "framesIn")
        row("loadgen loop delay p99 (ms)", "loopDelayP99", r=False)
        row("other load on machine (%)", "otherCpuShare", 100, r=False)
        p1, p3 = one.get("p50"), three.get("p50")
        hop = p3 - p1 if isinstance(p1, int | float) and isinstance(p3, int | float) else None
        rows.append((f"N={n} relay extra p50 (spread - single, ms)", "", fmt(hop), "-"))
        # the same within the spread run alone (immune to load changing between the two runs):
        # each route's p50 minus the owner -> owner route's, weighted by deliveries
        paths = three.get("byPath") or []
        local = [p["p50"] for p in paths if p["from"] == 0 and p["to"] == 0]
        for label, hops in (("1 relay hop", 1), ("2 relay hops", 2)):
            sel = [p for p in paths if (p["from"] != 0) + (p["to"] != 0) == hops]
            if local and sel:
                extra = sum((p["p50"] - local[0]) * p["count"] for p in sel)
                extra /= sum(p["count"] for p in sel)
                rows.append((f"N={n}   in-run, {label} vs owner->owner (ms)", "", fmt(extra), "-"))
        owners = {one.get("owner"), three.get("owner")}
        if owners != {0}:
            rows.append((f"N={n} owner hub (expected 0)", fmt(one.get("owner")),
                         fmt(three.get("owner")), "-"))  # fmt: skip
    lines.append(table(rows))
    paths = []
    names = {0: "owner", 1: "hub1", 2: "hub2"}
    for n in a.editors:
        for p in edits.get(f"spread{n}", {}).get("byPath") or []:
            route = f"{names[p['from']]} -> {names[p['to']]}"
            paths.append(
                (f"N={n} {route}", str(p["count"]), fmt(p["p50"]), fmt(p["p99"]))
            )  # fmt: skip
    if paths:
        lines += ["", "spread, by path (sender's hub -> receiver's hub):"]
        lines.append(table([("path", "deliveries", "p50 (ms)", "p99 (ms)"), *paths]))

    if join is not None:
        lines += ["", f"## 2. join: connect -> synced, {join.get('cells')} cells, alternating"]
        vo, vx = join.get("viaOwner", []), join.get("viaOther", [])
        ho, hx = join.get("httpViaOwner", []), join.get("httpViaOther", [])
        rows = [("metric", "via owner", "via other hub", "other/owner")]
        for label, xo, xx in (
            (f"ws join median (ms), {len(vo)}/{len(vx)} tries", median(vo), median(vx)),
            ("ws join p90 (ms)", pct(vo, 90), pct(vx, 90)),
            (f"GET /notebook median (ms), {len(ho)} each", median(ho), median(hx)),
            ("GET /notebook p90 (ms)", pct(ho, 90), pct(hx, 90)),
        ):
            rows.append((label, fmt(xo), fmt(xx), ratio(xo, xx)))
        rows.append(("cold open on the owner (ms)", fmt(join.get("cold")), "", "-"))
        lines.append(table(rows))

    if fails:
        lines += [
            "",
            f"## 3. failover: owner killed (SIGKILL), clients on the 2 other hubs,"
            f" COLLABD_LEASE_TTL_S={a.lease_ttl} (times from the kill, s)",
        ]
        rows = [
            (
                "round",
                "killed",
                "new owner",
                "clients closed (code)",
                "failed rejoins",
                "clients resynced",
                "edit seen by all",
                "run accepted",
                "first run done",
                "kernel start ref",
            )
        ]
        for i, f in enumerate(fails):
            if "error" in f:
                rows.append((str(i + 1), "-", "-", f["error"][:60], "", "", "", "", "", ""))
                continue
            cl = f.get("clients", [])
            closed = ", ".join(
                f"{fmt(c.get('closedAt'))} ({c.get('closeCode')})" for c in cl
            )  # fmt: skip
            resynced = ", ".join(fmt(c.get("resyncedAt")) for c in cl)
            failed = ", ".join(_why(c.get("errors") or []) for c in cl)
            rows.append(
                (
                    str(i + 1),
                    f"hub{f['killed']}",
                    f"hub{f.get('newOwner')}",
                    closed,
                    failed,
                    resynced,
                    fmt(f.get("editSeenS")),
                    fmt(f.get("runAcceptedS")),
                    fmt(f.get("runDoneS")),
                    fmt(f.get("firstRunS")),
                )
            )
        ok = [f for f in fails if "error" not in f]

        def med(key: str) -> str:
            return fmt(median([f[key] for f in ok if isinstance(f.get(key), int | float)]))

        rows.append(
            (
                "median",
                "",
                "",
                "",
                "",
                "",
                med("editSeenS"),
                med("runAcceptedS"),
                med("runDoneS"),
                med("firstRunS"),
            )
        )
        lines.append(table(rows))
    return "\n".join(lines)


async def run_failovers(run: Run) -> list[Json]:
    out = []
    for rep in range(run.a.failovers):
        log(f"failover {rep + 1}/{run.a.failovers}: killing hub {rep % 3}")
        try:
            out.append(await failover_once(run, rep))
        except Exception as exc:
            log(f"failover {rep + 1} FAILED: {exc!r}")
            out.append({"error": repr(exc)})
            for hub in run.hubs:  # whatever happened, the next round needs every hub
                if not hub.alive:
                    hub.start()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="collabd cluster benchmark (3 hubs)")
    p.add_argument("--editors", default="10,30", help="comma list of editor counts")
    p.add_argument("--rate", type=float, default=5.0, help="edits/s per editor")
    p.add_argument("--duration", type=float, default=10.0, help="editing window, s")
    p.add_argument("--edit-cells", type=int, default=20)
    p.add_argument("--join-cells", type=int, default=200)
    p.add_argument("--tries", type=int, default=7, help="joins (and GETs) per way in")
    p.add_argument("--failovers", type=int, default=3)
    p.add_argument("--failover-wait", type=float, default=60.0, help="bound per failover, s")
    p.add_argument("--lease-ttl", type=float, default=2.0, help="COLLABD_LEASE_TTL_S of the hubs")
    p.add_argument("--phases", default="edit,join,failover")
    p.add_argument(
        "--order", default="single,spread", help="order of the two editing runs for each N"
    )
    p.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    p.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    p.add_argument("--server-cpu", type=int, default=0, help="core of the hubs (-1: none)")
    p.add_argument("--load-cpu", type=int, default=1, help="core of the load generator (-1: none)")
    p.add_argument("--nice", type=int, default=-10)
    p.add_argument(
        "--quiet-wait",
        type=float,
        default=5.0,
        help="before each editing window, wait up to this long for a calmer machine",
    )
    p.add_argument("--json", type=Path, default=None, help="write raw results here")
    p.add_argument("--keep", action="store_true", help="keep the work dir (hub logs)")
    a = p.parse_args(argv)
    a.editors = [int(x) for x in a.editors.split(",") if x]
    phases = set(a.phases.split(","))
    common.NICE[0] = a.nice if os.geteuid() == 0 or a.nice > 0 else 0
    if not (LOADGEN / "node_modules").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=LOADGEN, check=True)
    work = Path(tempfile.mkdtemp(prefix="cluster-bench-"))
    run = Run(a, work)
    edits: dict[str, Json] = {}
    join: Json | None = None
    fails: list[Json] = []
    findings: list[str] = []
    try:
        run.start()
        log(f"hubs on ports {[h.port for h in run.hubs]}, database {run.db_url}, work {work}")
        if "edit" in phases:
            for n in a.editors:
                for mode in a.order.split(","):
                    log(f"[edit] {n} editors, {mode}")
                    try:
                        edits[f"{mode}{n}"] = measure_edit(run, n, mode)
                    except Exception as exc:
                        log(f"[edit] {n} {mode} FAILED: {exc!r}")
                        edits[f"{mode}{n}"] = {"error": repr(exc)}
        if "join" in phases:
            log("[join]")
            try:
                join = measure_join(run)
            except Exception as exc:
                log(f"[join] FAILED: {exc!r}")
                join = {"error": repr(exc)}
        if "failover" in phases:
            fails = asyncio.run(run_failovers(run))
    finally:
        run.stop()
        findings = log_findings(run.hubs)
        if not a.keep:
            import shutil

            shutil.rmtree(work, ignore_errors=True)
    if a.json is not None:
        a.json.write_text(json.dumps({"edit": edits, "join": join, "failover": fails}, indent=1))
    print(report(run, edits, join, fails))
    for key, res in edits.items():
        for what in ("error", "errors", "closeCodes"):
            if res.get(what):
                print(f"# edit {key} {what}: {str(res[what])[:300]}")
    if join and join.get("error"):
        print(f"# join: {join['error']}")
    if findings:
        print("\n## warnings and errors in the hubs' logs")
        print("\n".join(findings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
