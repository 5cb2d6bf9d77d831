"""What an idle connection holds in the hub, by tracemalloc: a hub runs in this process with
tracemalloc on; the load generator's `idle` mode opens N synced view-link connections to one
room; the difference between the snapshots before and after, per connection, by file.

    .venv/bin/python bench/conn_memory.py --count 300      # ~30 s
    .venv/bin/python bench/conn_memory.py --count 500 --presence
    COLLABD_BENCH_TREE=/tmp/before .venv/bin/python bench/conn_memory.py ...   # another version

Python allocations only (what the C parts of uvicorn, websockets and pycrdt hold outside
Python's allocator does not show; the RSS figures of hub_bench's idle and lecture phases do).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# another version's collabd/ (e.g. `git archive REF collabd | tar -x -C DIR`), for a before/after
sys.path.insert(0, os.environ.get("COLLABD_BENCH_TREE") or str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from hubbench.loadgen import run_loadgen  # noqa: E402
from hubbench.notebooks import write_notebook  # noqa: E402
from hubbench.procs import free_port  # noqa: E402

from collabd.cli import serve  # noqa: E402
from collabd.hub import Hub  # noqa: E402
from collabd.settings import Settings  # noqa: E402


def measure(url: str, count: int, top: int, presence: bool, by: str = "filename") -> None:
    snaps: dict[str, tracemalloc.Snapshot] = {}

    def on_mark(name: str, _pid: int) -> None:
        snaps[name] = tracemalloc.take_snapshot()

    cfg = {"mode": "idle", "url": url, "count": count, "presence": presence}
    res = run_loadgen(cfg, None, on_mark)
    synced = int(res.get("synced") or 0)
    diff = snaps["idle-after"].compare_to(snaps["idle-before"], by)
    total = sum(d.size_diff for d in diff)
    with_presence = " with presence set" if presence else ""
    print(
        f"{synced} idle connections{with_presence}: "
        f"{total / max(synced, 1):,.0f} B of Python heap each"
    )
    print(f"{'per connection (B)':>18} {'blocks':>7}  file")
    for d in sorted(diff, key=lambda d: -d.size_diff)[:top]:
        frame = d.traceback[0]
        where = frame.filename.replace(str(ROOT), ".").split("site-packages/")[-1]
        where += f":{frame.lineno}" if by == "lineno" else ""
        print(
            f"{d.size_diff / max(synced, 1):18,.0f} {d.count_diff / max(synced, 1):7.1f}  {where}"
        )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--count", type=int, default=300)
    p.add_argument("--top", type=int, default=14)
    p.add_argument("--presence", action="store_true", help="each connection sets its presence")
    p.add_argument("--by", choices=("filename", "lineno"), default="filename", help="group by")
    a = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="collabd-connmem-"))
    (work / "root").mkdir()
    nb = write_notebook(work / "root", "idle.ipynb", 20)
    settings = Settings(
        port=free_port(), root=work / "root", data=work / "data", token="t" * 40
    ).with_env()
    tracemalloc.start(1)

    async def ready(hub: Hub) -> None:
        record, _ = await hub.create_session(nb)
        url = f"ws://127.0.0.1:{settings.port}/ws/{record.id}?token={record.view_token}"
        await asyncio.to_thread(measure, url, a.count, a.top, a.presence, a.by)
        os.kill(os.getpid(), signal.SIGTERM)

    serve(settings, log_level="warning", on_ready=ready)


if __name__ == "__main__":
    main()
