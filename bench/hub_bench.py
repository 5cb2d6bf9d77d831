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
import shlex
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script from anywhere

from hubbench import common
from hubbench.common import LOADGEN, Json, Options
from hubbench.measure import run_target
from hubbench.report import denominator, table


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
    p.add_argument("--viewers", type=int, default=1000, help="lecture phase: viewers watching")
    p.add_argument("--lecture-editors", type=int, default=5, help="lecture phase: editors")
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
    p.add_argument(
        "--phases", default="edit,sync,idle,fresh", help="measurements to run (also: lecture)"
    )
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
        viewers=a.viewers,
        lecture_editors=a.lecture_editors,
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
        collabd_cmd=shlex.split(a.collabd_cmd) if a.collabd_cmd else None,
    )

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    common.DEFLATE[0] = a.deflate
    common.NICE[0] = a.nice if os.geteuid() == 0 or a.nice > 0 else 0
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
        f" load cpu {opt.load_cpu}; nice {common.NICE[0]}; deflate {a.deflate};"
        f" ratio = collabd / {denominator(list(results))}"
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
