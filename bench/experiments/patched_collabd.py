"""`collabd` with experimental hub changes patched in, to measure them before anyone edits
collabd/. Internals move, so this may need updating; it is not part of the product.

    PATCHES=inline_store,no_disk_wake .venv/bin/python bench/hub_bench.py --targets collabd \\
        --collabd-cmd '.venv/bin/python bench/experiments/patched_collabd.py'

- inline_store: the SQLite log append runs on the event loop instead of a run_in_executor round
  trip (WAL + synchronous=NORMAL: a commit does not fsync, ~35 µs here).
- no_disk_wake: a publish only notes the room dirty; the disk loop is not woken (and does not
  stat the .ipynb through a thread) per publish, it runs on its watch interval.
- fast_import: no outside-change merge right after a room was first imported from its .ipynb.

The hub has since taken fast_import and the file-work part of no_disk_wake (commit "Open big
notebooks fast ..."); inline_store is still only an experiment (DESIGN keeps store writes off
the event loop).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from collabd import hub as hubmod
from collabd.cli import main
from collabd.disk import sync as diskfile

PATCHES = set(filter(None, os.environ.get("PATCHES", "").split(",")))


def inline_store() -> None:
    original = hubmod.Hub.run_io

    async def run_io(self: Any, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if getattr(fn, "__name__", "") == "append":
            return fn(*args, **kwargs)
        return await original(self, fn, *args, **kwargs)

    hubmod.Hub.run_io = run_io  # type: ignore[method-assign]


def no_disk_wake() -> None:
    def _dirty(self: Any, state: Any, publishes: Any) -> None:
        now = time.monotonic()
        state.last_dirty = now
        if state.first_dirty is None:
            state.first_dirty = now

    diskfile.DiskSync._dirty = _dirty  # type: ignore[method-assign]


def fast_import() -> None:
    original = diskfile.DiskSync._reconcile_on_load

    async def _reconcile_on_load(self: Any, live: Any, state: Any) -> None:
        if live.attachments.get("last_change_ts", 0.0) == 0.0:  # just imported from this file
            found = await asyncio.to_thread(diskfile._read, state.path)
            if found is not None:
                state.written, state.stat = found
                return
        await original(self, live, state)

    diskfile.DiskSync._reconcile_on_load = _reconcile_on_load  # type: ignore[method-assign]


if __name__ == "__main__":
    for name in sorted(PATCHES):
        {"inline_store": inline_store, "no_disk_wake": no_disk_wake, "fast_import": fast_import}[
            name
        ]()
    print("patches:", sorted(PATCHES), file=sys.stderr, flush=True)
    sys.exit(main())
