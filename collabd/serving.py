"""uvicorn's server with the hub's hand-over first.

On SIGTERM or SIGINT uvicorn would stop accepting, close every websocket with 1012 and only then
let the hub stop: clients would reconnect before the hub stored and released their sessions. Here
the hub hands over first (rooms stored and unloaded, kernels stopped, leases released, clients
told to reconnect), then uvicorn stops. A stop that went well exits 0, whichever signal asked.

uvicorn's main loop also wakes ten times a second to see whether it should stop; an idle hub spent
~2 % of a core on those wake-ups alone (`bench/README.md`, round two, sixth pass). Here it wakes
once a second (uvicorn's Date header is refreshed that often anyway) or when a stop is asked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from types import FrameType

import uvicorn

from collabd.background import spawn
from collabd.hub import Hub

log = logging.getLogger("collabd")
HAND_OVER_LIMIT_S = 30.0
TICK_S = 1.0  # uvicorn's on_tick: the Date header and the checks whether to stop


class HubServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, hub: Hub) -> None:
        super().__init__(config)
        self.hub = hub
        self._handing_over = False
        self._stop_asked: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def main_loop(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop_asked = asyncio.Event()
        # on_tick refreshes the Date header when its counter is a multiple of ten: every tick here
        while not await self.on_tick(0):
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(TICK_S):
                    await self._stop_asked.wait()

    def _wake_main_loop(self) -> None:
        """Called from a signal handler too: only the thread-safe way into the loop."""
        if self._loop is not None and self._stop_asked is not None:
            with contextlib.suppress(RuntimeError):  # the loop is closed already
                self._loop.call_soon_threadsafe(self._stop_asked.set)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._handing_over or self.should_exit:  # a second signal: stop now, as uvicorn does
            super().handle_exit(sig, frame)
            self._wake_main_loop()
            return
        self._handing_over = True
        log.info("stopping: handing the sessions over first")
        spawn(self._hand_over_then_exit(sig, frame), "hand-over")

    async def _hand_over_then_exit(self, sig: int, frame: FrameType | None) -> None:
        try:
            limit = self.config.timeout_graceful_shutdown or HAND_OVER_LIMIT_S
            async with asyncio.timeout(limit):
                await self.hub.hand_over()
        except Exception:
            log.exception("handing the sessions over failed; stopping anyway")
        finally:
            super().handle_exit(sig, frame)
            self._wake_main_loop()
            self._captured_signals.clear()  # a clean stop exits 0, not as killed by the signal
