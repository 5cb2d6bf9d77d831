"""The hub's inline append (`SQLiteStore.append_now`) after an idle gap, as at ten editors typing
(an update every ~20 ms), and back to back, beside reference work timed the same way: what the
machine's wake-up from idle costs any server on the path, Node's included.

    .venv/bin/python bench/append_cold.py
    # another version's store: its tree unpacked elsewhere (git archive REF collabd | tar -x -C DIR)
    COLLABD_BENCH_TREE=/tmp/before .venv/bin/python bench/append_cold.py

Each figure is the p50 over `--n` tries, in µs; a SQLite commit in WAL mode is 6 fcntl lock
calls and two writes per WAL frame (a frame per page the insert changed). The hub's store
appends to its pending-appends file instead (one `write`; `collabd/store/journal.py`): the
rows "into SQLite" are a store that cannot take that file, as every store was before it.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, os.environ.get("COLLABD_BENCH_TREE") or str(ROOT))

from collabd.store import NewEntry, SQLiteStore  # noqa: E402


def p50_us(work: Callable[[], object], gap_s: float, n: int) -> float:
    took = []
    for _ in range(n):
        if gap_s:
            time.sleep(gap_s)
        started = time.perf_counter()
        work()
        took.append((time.perf_counter() - started) * 1e6)
    return statistics.median(took)


def _hold_pending_file(db: Path) -> Any:
    try:
        from collabd.store.journal import Journal
    except ImportError:  # a tree from before the pending-appends file
        return None
    return Journal.claim(db.with_name(db.name + "-pending"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="tries per figure")
    parser.add_argument("--gap", type=float, default=0.02, help="idle seconds before each try")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="collabd-append-") as tmp:
        os.chmod(tmp, 0o700)
        store = SQLiteStore(Path(tmp) / "collabd.sqlite3")
        # the same appends straight into SQLite: a store that cannot take the pending-appends
        # file (another holds it), as every store did before that file
        direct_db = Path(tmp) / "direct.sqlite3"
        held = _hold_pending_file(direct_db)
        direct = SQLiteStore(direct_db)
        fd = os.open(Path(tmp) / "plain", os.O_RDWR | os.O_CREAT, 0o600)
        page = os.urandom(4096)
        data = os.urandom(40)  # a keystroke's update

        def append(k: int, target: SQLiteStore = store) -> Callable[[], object]:
            def once() -> object:
                entries = [NewEntry(time.time(), "update", "peer:1", data)] * k
                seq = target.append_now("room", entries)
                if seq is None:  # its turn for the I/O thread's path: as the hub then does
                    seq = target.append("room", entries)
                return seq

            return once

        def python() -> None:
            total = 0
            for i in range(300):
                total += i

        def pwrites() -> None:
            for i in range(4):
                os.pwrite(fd, page, i * 4096)

        def locks() -> None:
            for i in range(6):
                fcntl.lockf(fd, fcntl.LOCK_SH if i % 2 == 0 else fcntl.LOCK_UN, 1, 100)

        rows: list[tuple[str, Callable[[], object]]] = [
            ("append_now, 1 entry", append(1)),
            ("append_now, 2 entries (a run's outputs and event)", append(2)),
            ("append_now, 10 entries", append(10)),
            ("append_now into SQLite (no pending file), 1 entry", append(1, direct)),
            ("append_now into SQLite (no pending file), 10 entries", append(10, direct)),
            ("reference: a Python loop of 300 additions", python),
            ("reference: 4 pwrite of 4 KiB", pwrites),
            ("reference: 6 fcntl lock calls", locks),
        ]
        print(f"p50 µs over {args.n} tries; tree: {os.environ.get('COLLABD_BENCH_TREE') or ROOT}")
        print(f"{'work':<52} {f'after {args.gap * 1e3:g} ms idle':>18} {'back to back':>13}")
        for name, work in rows:
            cold = p50_us(work, args.gap, args.n)
            hot = p50_us(work, 0, args.n)
            print(f"{name:<52} {cold:18.1f} {hot:13.1f}")
        os.close(fd)
        store.close()
        direct.close()
        if held is not None:
            held.close(remove=True)


if __name__ == "__main__":
    main()
