"""Cold open of a large notebook: the hub's side, from a plain websocket client.

For each try, a new N-cell notebook is written; collabd gets a session for it
(`POST /api/sessions`), the pycrdt-websocket baseline nothing (it opens a file by its path);
then a client connects, sends sync step 1 with an empty state and times the connection until
sync step 2 (the whole notebook) has arrived. The client does not apply it: what is timed is the
server's load and answer. Two ways of joining:

- `after a page load`: the join comes `--gap` s after the session's creation, as in a browser,
  which creates the session, then loads the session's page, which joins;
- `at once`: the join right after the creation (an API client); for collabd, the creation's own
  time is printed too.

    .venv/bin/python bench/cold_open.py [--cells 1000] [--tries 12]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from hubbench.notebooks import write_notebook
from hubbench.servers import Server, start_baseline, start_collabd
from websockets.sync.client import connect

SYNC_STEP1_EMPTY = b"\x00\x00\x01\x00"  # sync, step 1, a state vector with no clients
SYNC_STEP2 = b"\x00\x01"


def join(url: str) -> float:
    """Seconds from connecting to holding sync step 2."""
    started = time.perf_counter()
    with connect(url, max_size=None) as ws:
        ws.send(SYNC_STEP1_EMPTY)
        while True:
            message = ws.recv()
            if isinstance(message, bytes) and message[:2] == SYNC_STEP2:
                return time.perf_counter() - started


def one(server: Server, cells: int, gap: float, name: str) -> tuple[float, float]:
    """A fresh notebook joined `gap` s after its creation: join and creation times (ms)."""
    path = write_notebook(server.root, name, cells)
    started = time.perf_counter()
    url = server.room_url(path)
    created = (time.perf_counter() - started) * 1e3
    time.sleep(gap)
    joined = join(url) * 1e3
    time.sleep(0.2)
    return joined, created


def p50(values: list[float]) -> str:
    return f"{statistics.median(values):7.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cells", type=int, default=1000)
    parser.add_argument("--tries", type=int, default=12)
    parser.add_argument("--gap", type=float, default=0.3, help="s between creation and join")
    parser.add_argument("--cpu", type=int, default=0, help="core for the servers (-1: none)")
    args = parser.parse_args()
    cpu = None if args.cpu < 0 else args.cpu
    ways = (("after a page load", args.gap), ("at once", 0.0))
    # way -> server -> (join ms, creation ms) per try
    rows: dict[str, dict[str, list[tuple[float, float]]]] = {w: {} for w, _ in ways}
    with tempfile.TemporaryDirectory(prefix="cold-open-") as tmp:
        work = Path(tmp)
        servers = [start_collabd(work / "collabd", cpu, [], {})]
        servers.append(start_baseline(work / "baseline", cpu, "auto"))
        try:
            for way, gap in ways:
                for i in range(args.tries):  # alternating: a slow moment falls on both
                    for s in servers:
                        name = f"{way[:2].strip()}-{i}.ipynb"
                        rows[way].setdefault(s.name, []).append(one(s, args.cells, gap, name))
        finally:
            for s in servers:
                s.stop()
    print(f"cold open of a {args.cells}-cell notebook, {args.tries} tries each, p50 ms")
    print(f"{'join':18} {'collabd':>8} {'baseline':>8} {'ratio':>6}  collabd's creation")
    for way, runs in rows.items():
        ours = [j for j, _ in runs["collabd"]]
        base = [j for j, _ in runs["baseline"]]
        ratio = statistics.median(ours) / statistics.median(base)
        created = [c for _, c in runs["collabd"]]
        print(f"{way:18} {p50(ours)} {p50(base)} {ratio:5.2f}x  {p50(created)}")


if __name__ == "__main__":
    main()
