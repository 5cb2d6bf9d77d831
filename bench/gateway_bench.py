"""A kernel on a Jupyter Kernel Gateway against a local one, through the hub, in the same run.

    .venv/bin/python bench/gateway_bench.py              # ~2 min
    .venv/bin/python bench/gateway_bench.py --runs 200 --big-runs 5 --restarts 5

The bench starts a real `jupyter kernelgateway` on loopback (with a token) and a real `collabd
serve` that has it as the kernel host `gpu`. Two sessions of that hub: one on the local kernel,
one on the gateway's. Every figure is a participant's view: from its `POST /execute` to its
own document holding the result and the cell's `last_run` end.

Part 1: a trivial cell (`1+1`), alternating local and gateway run by run.
Part 2: a cell printing 10 MB (`print('x' * 10_000_000)`, one stream message). The hub keeps
`--limit` bytes of output per cell (default 32 MiB, so the whole 10 MB reaches the document;
the hub's own default is 1 MiB, past which it drops output with a notice): the table says how
many bytes reached the participant's document. The gateway is started without its own IOPub
data rate limit (1 MB/s by default, past which it drops the output and sends a 321-byte notice
instead); `--gateway-rate-limit` keeps it.
Part 3: the hub is killed (kill -9) and started again; timed from the restart to a cell having
run in the session's kernel: on the gateway the kernel outlived the hub and is re-attached (its
variables are still there), locally a fresh kernel is started.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from collabd.client import NotebookClient  # noqa: E402
from tests.support.gateway import hosts_env, running_gateway, select, wait_kernel  # noqa: E402
from tests.support.hubproc import HubProcess  # noqa: E402
from tests.support.kernel import finished, new_cells, running_hub  # noqa: E402

MS = 1000.0
PAUSE_S = 0.1
BIG = 10_000_000
NO_RATE_LIMIT = "--ZMQChannelsWebsocketConnection.iopub_data_rate_limit=0"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def hub_run(nb: NotebookClient, cell: str, timeout: float = 300) -> float:
    """Seconds from the participant's POST to its document holding the run's end and output."""
    before = (finished(nb, cell) or {}).get("ended")
    started = time.perf_counter()
    await nb.run(cell)

    def done() -> bool:
        run = finished(nb, cell)
        return run is not None and run["ended"] != before and bool(nb.outputs(cell))

    await nb.wait_for(done, timeout)
    return time.perf_counter() - started


def kept_bytes(nb: NotebookClient, cell: str) -> int:
    return len(nb.output_text(cell).encode())


async def open_session(hub: HubProcess, name: str, host: str) -> dict[str, Any]:
    s = hub.create_session(name)
    async with NotebookClient.from_link(s["edit_url"], name="bench") as nb:
        await select(nb, host, by="bench")
        await wait_kernel(nb, host)
    return s


async def cells_part(hub: HubProcess, runs: int, big_runs: int) -> dict[str, Any]:
    sessions = {host: await open_session(hub, f"{host}.ipynb", host) for host in ("local", "gpu")}
    clients = {
        h: NotebookClient.from_link(s["edit_url"], name="bench") for h, s in sessions.items()
    }
    trivial: dict[str, list[float]] = {h: [] for h in clients}
    big: dict[str, list[float]] = {h: [] for h in clients}
    kept: dict[str, int] = {}
    async with clients["local"], clients["gpu"]:
        cells = {h: await new_cells(nb, "1+1", f"print('x' * {BIG})") for h, nb in clients.items()}
        for i in range(runs + 3):
            for host, nb in clients.items():
                await asyncio.sleep(PAUSE_S)
                elapsed = await hub_run(nb, cells[host][0])
                if i >= 3:  # the first runs warm up the kernels and the paths
                    trivial[host].append(elapsed)
        for _ in range(big_runs):
            for host, nb in clients.items():
                await asyncio.sleep(1.0)  # the previous 10 MB settles (store, fan-out)
                big[host].append(await hub_run(nb, cells[host][1]))
                kept[host] = kept_bytes(nb, cells[host][1])
    return {"trivial": trivial, "big": big, "kept": kept}


async def restart_part(hub: HubProcess, restarts: int) -> dict[str, list[float]]:
    sessions = {
        host: await open_session(hub, f"restart-{host}.ipynb", host) for host in ("local", "gpu")
    }
    cells: dict[str, list[str]] = {}
    for host, s in sessions.items():
        async with NotebookClient.from_link(s["edit_url"], name="bench") as nb:
            cells[host] = await new_cells(nb, "kept = 41\nkept", "print(kept + 1)")
            await hub_run(nb, cells[host][0])
    times: dict[str, list[float]] = {"hub up": [], "local": [], "gpu": []}
    for _ in range(restarts):
        for host, s in sessions.items():
            hub.kill9()
            started = time.perf_counter()
            hub.start()
            if host == "local":
                times["hub up"].append(time.perf_counter() - started)
            async with NotebookClient.from_link(s["edit_url"], name="bench") as nb:
                if host == "local":  # a fresh kernel: the variable is defined again first
                    await nb.run(cells[host][0])
                await hub_run(nb, cells[host][1])
                times[host].append(time.perf_counter() - started)
                assert nb.output_text(cells[host][1]) == "42\n", nb.output_text(cells[host][1])
    return times


def row(name: str, xs: list[float], base: list[float] | None) -> str:
    p50 = statistics.median(xs)
    ratio = f"{p50 / statistics.median(base):.2f}x" if base else "1.00x"
    return (
        f"| {name} | {p50 * MS:.1f} | {pct(xs, 0.9) * MS:.1f} | {pct(xs, 0.99) * MS:.1f} | "
        f"{ratio} |"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=100, help="trivial cells per kernel")
    parser.add_argument("--big-runs", type=int, default=3, help="10 MB cells per kernel")
    parser.add_argument("--restarts", type=int, default=3, help="hub restarts per kernel")
    parser.add_argument(
        "--limit", type=int, default=32 * 1024 * 1024, help="COLLABD_OUTPUT_LIMIT_BYTES"
    )
    parser.add_argument(
        "--gateway-rate-limit",
        action="store_true",
        help="keep the gateway's own IOPub data rate limit (1 MB/s; it drops the 10 MB)",
    )
    args = parser.parse_args()
    rate = () if args.gateway_rate_limit else (NO_RATE_LIMIT,)

    header = (
        "| kernel | p50 ms | p90 ms | p99 ms | p50 / local |\n| --- | ---: | ---: | ---: | ---: |"
    )
    big_header = header.replace(" |\n", " | bytes in the document |\n", 1) + " ---: |"
    with running_gateway(args=rate) as gateway:
        env = hosts_env(gateway, COLLABD_OUTPUT_LIMIT_BYTES=str(args.limit))
        with running_hub(env) as hub:
            cells = await cells_part(hub, args.runs, args.big_runs)
            print(f"\nPart 1: a trivial cell (`1+1`), {args.runs} runs each, alternating\n")
            print(header)
            print(row("local", cells["trivial"]["local"], None))
            print(row("gateway", cells["trivial"]["gpu"], cells["trivial"]["local"]))
            print(
                f"\nPart 2: `print('x' * {BIG})`, {args.big_runs} runs each, output limit "
                f"{args.limit} bytes\n"
            )
            print(big_header)
            for host, name in (("local", "local"), ("gpu", "gateway")):
                base = None if host == "local" else cells["big"]["local"]
                print(f"{row(name, cells['big'][host], base)} {cells['kept'][host]} |")
            restarts = await restart_part(hub, args.restarts)
    print(f"\nPart 3: kill -9 the hub, start it, run a cell; {args.restarts} times each\n")
    print(header.replace("p50 / local", "p50 / hub up"))
    print(row("the hub answering /api/health", restarts["hub up"], None))
    print(row("local: a fresh kernel, define, run", restarts["local"], restarts["hub up"]))
    print(row("gateway: re-attach, run", restarts["gpu"], restarts["hub up"]))
    gpu, local = statistics.median(restarts["gpu"]), statistics.median(restarts["local"])
    print(f"\n(gateway re-attach / local fresh start: {gpu / local:.2f}x)")


if __name__ == "__main__":
    asyncio.run(main())
