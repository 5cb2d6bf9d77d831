"""uvicorn's server with the hub's hand-over first.

On SIGTERM or SIGINT uvicorn would stop accepting, close every websocket with 1012 and only then
let the hub stop: clients would reconnect before the hub stored and released their sessions. Here
the hub hands over first (rooms stored and unloaded, kernels stopped, leases released, clients
told to reconnect), then uvicorn stops. A stop that went well exits 0, whichever signal asked.
"""

from __future__ import annotations

import asyncio
import logging
from types import FrameType

import uvicorn

from collabd.background import spawn
from collabd.hub import Hub

log = logging.getLogger("collabd")
HAND_OVER_LIMIT_S = 30.0


class HubServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, hub: Hub) -> None:
        super().__init__(config)
        self.hub = hub
        self._handing_over = False

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._handing_over or self.should_exit:  # a second signal: stop now, as uvicorn does
            super().handle_exit(sig, frame)
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
            self._captured_signals.clear()  # a clean stop exits 0, not as killed by the signal
