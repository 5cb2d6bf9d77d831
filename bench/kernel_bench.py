"""The shared kernel's cost: a trivial cell through the hub against jupyter_client directly, and
how late other participants' edits arrive while a cell floods output.

    .venv/bin/python bench/kernel_bench.py            # ~1 min
    .venv/bin/python bench/kernel_bench.py --runs 200 --edits 400
    .venv/bin/python bench/kernel_bench.py --no-flood --cells 100    # in a notebook of 100 cells
    COLLABD_BENCH_TREE=/tmp/before .venv/bin/python bench/kernel_bench.py --no-flood  # another tree

Part 1 runs `1` alternately on (a) a kernel started with jupyter_client's AsyncKernelManager
over ipc, the transport of the hub's own local kernels (the baseline), and over tcp (its
default, what a notebook server uses), timed from `execute()` to having both the iopub `idle`
status and the `execute_reply`, and (b) a real `collabd serve` process, timed from the
participant's request (on its websocket, and over HTTP: `POST /execute` after a flush) to the
participant's document holding the result and the cell's `last_run` (what a person sees: the hub
has sent the code, written the result and the run's end into the shared document, stored and
broadcast it).

Part 2: a participant runs `while True: print(i)` (a flood), and meanwhile another types into
another cell at `--rate` edits/s; a third participant measures each edit's delay from the
typist's insert to its own document having it (the runner leaves once the flood started; both
remaining participants receive the flood, as everyone in the session would). Once with no cell
running, once with the flood under the default 1 MiB output limit (after the limit the hub
drains and drops), once with a 64 MiB limit (the hub writes the flood into the document the
whole time).
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# another version's tree (`git archive REF collabd tests | tar -x -C DIR`), for a before/after:
# its client here, and its hub (started as `python -m collabd.cli` from that folder)
TREE = Path(os.environ.get("COLLABD_BENCH_TREE") or ROOT)
sys.path.insert(0, str(TREE))
os.chdir(TREE)

from jupyter_client.manager import AsyncKernelManager  # noqa: E402

from collabd.client import NotebookClient  # noqa: E402
from collabd.notebook import find_cell  # noqa: E402
from tests.support.kernel import finished, new_cells, running_hub  # noqa: E402

MS = 1000.0
PAUSE_S = 0.1  # lets the other side's tail work (store, fan-out, disk) finish first


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class DirectKernel:
    """A kernel driven with jupyter_client directly, as a notebook server would."""

    def __init__(self, transport: str) -> None:
        self.transport = transport

    async def start(self) -> None:
        self.km = AsyncKernelManager(kernel_name="python3", transport=self.transport)
        if self.transport == "ipc":  # its sockets in a folder of its own, as the hub's are
            self._dir = tempfile.TemporaryDirectory(prefix="kbench-")
            self.km.ip = str(Path(self._dir.name) / "kernel")
        await self.km.start_kernel()
        self.kc = self.km.client()
        self.kc.start_channels()
        await self.kc.wait_for_ready(timeout=60)

    async def run(self, code: str) -> float:
        started = time.perf_counter()
        msg_id = self.kc.execute(code)
        idle = replied = False
        while not replied:
            reply = await self.kc.get_shell_msg(timeout=30)
            replied = reply["parent_header"].get("msg_id") == msg_id
        while not idle:
            msg = await self.kc.get_iopub_msg(timeout=30)
            idle = (
                msg["parent_header"].get("msg_id") == msg_id
                and msg["msg_type"] == "status"
                and msg["content"]["execution_state"] == "idle"
            )
        return time.perf_counter() - started

    async def stop(self) -> None:
        self.kc.stop_channels()
        await self.km.shutdown_kernel(now=True)
        if self.transport == "ipc":
            self._dir.cleanup()


def ended_run(nb: NotebookClient, cell: str) -> dict[str, Any] | None:
    """The cell's last run once it ended with an output, read field by field from the
    participant's document: the check runs after every message, so it is the bench's own code
    (the same for every tree compared) and converts no more than it reads."""
    found = find_cell(nb.doc, cell)
    if found is None:
        return None
    ycell = found[1]
    collabd = (ycell.get("metadata") or {}).get("collabd")
    run = collabd.get("last_run") if collabd is not None else None
    run = run.to_py() if hasattr(run, "to_py") else run
    if not isinstance(run, dict) or not run.get("ended"):
        return None
    if ycell.get("execution_state") != "idle" or not len(ycell.get("outputs") or []):
        return None
    return run


async def hub_run(nb: NotebookClient, cell: str, over: str) -> tuple[float, float]:
    """(participant's request to its document holding the result, the hub's started -> ended)."""
    before = (ended_run(nb, cell) or {}).get("ended")
    # a tree from before runs were asked on the websocket: HTTP is all it has
    asked = nb.run(cell, over=over) if "over" in inspect.signature(nb.run).parameters else None
    started = time.perf_counter()
    await (asked or nb.run(cell))

    def done() -> bool:
        run = ended_run(nb, cell)
        return run is not None and run["ended"] != before

    await nb.wait_for(done, 60)
    elapsed = time.perf_counter() - started
    run = ended_run(nb, cell) or {}
    return elapsed, float(run["ended"]) - float(run["started"])


async def trivial_runs(runs: int, cells: int = 1) -> dict[str, list[float]]:
    """Alternate the paths run by run, so that noise from the machine hits them alike. With
    `cells` > 1 the trivial cell is the last of a notebook whose other cells ran once (each
    with an output and its run's metadata), as in a notebook people work in."""
    direct, direct_tcp = DirectKernel("ipc"), DirectKernel("tcp")
    await direct.start()
    await direct_tcp.start()
    direct_times, tcp_times, on_ws, inside, on_http = [], [], [], [], []
    try:
        with running_hub() as hub:
            s = hub.create_session("trivial.ipynb")
            nb = NotebookClient.from_link(s["edit_url"], name="bench")
            async with nb:
                *others, cell = await new_cells(nb, *[f"print({i})" for i in range(cells - 1)], "1")
                for other in others:
                    await nb.run(other)
                if others:
                    await nb.wait_for(lambda: finished(nb, others[-1]), 120)
                for i in range(runs + 3):
                    await asyncio.sleep(PAUSE_S)  # each run starts from a quiet machine
                    d = await direct.run("1")
                    await asyncio.sleep(PAUSE_S)
                    dt = await direct_tcp.run("1")
                    await asyncio.sleep(PAUSE_S)
                    w, k = await hub_run(nb, cell, "websocket")
                    await asyncio.sleep(PAUSE_S)
                    h, _ = await hub_run(nb, cell, "http")
                    if i >= 3:  # the first runs start and warm up the kernels
                        direct_times.append(d)
                        tcp_times.append(dt)
                        on_ws.append(w)
                        inside.append(k)
                        on_http.append(h)
    finally:
        await direct.stop()
        await direct_tcp.stop()
    return {
        "jupyter_client directly, ipc (execute -> reply + idle)": direct_times,
        "jupyter_client directly, tcp": tcp_times,
        "the hub's own run (last_run started -> ended)": inside,
        "a participant, asked on its websocket (-> result in its document)": on_ws,
        "a participant, flush + POST /execute, kept-alive (before)": on_http,
    }


async def edit_latencies(limit: int | None, flood: bool, edits: int, rate: float) -> dict[str, Any]:
    env = {"COLLABD_OUTPUT_LIMIT_BYTES": str(limit)} if limit else {}
    with running_hub(env) as hub:
        s = hub.create_session("flood.ipynb")
        typist = NotebookClient.from_link(s["edit_url"], name="typist")
        watcher = NotebookClient.from_link(s["view_url"], name="watcher")
        async with typist, watcher:
            async with NotebookClient.from_link(s["edit_url"], name="runner") as runner:
                code = "i = 0\nwhile True:\n    print(i)\n    i += 1"
                flood_cell, notes = await new_cells(runner, code, "")
                if flood:  # the runner starts the flood and leaves: the hub writes it anyway
                    await runner.run(flood_cell)
            await typist.wait_for(lambda: notes in typist.cell_ids(), 60)
            await watcher.wait_for(lambda: notes in watcher.cell_ids(), 60)
            if flood:
                await watcher.wait_for(lambda: watcher.output_text(flood_cell), 60)
            delays = []
            cpu_before = _cpu(hub)
            started = time.perf_counter()
            for n in range(edits):
                marker = f"{n};"
                sent = time.perf_counter()
                typist.insert_text(notes, len(typist.source(notes)), marker)
                await watcher.wait_for(lambda marker=marker: marker in watcher.source(notes), 60)
                delays.append(time.perf_counter() - sent)
                await asyncio.sleep(max(0.0, started + (n + 1) / rate - time.perf_counter()))
            cpu = (_cpu(hub) - cpu_before) / (time.perf_counter() - started)
            running = flood and watcher.cell(flood_cell)["execution_state"] == "running"
            size = len(watcher.output_text(flood_cell).encode())
            if flood:
                await typist.request("POST", "/kernel/interrupt", {})
                await watcher.wait_for(lambda: finished(watcher, flood_cell), 120)
        return {"delays": delays, "running": running, "output": size, "cpu": cpu}


def _cpu(hub: Any) -> float:
    import psutil

    proc = psutil.Process(hub.proc.pid)
    times = proc.cpu_times()  # the hub alone, not its kernel
    return float(times.user + times.system)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=100, help="trivial cells per side")
    parser.add_argument("--edits", type=int, default=200, help="edits per phase of part 2")
    parser.add_argument("--rate", type=float, default=20.0, help="edits per second")
    parser.add_argument("--no-flood", action="store_true", help="part 1 only")
    parser.add_argument("--cells", type=int, default=1, help="cells in part 1's notebook")
    args = parser.parse_args()

    paths = await trivial_runs(args.runs, args.cells)
    base = statistics.median(next(iter(paths.values())))
    where = f"the last of {args.cells} cells" if args.cells > 1 else "a one-cell notebook"
    print(f"\nPart 1: a trivial cell (`1`, {where}), {args.runs} runs each, alternating\n")
    base99 = pct(next(iter(paths.values())), 0.99)
    print("| path | p50 ms | p90 ms | p99 ms | p50 / direct | p99 / direct | p50 - direct |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, xs in paths.items():
        p50, p99 = statistics.median(xs), pct(xs, 0.99)
        row = f"{p50 * MS:.2f} | {pct(xs, 0.9) * MS:.2f} | {p99 * MS:.2f}"
        ratios = f"{p50 / base:.2f}x | {p99 / base99:.2f}x | {(p50 - base) * MS:+.2f} ms"
        print(f"| {name} | {row} | {ratios} |")
    print("\n(goal: within 1.3x or 2 ms of jupyter_client directly)")
    if args.no_flood:
        return

    print(
        f"\nPart 2: delay of another participant's edits, {args.edits} edits at {args.rate:g}/s\n"
    )
    print("| while | p50 ms | p99 ms | max ms | hub CPU | flood still running | output kept |")
    print("| --- | ---: | ---: | ---: | ---: | --- | ---: |")
    phases = [
        ("nothing runs", None, False),
        ("a flood, 1 MiB limit", None, True),
        ("a flood, 64 MiB limit", 64 * 1024 * 1024, True),
    ]
    for name, limit, flood in phases:
        r = await edit_latencies(limit, flood, args.edits, args.rate)
        xs = r["delays"]
        print(
            f"| {name} | {statistics.median(xs) * MS:.1f} | {pct(xs, 0.99) * MS:.1f} | "
            f"{max(xs) * MS:.1f} | {r['cpu'] * 100:.0f} % | {'yes' if r['running'] else '-'} | "
            f"{r['output'] / 1024:.0f} KiB |"
        )
    print("\n(goal: p99 under 50 ms while a cell floods output)")


if __name__ == "__main__":
    asyncio.run(main())
