"""A session kernel's life: start, restart, death and idle shutdown, each shown in `state.kernel`.

States: starting -> idle <-> busy; restarting -> idle; any -> dead (it died, could not start,
was shut down when idle). Every transition goes through `status_edit`, which checks it against
`docstate.may_follow`. Start, restart, death and shutdown hold `lock`, one at a time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path

from pycrdt import Map

from collabd.kernel import docstate
from collabd.kernel.base import (
    DEFAULT_KERNEL,
    LOCAL_HOST,
    Kernel,
    KernelFactory,
    KernelStartError,
    exit_text,
    host_of,
)
from collabd.kernel.queueview import DocEdit, QueueView
from collabd.sync.liveroom import LiveRoom

log = logging.getLogger("collabd.kernel.execution")


class KernelDied(Exception):
    def __init__(self, kernel: Kernel, exit_code: int | None) -> None:
        super().__init__(exit_text(kernel, exit_code))
        self.kernel, self.exit_code = kernel, exit_code


class KernelLife:
    """The session's kernel (None while there is none) and its status."""

    def __init__(
        self, live: LiveRoom, view: QueueView, *, cwd: Path, factory: KernelFactory
    ) -> None:
        self.live = live
        self.settings = live.settings
        self.view = view
        self.queue = view.queue
        self.kernel: Kernel | None = None
        self.status: str | None = None
        self.lock = asyncio.Lock()
        self.closing = False  # the session is closing: never start another kernel
        self.last_activity = time.monotonic()
        self._cwd = cwd
        self._factory = factory
        self._name = DEFAULT_KERNEL
        self._host = LOCAL_HOST
        self.on_status: Callable[[str | None, str], None] | None = None  # told every change

    @property
    def host(self) -> str:
        """The kernel host of the current (or last) kernel."""
        return self._host

    def touch(self) -> None:
        """Something ran or was queued: the idle shutdown counts from now."""
        self.last_activity = time.monotonic()

    # status

    def set_status(self, status: str, reason: str = "") -> None:
        self.view.edit(self.status_edit(status, reason))

    def status_edit(self, status: str, reason: str = "") -> DocEdit:
        """Move to `status` (recorded unless it is only idle <-> busy); the edit shows it."""
        previous, self.status, name, host = self.status, status, self._name, self._host
        if not docstate.may_follow(previous, status):
            log.error(
                "room %s: kernel status %s -> %s is not expected", self.live.id, previous, status
            )
        if {previous, status} != {"idle", "busy"}:
            event = {"status": status, "name": name, "host": host, "reason": reason}
            self.live.record_event("kernel", event)
            if self.on_status is not None and previous != status:
                self.on_status(previous, status)
        return lambda doc: docstate.set_kernel(doc, status, name, reason, host)

    # start and restart

    async def ensure(self) -> bool:
        """Start a kernel unless there is one; False if it could not start."""
        async with self.lock:
            if self.kernel is not None:
                return True
            return await self.start_locked("starting")

    async def start_locked(self, status: str) -> bool:
        kernel = self._factory(self._spec_name(), self._cwd)
        self._name, self._host = kernel.name, host_of(kernel)
        if status == "starting":
            self.set_status("starting")
        self.kernel = kernel  # so that close() can stop one that is half started
        try:
            await kernel.start()
        except Exception as exc:
            self.kernel = None
            try:
                await kernel.shutdown()
            except Exception:
                log.exception("room %s: shutting down a kernel that failed to start", self.live.id)
            reason = str(exc) if isinstance(exc, KernelStartError) else repr(exc)
            self.set_status("dead", reason)
            self.view.cancel_queued(f"the kernel could not start: {reason}", "kernel_died")
            return False
        if self.closing:  # closed while it started: never leave it running
            self.kernel = None
            await kernel.shutdown()
            return False
        self.touch()
        self.set_status("idle")
        return True

    async def restart_locked(self, reason: str, kind: str = "restart") -> None:
        """Shut the kernel down and start afresh; the caller holds `lock` and stopped the run."""
        old, self.kernel = self.kernel, None
        self.set_status("restarting", reason)
        self.view.edit(lambda doc: docstate.set_last_event(doc, kind, reason))
        if old is not None:
            await old.shutdown()
        await self.start_locked("restarting")

    def _spec_name(self) -> str:
        metadata = self.live.doc.get("meta", type=Map).get("metadata")
        spec = metadata.get("kernelspec") if isinstance(metadata, Map) else None
        spec = spec.to_py() if isinstance(spec, Map) else spec
        name = spec.get("name") if isinstance(spec, dict) else None
        return str(name) if name else DEFAULT_KERNEL

    # death and shutdown

    async def on_death(self, died: KernelDied) -> None:
        reason = self.death_text(died)
        async with self.lock:
            if self.kernel is not died.kernel:
                return  # restarted or closed meanwhile: that kernel is already gone
            kernel, self.kernel = self.kernel, None
            self.set_status("dead", reason)
            self.view.edit(lambda doc: docstate.set_last_event(doc, "kernel_died", reason))
            self.view.cancel_queued(f"the kernel died ({died})", "kernel_died")
            if kernel is not None:
                await kernel.shutdown()
            if self.settings.kernel_restart_on_death and not self.closing:
                self.set_status("restarting", reason)
                await self.start_locked("restarting")

    def death_text(self, died: KernelDied) -> str:
        then = "it is being restarted" if self.settings.kernel_restart_on_death else "run again"
        return f"the kernel died unexpectedly ({died}); queued runs were cancelled; {then}"

    async def check_idle(self) -> None:
        """Between runs: notice a kernel that died, or shut one down that was idle too long."""
        kernel = self.kernel
        if kernel is None or self.status != "idle" or self.queue.has_queued():
            return
        exit_code = await kernel.exit_code()
        if exit_code is not None:
            await self.on_death(KernelDied(kernel, exit_code))
        elif time.monotonic() - self.last_activity >= self.settings.kernel_idle_shutdown_s:
            await self._shutdown_idle()

    async def _shutdown_idle(self) -> None:
        async with self.lock:
            quiet = time.monotonic() - self.last_activity
            if quiet < self.settings.kernel_idle_shutdown_s or self.queue.has_queued():
                return  # restarted or given work while this waited
            kernel, self.kernel = self.kernel, None
            if kernel is None:
                return
            await kernel.shutdown()
            limit = self.settings.kernel_idle_shutdown_s
            reason = f"shut down after {limit:g} s without runs; a run starts it again"
            self.set_status("dead", reason)

    async def close(self, reason: str) -> None:
        """Shut the kernel down for good (the caller set `closing` and stopped the run)."""
        async with self.lock:
            kernel, self.kernel = self.kernel, None
            if kernel is not None:
                await kernel.shutdown()
                self.set_status("dead", reason)
