"""Store benchmark: the same append and seek workloads on every store backend, side by side.

    .venv/bin/python bench/store_bench.py                    # ~1 min
    .venv/bin/python bench/store_bench.py --appends 300 --rounds 1   # quick check

Backends: memory, SQLite (a file in a temporary folder, as the hub opens it), PostgreSQL (a
temporary database on 127.0.0.1, dropped at the end) as configured, and PostgreSQL again with
synchronous_commit=off for the session, which is the durability SQLite's WAL with
synchronous=NORMAL gives (a crash of the server process loses nothing, a power loss may take the
last commits). Each round runs every workload on every backend in turn, so that drift in the
machine's load spreads over all of them; latencies are pooled over the rounds.

- append x1: one 64-byte update per `append` (a keystroke, as the hub writes it when idle).
- append x50: 50 updates per `append` (a group commit under load).
- seek: `latest_snapshot` then `entries(after_seq=…)`: what loading a room or a playback seek
  reads (a 64 KiB snapshot and the 250 updates after it).

Figures are for comparing backends in one run on one machine, not absolute.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from collabd.store import MemoryStore, NewEntry, PostgresStore, Snapshot, SQLiteStore  # noqa: E402
from collabd.store.base import Store  # noqa: E402

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
UPDATE_BYTES = 64
SNAPSHOT_BYTES = 64 * 1024
SNAPSHOT_EVERY = 500
TAIL = 250


@dataclass
class Result:
    latencies_s: list[float] = field(default_factory=list)
    entries: int = 0
    busy_s: float = 0.0

    def add(self, seconds: float, entries: int) -> None:
        self.latencies_s.append(seconds)
        self.entries += entries
        self.busy_s += seconds

    def rate(self) -> float:
        return self.entries / self.busy_s if self.busy_s else 0.0

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies_s)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def updates(n: int, t: float) -> list[NewEntry]:
    return [NewEntry(t, "update", "peer:1", os.urandom(UPDATE_BYTES)) for _ in range(n)]


def bench_append(store: Store, room: str, batch: int, calls: int, result: Result) -> None:
    for _ in range(calls):
        entries = updates(batch, time.time())  # made outside the timed call
        started = time.perf_counter()
        store.append(room, entries)
        result.add(time.perf_counter() - started, batch)


def prepare_seek(store: Store, room: str) -> None:
    """Two snapshot periods of history, then a snapshot and the tail a seek reads after it."""
    last = 0
    for _ in range(2):
        for _ in range(SNAPSHOT_EVERY // 50):
            last = store.append(room, updates(50, time.time()))
        store.add_snapshot(room, Snapshot(last, time.time(), os.urandom(SNAPSHOT_BYTES)))
    store.append(room, updates(TAIL, time.time()))


def bench_seek(store: Store, room: str, reads: int, result: Result) -> None:
    for _ in range(reads):
        started = time.perf_counter()
        snapshot = store.latest_snapshot(room)
        tail = store.entries(room, after_seq=snapshot.seq if snapshot else 0)
        result.add(time.perf_counter() - started, 1)
        assert len(tail) == TAIL


@contextmanager
def temporary_database(admin_url: str) -> Iterator[str]:
    name = f"collabd_bench_{secrets.token_hex(4)}"
    ident = sql.Identifier(name)
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(ident))
    try:
        yield urlsplit(admin_url)._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))


def server_settings(url: str) -> str:
    with psycopg.connect(url, connect_timeout=5) as conn:
        row = conn.execute(
            "SELECT current_setting('server_version'), current_setting('fsync'),"
            " current_setting('synchronous_commit')"
        ).fetchone()
    assert row is not None
    return f"PostgreSQL {row[0]}: fsync={row[1]}, synchronous_commit={row[2]}"


WORKLOADS = ("append x1", "append x50", "seek")


def run(args: argparse.Namespace, pg_url: str, workdir: Path) -> dict[str, dict[str, Result]]:
    async_url = pg_url + "?options=" + "-c%20synchronous_commit%3Doff"
    openers: dict[str, Callable[[], Store]] = {
        "memory": MemoryStore,
        "sqlite": lambda: SQLiteStore(workdir / "bench.sqlite3"),
        "postgres": lambda: PostgresStore(pg_url),
        "pg sync off": lambda: PostgresStore(async_url),
    }
    results = {name: {w: Result() for w in WORKLOADS} for name in openers}
    stores = {name: open_() for name, open_ in openers.items()}
    try:
        for name, store in stores.items():
            prepare_seek(store, f"seek-{name}")  # the two PostgreSQL ones share the database
        for n in range(args.rounds):
            print(f"round {n + 1}/{args.rounds}", file=sys.stderr)
            for name, store in stores.items():
                mine = results[name]
                bench_append(store, f"a1-{name}", 1, args.appends, mine["append x1"])
                bench_append(store, f"a50-{name}", 50, args.appends // 10, mine["append x50"])
                bench_seek(store, f"seek-{name}", args.seeks, mine["seek"])
    finally:
        for store in stores.values():
            store.close()
    return results


def report(results: dict[str, dict[str, Result]]) -> None:
    names = list(results)
    base = results["sqlite"]
    print(f"\n{'':24}" + "".join(f"{n:>14}" for n in names))

    def row(label: str, value: Callable[[Result], float], fmt: str) -> None:
        cells = [format(value(results[n][w]), fmt) for n in names]
        print(f"{label:24}" + "".join(f"{c:>14}" for c in cells))
        ratios = [value(results[n][w]) / (value(base[w]) or 1.0) for n in names]
        print(f"{'  x sqlite':24}" + "".join(f"{r:>14.2f}" for r in ratios))

    for w in WORKLOADS:
        if w != "seek":
            row(f"{w}: entries/s", Result.rate, ",.0f")
        row(f"{w}: p50 ms", lambda r: r.pct(0.50) * 1000, ".3f")
        row(f"{w}: p99 ms", lambda r: r.pct(0.99) * 1000, ".3f")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--appends", type=int, default=2000, help="single appends per round")
    parser.add_argument("--seeks", type=int, default=200, help="seeks per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pg-admin-url", default=ADMIN_URL, help="creates the temporary db")
    parser.add_argument("--workdir", type=Path, default=None, help="where the SQLite file goes")
    args = parser.parse_args()
    if urlsplit(args.pg_admin_url).hostname not in LOOPBACK:
        parser.error("--pg-admin-url must be on 127.0.0.1: this benchmark stays on loopback")
    print(
        f"store bench: {args.rounds} rounds of {args.appends} appends x1,"
        f" {args.appends // 10} appends x50 ({UPDATE_BYTES} B updates), {args.seeks} seeks"
        f" ({SNAPSHOT_BYTES // 1024} KiB snapshot + {TAIL} updates)"
    )
    with (
        temporary_database(args.pg_admin_url) as pg_url,
        tempfile.TemporaryDirectory(dir=args.workdir) as tmp,
    ):
        print(server_settings(pg_url))
        report(run(args, pg_url, Path(tmp)))


if __name__ == "__main__":
    main()
