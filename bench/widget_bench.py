"""Shared widgets' cost: a cell that floods widget updates, through the hub against jupyter_client
directly (where nobody reads the comm messages: the kernel's own cost).

    .venv/bin/python bench/widget_bench.py              # ~1 min
    .venv/bin/python bench/widget_bench.py --runs 10 --updates 5000

Each round runs, alternately on (a) a kernel started with jupyter_client's AsyncKernelManager,
timed from `execute()` to the iopub `idle` and the `execute_reply`, and (b) a real
`collabd serve` process, timed from the participant's `POST /execute` to its document holding
the run's end and the slider's last value (the hub read every comm message, kept the state,
coalesced the writes, stored and broadcast them):

- `slider`: `for i in range(N): slider.value = i` (N comm updates);
- `output`: `with out: for i in range(N): display(i)` (N outputs captured by an Output widget).
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

from kernel_bench import PAUSE_S, DirectKernel  # noqa: E402

from collabd import widgetstate  # noqa: E402
from collabd.client import NotebookClient  # noqa: E402
from tests.support.kernel import finished, new_cells, running_hub  # noqa: E402

SETUP = (
    "import ipywidgets as w\nfrom IPython.display import display\n"
    "slider = w.IntSlider(max=10**9)\nout = w.Output()\ndisplay(slider, out)\nround_ = 0"
)


def flood(kind: str, updates: int) -> str:
    if kind == "slider":
        return f"round_ += 1\nfor i in range({updates}):\n    slider.value = round_ * 10**6 + i"
    return (
        f"round_ += 1\nout.clear_output()\nwith out:\n    for i in range({updates}):\n"
        "        display(round_ * 10**6 + i)\nslider.value = round_ * 10**6 + 999_999"
    )


async def hub_run(nb: NotebookClient, cell: str, slider: str, expect: int) -> float:
    before = (finished(nb, cell) or {}).get("ended")
    started = time.perf_counter()
    await nb.run(cell)

    def done() -> bool:
        run = finished(nb, cell)
        value = (widgetstate.entries(nb.doc).get(slider) or {}).get("state", {}).get("value")
        return run is not None and run["ended"] != before and value == expect

    await nb.wait_for(done, 120)
    return time.perf_counter() - started


def slider_of(nb: NotebookClient, cell: str) -> str | None:
    for output in nb.outputs(cell):
        view = (output.get("data") or {}).get(widgetstate.MIME_VIEW)
        if view and view["model_id"] in widgetstate.entries(nb.doc):
            return str(view["model_id"])
    return None


async def rounds(kind: str, runs: int, updates: int) -> tuple[list[float], list[float]]:
    direct = DirectKernel()
    await direct.start()
    await direct.run(SETUP)
    direct_times, hub_times = [], []
    try:
        with running_hub() as hub:
            s = hub.create_session(f"{kind}.ipynb")
            async with NotebookClient.from_link(s["edit_url"], name="bench") as nb:
                setup, cell = await new_cells(nb, SETUP, flood(kind, updates))
                await nb.run(setup)
                slider: str = await nb.wait_for(lambda: slider_of(nb, setup), 60)
                for i in range(1, runs + 2):
                    last = updates - 1 if kind == "slider" else 999_999
                    await asyncio.sleep(PAUSE_S)
                    d = await direct.run(flood(kind, updates))
                    await asyncio.sleep(PAUSE_S)
                    h = await hub_run(nb, cell, slider, i * 10**6 + last)
                    if i > 1:  # the first round warms up
                        direct_times.append(d)
                        hub_times.append(h)
    finally:
        await direct.stop()
    return direct_times, hub_times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--updates", type=int, default=2000)
    args = parser.parse_args()
    print(f"{args.runs} rounds of {args.updates} updates; median seconds, hub / direct")
    for kind in ("slider", "output"):
        direct, through = asyncio.run(rounds(kind, args.runs, args.updates))
        d, h = statistics.median(direct), statistics.median(through)
        row: dict[str, Any] = {"direct": round(d, 3), "hub": round(h, 3), "ratio": round(h / d, 2)}
        print(f"{kind:>7}: {row}")


if __name__ == "__main__":
    main()
