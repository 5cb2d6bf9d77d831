"""Reopening a large notebook after its room was unloaded (idle, or a hub restart): the time
from a new websocket to having the document, against opening it for the first time.

    .venv/bin/python bench/reopen_bench.py                      # 1,000 cells, 5 reopens
    .venv/bin/python bench/reopen_bench.py --cells 2000 --reopens 9
    COLLABD_BENCH_TREE=/tmp/before .venv/bin/python bench/reopen_bench.py   # another tree

A real `collabd serve` (started from the tree's folder) on a notebook of `--cells` cells (the
hub_bench notebook: code and markdown cells with outputs), `ROOM_IDLE_UNLOAD_S` short so that
the room unloads between tries. Each try: a websocket with an empty state, sync step 1, until
sync step 2 is applied in a pycrdt document. The first try imports the file; every later one
loads the room from the store (snapshot and log) and finds the file as the hub last saved it.
The hub's own "room … loaded in … ms" lines are shown beside.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TREE = Path(os.environ.get("COLLABD_BENCH_TREE") or ROOT)
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(TREE))
os.chdir(TREE)  # the hub runs as `python -m collabd.cli` from here: this tree's collabd/

from hubbench.notebooks import write_notebook  # noqa: E402
from pycrdt import Doc  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402

from collabd.sync import protocol  # noqa: E402
from tests.support.kernel import running_hub  # noqa: E402

UNLOAD_S = 0.5
JANITOR_S = 5.0  # the hub looks for idle rooms at most this often


async def join(url: str) -> float:
    started = time.perf_counter()
    async with connect(url, max_size=None) as ws:
        doc: Doc = Doc()  # type: ignore[type-arg]
        await ws.send(protocol.sync_step1(doc.get_state()))
        while True:
            frame = await ws.recv()
            if isinstance(frame, bytes) and frame[:2] == b"\x00\x01":
                doc.apply_update(protocol.parse(frame).payload)
                return (time.perf_counter() - started) * 1000


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cells", type=int, default=1000)
    parser.add_argument("--reopens", type=int, default=5)
    args = parser.parse_args()
    env = {"COLLABD_ROOM_IDLE_UNLOAD_S": str(UNLOAD_S), "COLLABD_SAVE_DELAY_S": "0.1"}
    with running_hub(env) as hub:
        name = write_notebook(hub.root, "big.ipynb", args.cells)
        session = hub.create_session(name)
        sid, token = session["id"], session["edit_url"].split("#token=")[1]
        url = f"ws://127.0.0.1:{hub.port}/ws/{sid}?token={token}"
        first = await join(url)
        reopens = []
        for _ in range(args.reopens):
            await asyncio.sleep(UNLOAD_S + JANITOR_S + 1.5)  # unloaded, its file saved
            reopens.append(await join(url))
        assert hub.log_path is not None
        loads = [
            float(m) for m in re.findall(r"loaded .*? in ([\d.]+) ms", hub.log_path.read_text())
        ]
    print(f"tree {TREE}, {args.cells} cells")
    print(f"first open (import from the file): {first:.0f} ms (the hub's load {loads[0]:.0f} ms)")
    hub_loads = ", ".join(f"{x:.0f}" for x in loads[1:])
    print(
        f"reopen after unload, {len(reopens)} tries: p50 {statistics.median(reopens):.0f} ms,"
        f" max {max(reopens):.0f} ms (the hub's loads {hub_loads} ms)"
    )


if __name__ == "__main__":
    asyncio.run(main())
