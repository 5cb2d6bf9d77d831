"""The cost of tracking on a run: a trivial cell's end-to-end time with the capture on and off.

One hub process, one session whose notebook has a `parameters` cell, one client. The same
trivial cell is run `--rounds` times in each mode, the modes interleaved in blocks (so drift of
the machine hits both), switched per session with `POST …/tracking {"enabled": …}`. End to end =
from the run request to the client seeing the run's end in the document. Prints the medians, the
p90s and the ratio.

    .venv/bin/python bench/tracking_bench.py [--rounds 60] [--names 0]

`--names N` puts N extra globals in the namespace first (the capture looks at every global).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from collabd.client import NotebookClient  # noqa: E402
from tests.support.hubproc import HubProcess, new_hub  # noqa: E402
from tests.support.kernel import finished, last_run  # noqa: E402

MS = 1000.0


async def run_once(nb: NotebookClient, cell: str) -> float:
    before = (last_run(nb, cell) or {}).get("started")
    start = time.perf_counter()
    await nb.run(cell)
    await nb.wait_for(lambda: (finished(nb, cell) or {}).get("started") not in (None, before), 60)
    return time.perf_counter() - start


async def bench(hub: HubProcess, rounds: int, names: int) -> dict[str, list[float]]:
    nb_file = nbformat.v4.new_notebook()
    nb_file.cells = [
        nbformat.v4.new_code_cell("lr = 0.1\nepochs = 3", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(f"for i in range({names}):\n    globals()[f'v{{i}}'] = i"),
        nbformat.v4.new_code_cell("accuracy = 0.5"),
    ]
    for i, cell in enumerate(nb_file.cells):
        cell["id"] = f"c{i}"
    Path(hub.root, "bench.ipynb").write_text(nbformat.writes(nb_file), encoding="utf-8")
    s = hub.create_session("bench.ipynb")
    times: dict[str, list[float]] = {"on": [], "off": []}
    async with NotebookClient.from_link(s["edit_url"], name="bench") as nb:
        for cell in ("c0", "c1"):
            await run_once(nb, cell)
        for _ in range(5):  # warm up
            await run_once(nb, "c2")
        block = 10
        for start in range(0, rounds, block):
            for mode in ("off", "on"):
                status, body = hub.api(
                    "POST", f"/api/sessions/{s['id']}/tracking", {"enabled": mode == "on"},
                    token=s["edit_token"],
                )  # fmt: skip
                assert status == 200, body
                for _ in range(min(block, rounds - start)):
                    times[mode].append(await run_once(nb, "c2"))
    status, found = hub.api("GET", f"/api/sessions/{s['id']}/experiments", token=s["view_token"])
    assert status == 200 and found, "tracking recorded nothing"
    return times


def p90(values: list[float]) -> float:
    return sorted(values)[int(0.9 * (len(values) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=60, help="runs per mode")
    parser.add_argument("--names", type=int, default=0, help="extra globals in the namespace")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="collabd-trackbench-") as tmp:
        hub = new_hub(Path(tmp)).start()
        try:
            times = asyncio.run(bench(hub, args.rounds, args.names))
        finally:
            hub.stop()
    on, off = statistics.median(times["on"]), statistics.median(times["off"])
    print(f"trivial run, end to end, {args.rounds} runs per mode, {args.names} extra globals")
    print(f"{'':12}{'median ms':>12}{'p90 ms':>10}")
    print(f"{'capture off':12}{off * MS:>12.2f}{p90(times['off']) * MS:>10.2f}")
    print(f"{'capture on':12}{on * MS:>12.2f}{p90(times['on']) * MS:>10.2f}")
    print(f"ratio on/off (medians): {on / off:.3f}  (+{(on - off) * MS:.2f} ms)")


if __name__ == "__main__":
    main()
