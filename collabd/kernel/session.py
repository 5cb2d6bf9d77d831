"""One session's shared kernel: the run queue carried out, outputs written by the hub.

A session kernel owns one worker task that takes requests from the queue one at a time, starts
the kernel when the first request needs it, and has each request carried out; outputs are
written into the shared document through `live.change("kernel", ...)`, so they never depend on a
browser.

The parts, one concept each: `cellrun` carries out one run (code sent, messages collected,
input()), `kernellife` the kernel's life and its status transitions, `queueview` the queue as
everyone sees it in the document and the recording.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pycrdt import Doc

from collabd.kernel import docstate, inflight
from collabd.kernel.base import Kernel, KernelFactory, KernelMessage
from collabd.kernel.cellrun import Runner, RunTracker
from collabd.kernel.choice import KernelChoice, read_choice, reattachable, set_choice
from collabd.kernel.life import KernelDied, KernelLife
from collabd.kernel.outputs import Displays
from collabd.kernel.queue import RequestState, RunQueue, RunRequest
from collabd.kernel.queueview import QueueView
from collabd.kernel.widgetpeer import WidgetPeer
from collabd.notebook import cell_source, find_cell
from collabd.sync.liveroom import LiveRoom

__all__ = ["ExecutionError", "KernelDied", "SessionKernel"]

log = logging.getLogger("collabd.kernel.execution")

LIVENESS_POLL_S = 2.0  # how often an idle kernel is checked for having died
IDLE_DRAIN = 1000  # kernel messages handled between runs before looking for work again
SIDE_TIMEOUT_S = 15.0  # completion and inspection give up after this long (the first loads jedi)


class ExecutionError(Exception):
    """A request the session cannot carry out; `code` names why (the HTTP edge maps it)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


def new_id() -> str:
    return uuid.uuid4().hex[:16]


def who(by: dict[str, Any]) -> str:
    return str(by.get("name") or "someone")


class SessionKernel:
    def __init__(
        self,
        live: LiveRoom,
        *,
        cwd: Path,
        factory: KernelFactory,
        tracker: RunTracker | None = None,
    ) -> None:
        self.live = live
        self.settings = live.settings
        self.queue = RunQueue(self.settings.queue_order)
        self._view = QueueView(live, self.queue)
        self._life = KernelLife(live, self._view, cwd=cwd, factory=factory)
        self._runner = Runner(self._life, self._view, tracker)
        self.widgets = WidgetPeer(live, self._running_kernel)
        self._runner.widgets = self.widgets
        self._life.on_status = self.widgets.on_status
        self._wake = asyncio.Event()
        self._waker: asyncio.Future[None] | None = None  # resolved by submit while idle waits
        self._idle_read: asyncio.Future[KernelMessage | None] | None = None  # idle waits on it
        self._worker: asyncio.Task[None] | None = None
        self._resume: tuple[RunRequest, inflight.InFlight] | None = None

    @property
    def kernel(self) -> Kernel | None:
        return self._life.kernel

    @property
    def status(self) -> str | None:
        return self._life.status

    @property
    def host(self) -> str:
        return self._life.host

    @property
    def displays(self) -> Displays:
        return self._runner.displays

    @property
    def busy(self) -> bool:
        return self.kernel is not None or len(self.queue) > 0

    def _running_kernel(self) -> Kernel | None:
        return self.kernel if self.status in ("idle", "busy") else None

    def start(self, *, with_kernel: bool = False, fresh: bool = False) -> None:
        """`fresh`: the room was just made from the file, so nothing of a previous hub's runs
        is in it to clear (reading every cell for that costs ~12 ms per 1,000 cells)."""
        found = None if fresh else inflight.read(self.live.doc)
        running = found if found and self._cell_running(found.cell_id) else None
        keep = running.cell_id if running else None
        if running is not None:  # first in the queue: the worker picks it up before anything
            request = RunRequest(running.request_id, running.cell_id, "", running.by, time.time())
            self.queue.add([request])
            self._resume, with_kernel = (request, running), True

        def reset(doc: Doc[Any]) -> None:
            docstate.reset(doc, time.time(), keep=keep)
            if keep is not None:
                self._view.show_queue(doc, [keep])

        if not fresh:
            self._view.edit(reset)
        if self.widgets.load() and reattachable(read_choice(self.live.doc)):
            with_kernel = True  # its widget models live on in that kernel: ask it for them
        self._worker = asyncio.create_task(self._work(with_kernel), name=f"kernel:{self.live.id}")

    def _cell_running(self, cell_id: str) -> bool:
        found = find_cell(self.live.doc, cell_id)
        return found is not None and found[1].get("execution_state") == "running"

    # requests from participants

    def submit(self, cell_ids: Sequence[str], by: dict[str, Any]) -> list[RunRequest]:
        """Queue cells to run with the source they have now; a list is one batch."""
        if self._life.closing:
            raise ExecutionError("closing", "the session is closing")
        if len(self.queue) + len(cell_ids) > self.settings.max_queue_length:
            detail = f"the run queue is full ({self.settings.max_queue_length} requests)"
            raise ExecutionError("queue_full", detail)
        batch_id = new_id() if len(cell_ids) > 1 else None
        now = time.time()
        requests = []
        for cell_id in cell_ids:
            found = find_cell(self.live.doc, cell_id)
            if found is None:
                detail = f"no cell with id {cell_id!r} in this notebook"
                raise ExecutionError("unknown_cell", detail)
            if found[1].get("cell_type") != "code":
                raise ExecutionError("not_code", f"cell {cell_id!r} is not a code cell")
            code = cell_source(found[1])
            requests.append(RunRequest(new_id(), cell_id, code, dict(by), now, batch_id))
        # One request that the idle kernel takes at once is shown running with its start (one
        # update, `cellrun`'s begin), not first as queued: then no document write, store append
        # and broadcast run ahead of the code on its way to the kernel.
        at_once = len(requests) == 1 and len(self.queue) == 0 and self.status == "idle"
        self.queue.add(requests)
        self._life.touch()
        if at_once and self._idle_waiting() and (sender := self._runner.sends_at_once()):
            # the code goes to the kernel from here (~0.15 ms sooner than from the worker, a
            # few loop passes later); the worker carries the run on as it wakes
            started = self.queue.next()
            assert started is requests[0]
            if self._idle_read is not None:  # the run's messages are the run's, not the idle's
                self._idle_read.cancel()  # (its place in the inbox's queue goes at once)
            self._runner.start_now(started, sender)
        # the worker is woken before the queued state and event are written: its step then
        # runs ahead of the store append they wake, and the code reaches the kernel first
        self._wake.set()
        if self._waker is not None:
            _resolve(self._waker)
        self._view.queued(requests, shown=not at_once)
        return requests

    def cancel(self, request_id: str, by: dict[str, Any]) -> RunRequest:
        request = self.queue.cancel(request_id, f"cancelled by {who(by)}")
        self._view.edit(lambda doc: self._view.show_cancelled(doc, [request]))
        self._view.event_cancelled([request], "cancelled", f"{who(by)} cancelled a queued run")
        return request

    async def interrupt(self, by: dict[str, Any]) -> None:
        kernel = self.kernel
        if kernel is None or self.status not in ("idle", "busy"):
            raise ExecutionError("no_kernel", "no kernel is running in this session")
        try:
            await self._runner.interrupt(kernel)
        except Exception as exc:  # a kernel host that cannot be reached, say: tell the caller
            log.warning("room %s: interrupt failed: %s", self.live.id, exc)
            raise ExecutionError("interrupt_failed", f"the interrupt was not sent: {exc}") from None
        detail = f"{who(by)} interrupted the kernel"
        self._view.edit(lambda doc: docstate.set_last_event(doc, "interrupted", detail))
        self.live.record_event("kernel", {"status": self.status, "reason": detail})

    async def restart(self, by: dict[str, Any]) -> None:
        """Cancel the queue and the running cell, then start the kernel afresh."""
        reason = f"{who(by)} restarted the kernel"
        async with self._life.lock:  # the worker waits for it before it runs anything
            self._view.cancel_queued(reason, "restart")
            await self._runner.stop(reason)
            await self._life.restart_locked(reason)

    # completion and inspection: beside the queue, answered to the asker only

    async def complete(self, code: str, cursor_pos: int) -> dict[str, Any]:
        content = {"code": code, "cursor_pos": cursor_pos}
        reply = await self._side_request("complete_request", content)
        return {
            "matches": [str(m) for m in reply.get("matches") or []],
            "cursor_start": int(reply.get("cursor_start", cursor_pos)),
            "cursor_end": int(reply.get("cursor_end", cursor_pos)),
            "metadata": reply.get("metadata") or {},
        }

    async def inspect(self, code: str, cursor_pos: int, detail_level: int) -> dict[str, Any]:
        content = {"code": code, "cursor_pos": cursor_pos, "detail_level": detail_level}
        reply = await self._side_request("inspect_request", content)
        return {"found": bool(reply.get("found")), "data": reply.get("data") or {}}

    async def _side_request(self, msg_type: str, content: dict[str, Any]) -> dict[str, Any]:
        kernel = self.kernel
        if kernel is None or self.status not in ("idle", "busy"):
            raise ExecutionError("no_kernel", "no kernel is running yet: run a cell first")
        if self.status == "busy":  # it answers shell requests in order, after the run
            raise ExecutionError("kernel_busy", "the kernel is busy running a cell")
        try:
            reply = await kernel.request(msg_type, content, SIDE_TIMEOUT_S)
        except TimeoutError:
            raise ExecutionError("kernel_busy", "the kernel did not answer in time") from None
        if reply.get("status") not in (None, "ok"):
            raise ExecutionError("kernel_error", str(reply.get("evalue") or "the kernel failed"))
        return reply

    async def select(self, host: str, spec: str, by: dict[str, Any]) -> None:
        """Keep the choice in the document, cancel the queue and restart the kernel there."""
        if self._life.closing:
            raise ExecutionError("closing", "the session is closing")
        reason = f"{who(by)} switched the kernel to {spec} on {host}"
        async with self._life.lock:
            self._view.cancel_queued(reason, "kernel_switched")
            await self._runner.stop(reason)
            choice = KernelChoice(host, spec)
            self._view.edit(lambda doc: set_choice(doc, choice))
            await self._life.restart_locked(reason, "kernel_switched")

    def answer_input(self, request_id: str, value: str) -> None:
        run, kernel = self._runner.current, self.kernel
        if run is None or run.input_prompt is None or kernel is None:
            raise ExecutionError("no_input", "nothing in this session is waiting for input")
        if run.request.request_id != request_id:
            raise ExecutionError("no_input", f"request {request_id} is not waiting for input")
        self._runner.answer_input(kernel, run, value)

    async def close(self, reason: str) -> None:
        """Stop everything this session runs; the kernel is always shut down."""
        self._life.closing = True
        self._view.cancel_queued(reason, "cancelled")
        await self._runner.stop(reason)
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
        await self._life.close(reason)
        self.widgets.close()

    # the worker

    async def _work(self, with_kernel: bool) -> None:
        if with_kernel:
            try:
                await self._life.ensure()
            except Exception:
                log.exception("room %s: starting the kernel with the session failed", self.live.id)
        if self._resume is not None:
            await self._resume_run(*self._resume)
        while not self._life.closing:
            try:
                if self._runner.sent is not None:  # sent by `submit` already
                    await self._run(self._runner.sent.request)
                elif not self.queue.has_queued():
                    await self._idle()
                elif await self._life.ensure():
                    await self._run_next()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("room %s: the kernel worker failed; carrying on", self.live.id)
                await asyncio.sleep(1.0)

    async def _idle(self) -> None:
        """Between runs: hand the kernel's widget messages (a slider's handler updating a
        plot) to the widgets until there is work or it is time to check the kernel."""
        deadline = time.monotonic() + LIVENESS_POLL_S
        while not self._wake.is_set() and (left := deadline - time.monotonic()) > 0:
            if not await self._idle_message(left):
                break
        self._wake.clear()
        if self._runner.sent is None:
            await self._life.check_idle()

    def _idle_waiting(self) -> bool:
        """The worker waits between runs (`_idle_message`) with nothing else under way: a
        run sent now is the next thing it takes up."""
        return self._waker is not None and not self._waker.done()

    async def _idle_message(self, timeout: float) -> bool:
        """Wait for the next kernel message (given to the widgets, else dropped: nothing else
        waits for it) or a wake-up; False when woken or there is no kernel to read."""
        kernel = self._running_kernel()
        # A plain future that `submit` resolves, not a task around the Event, and the
        # cancelled read not awaited: a queued run reaches the kernel a few loop passes sooner.
        woken = self._waker = asyncio.get_running_loop().create_future()
        receive: asyncio.Future[KernelMessage | None] | None = None
        try:
            if kernel is None:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(timeout):  # not wait_for: it can swallow a cancel
                        await woken
                return False
            receive = self._idle_read = asyncio.ensure_future(kernel.receive(timeout))
            # a message resolves `woken` too: one future to await, so a wake-up takes one loop
            # pass (asyncio.wait would take two, behind whatever the submit also woke)
            receive.add_done_callback(lambda _: _resolve(woken))
            await woken
        finally:
            self._waker = self._idle_read = None
            woken.cancel()
            if receive is not None and not receive.done():
                # Cancelling it takes its place in the inbox's queue away at once (asyncio.Queue):
                # it can take no message, so the run may read right away, without awaiting it.
                receive.cancel()
        if receive.done() and not receive.cancelled() and receive.exception() is None:
            message, drained = receive.result(), 0
            while message is not None:  # and what else is there already, without new tasks
                self.widgets.take(message)
                drained += 1
                if drained >= IDLE_DRAIN or self._wake.is_set():
                    break  # the rest waits in the inbox for the run, which offers it too
                message = await kernel.receive(0)
        return not self._wake.is_set()

    async def _resume_run(self, request: RunRequest, running: inflight.InFlight) -> None:
        """Carry on with the run a killed hub left in a kernel that outlived it; if that kernel
        is gone (or the record is not this hub's), the run is cancelled as a lost one."""
        self._resume = None
        if request.state is not RequestState.QUEUED or self._life.closing:
            return  # cancelled meanwhile (the kernel could not start, someone cancelled it)
        if not inflight.resumable(self.kernel, running):
            self.queue.cancel(request.request_id, docstate.LOST)
            self._view.edit(lambda doc: self._view.show_cancelled(doc, [request]))
            self._view.event_cancelled([request], "kernel_lost", docstate.LOST)
            return
        if self.queue.next() is not request:  # queued first, before any other
            raise RuntimeError("the resumed run is not first in the queue")
        log.info("room %s: resuming the run in cell %s", self.live.id, request.cell_id)
        died = await self._runner.run(request, resume=running)
        if died is not None:
            await self._life.on_death(died)

    async def _run_next(self) -> None:
        request = self.queue.next()
        if request is not None:
            await self._run(request)

    async def _run(self, request: RunRequest) -> None:
        died = await self._runner.run(request)
        if died is not None:
            await self._life.on_death(died)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
