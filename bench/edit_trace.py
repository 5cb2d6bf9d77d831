"""The hub, with timing marks on an edit's way through it.

Runs `collabd` (the same arguments) after wrapping the functions an edit passes through, and
writes the median and p90 of each step, in µs, to `--out` every 2 s and at exit. For
`hub_bench.py`, which measures the whole trip from outside:

    .venv/bin/python bench/hub_bench.py --targets collabd --editors 10 --phases edit \\
        --collabd-cmd ".venv/bin/python bench/edit_trace.py --out /tmp/edit-trace.json"

With `COLLABD_BENCH_TREE=DIR` the hub comes from DIR's tree (one with `LiveRoom._take` and
`_sent`, from 30 Nov 2026 on), so two versions can be compared step by step. The steps, each
from the end of the one before:

- `read`: uvicorn was handed the bytes → the frame, parsed by uvicorn and websockets, reaches
  the connection's `Inbox`;
- `apply`: → checked, parsed, applied to the document and queued (`_Taker`, `Room`, pycrdt);
- `wait`: → the room's flush takes the batch (the loop's next pass);
- `prepare`: → the append starts (the entries, the snapshot cadence);
- `append`: the store's `append_now` (batches the store could not take at once are left out);
- `send`: the fan-out (a `send` per peer);
- `total`: queued → sent (`wait` to `send`).

The wrappers cost ~1 µs a step; they time, they do not change what runs.
"""

from __future__ import annotations

import atexit
import json
import os
import statistics
import sys
import time
from typing import Any

if os.environ.get("COLLABD_BENCH_TREE"):  # run from that tree's folder (hub_bench's cwd)
    sys.path.insert(0, os.getcwd())

from collabd import cli
from collabd.store.sqlite import SQLiteStore
from collabd.sync import liveroom, wspeer

DUMP_EVERY_S = 2.0
STEPS = ("read", "apply", "wait", "prepare", "append", "send", "total")
_now = time.perf_counter
_spans: dict[str, list[float]] = {}
_marks = {"read": 0.0, "taken": 0.0, "dumped": 0.0}
_out = ""


def _add(step: str, seconds: float) -> None:
    _spans.setdefault(step, []).append(seconds)


def _dump() -> None:
    if not _out:
        return
    table: dict[str, Any] = {}
    for step in STEPS:
        values = sorted(_spans.get(step, ()))
        if not values:
            continue
        table[step] = {
            "n": len(values),
            "p50_us": round(statistics.median(values) * 1e6, 1),
            "p90_us": round(values[int(0.9 * (len(values) - 1))] * 1e6, 1),
        }
    with open(_out, "w") as f:
        json.dump(table, f, indent=1)


def _wrap_inbox() -> None:
    slim = wspeer._slim_inbox

    def slim_inbox(direct: Any) -> None:
        slim(direct)
        received = direct.data_received

        def data_received(data: bytes) -> None:
            _marks["read"] = _now()
            received(data)

        direct.data_received = data_received

    wspeer._slim_inbox = slim_inbox
    put = wspeer.Inbox.put_nowait

    def put_nowait(self: Any, item: Any) -> None:
        came = _now()
        queued = len(self._items)
        put(self, item)
        if len(self._items) == queued:  # taken at once by the room, not queued
            _add("read", came - _marks["read"])
            _add("apply", _now() - came)

    wspeer.Inbox.put_nowait = put_nowait  # type: ignore[method-assign]


def _wrap_flush() -> None:
    take = liveroom.LiveRoom._take

    def _take(self: Any) -> Any:
        started = _now()
        if self._outbox:
            _add("wait", started - self._outbox_since)
        _marks["taken"] = started
        return take(self)

    liveroom.LiveRoom._take = _take  # type: ignore[method-assign]
    sent = liveroom.LiveRoom._sent

    def _sent(self: Any, batch: Any) -> None:
        started = _now()
        sent(self, batch)
        if batch.updates:
            ended = _now()
            _add("send", ended - started)
            _add("total", ended - batch.since)
            if ended - _marks["dumped"] > DUMP_EVERY_S:
                _marks["dumped"] = ended
                _dump()

    liveroom.LiveRoom._sent = _sent  # type: ignore[method-assign]
    append_now = SQLiteStore.append_now

    def timed_append_now(self: Any, *args: Any, **kwargs: Any) -> int | None:
        started = _now()
        seq = append_now(self, *args, **kwargs)
        if seq is not None:
            _add("prepare", started - _marks["taken"])
            _add("append", _now() - started)
        return seq

    SQLiteStore.append_now = timed_append_now  # type: ignore[method-assign]


def main() -> int:
    global _out
    argv = sys.argv[1:]
    if argv[:1] == ["--out"]:
        _out, argv = argv[1], argv[2:]
    _wrap_inbox()
    _wrap_flush()
    atexit.register(_dump)
    return cli.main(argv)


if __name__ == "__main__":
    sys.exit(main())
