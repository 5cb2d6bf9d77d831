"""Fire-and-forget tasks that are kept alive until they end and whose failures are logged."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

log = logging.getLogger("collabd")
_running: set[asyncio.Task[None]] = set()


def spawn(work: Awaitable[None], name: str) -> None:
    async def run() -> None:
        try:
            await work
        except Exception:
            log.exception("%s failed", name)

    task = asyncio.get_running_loop().create_task(run(), name=name)
    _running.add(task)  # the loop keeps only weak references to tasks
    task.add_done_callback(_running.discard)


async def bounded(work: Awaitable[None], what: str, report_s: float, limit_s: float) -> None:
    """Awaits `work` for `limit_s` at most (then logs an error and returns); if it is not done
    after `report_s`, logs every other task and where it waits: a stop that hangs says what it
    is waiting for, and does not hang the process."""
    loop = asyncio.get_running_loop()
    me = asyncio.current_task()
    timer = loop.call_later(report_s, _report_tasks, what, report_s, me)
    try:
        async with asyncio.timeout(limit_s):
            await work
    except TimeoutError:
        log.error("%s: gave up after %g s", what, limit_s)
    finally:
        timer.cancel()


def _report_tasks(what: str, after_s: float, me: asyncio.Task[object] | None) -> None:
    lines = []
    for task in asyncio.all_tasks():
        if task is me:
            continue
        frames = task.get_stack()
        where = " <- ".join(
            f"{f.f_code.co_name} ({f.f_code.co_filename.rsplit('/', 1)[-1]}:{f.f_lineno})"
            for f in reversed(frames)
        )
        lines.append(f"  {task.get_name()}: {where or 'not started'}")
    log.warning("%s: not done after %g s; tasks:\n%s", what, after_s, "\n".join(lines))
