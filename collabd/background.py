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
