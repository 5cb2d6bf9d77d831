"""One shared kernel per session: the run queue carried out, outputs written by the hub.

`Execution` is the extension: it gives every loaded room a `SessionKernel`. A session kernel owns
one worker task that takes requests from the queue one at a time, starts the kernel when the
first request needs it, sends the code captured at request time, and writes what comes back into
the shared document through `live.change("kernel", ...)`, so outputs never depend on a browser.

Kernel states, each shown in `state.kernel`: starting -> idle <-> busy; restarting -> idle;
any -> dead (it died, could not start, was shut down when idle). Every transition goes through
`_status`. Stream output is written at most every `stream_flush_s` per run (plus once when a
message of another kind must keep its order), so a flood costs a few transactions per second.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pycrdt import Doc, Map

from . import kernelstate, outputs
from .extension import Extension
from .kernels import (
    DEFAULT_KERNEL,
    JupyterKernel,
    Kernel,
    KernelFactory,
    KernelMessage,
    KernelStartError,
)
from .liveroom import LiveRoom
from .notebook import cell_source, find_cell
from .outputs import CellOutputs, Displays, Pending
from .runqueue import RunQueue, RunRequest, Status
from .store import SessionRecord

if TYPE_CHECKING:
    from .hub import Hub

log = logging.getLogger("collabd.execution")

ORIGIN = "kernel"
LIVENESS_POLL_S = 2.0  # how often an idle kernel is checked for having died
REPLY_GRACE_S = 5.0  # wait this long for execute_reply after the kernel went idle
Edit = Callable[[Doc[Any]], None]


class ExecutionError(Exception):
    """A request the session cannot carry out; `code` names why (the HTTP edge maps it)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


class KernelDied(Exception):
    def __init__(self, kernel: Kernel, exit_code: int | None) -> None:
        super().__init__(f"exit code {exit_code}")
        self.kernel, self.exit_code = kernel, exit_code


@dataclass
class _Run:
    request: RunRequest
    out: CellOutputs
    started: float = field(default_factory=time.time)
    flushed_at: float = 0.0
    execution_count: int | None = None
    failed: bool = False
    died: KernelDied | None = None
    cancel_reason: str = ""
    input_prompt: dict[str, Any] | None = None
    input_deadline: float | None = None
    input_timed_out: bool = False
    in_kernel: bool = False  # the kernel said it is busy with this request
    interrupt_pending: bool = False
    idle_at: float | None = None
    replied: bool = False
    begin: tuple[Edit, ...] = ()  # the start of the run, not yet written


def new_id() -> str:
    return uuid.uuid4().hex[:16]


def who(by: dict[str, Any]) -> str:
    return str(by.get("name") or "someone")


class SessionKernel:
    def __init__(self, live: LiveRoom, *, cwd: Path, factory: KernelFactory) -> None:
        self.live = live
        self.settings = live.settings
        self.queue = RunQueue(self.settings.queue_order)
        self.displays = Displays()
        self.kernel: Kernel | None = None
        self.status: str | None = None
        self._cwd = cwd
        self._factory = factory
        self._name = DEFAULT_KERNEL
        self._wake = asyncio.Event()
        self._lifecycle = asyncio.Lock()  # start, restart, death and shutdown, one at a time
        self._worker: asyncio.Task[None] | None = None
        self._run_task: asyncio.Task[None] | None = None
        self._run: _Run | None = None
        self._last_activity = time.monotonic()
        self._closing = False

    @property
    def busy(self) -> bool:
        return self.kernel is not None or len(self.queue) > 0

    def start(self, *, with_kernel: bool = False) -> None:
        self._edit(kernelstate.reset)
        self._worker = asyncio.create_task(self._work(with_kernel), name=f"kernel:{self.live.id}")

    # requests from participants

    def submit(self, cell_ids: Sequence[str], by: dict[str, Any]) -> list[RunRequest]:
        """Queue cells to run with the source they have now; a list is one batch."""
        if self._closing:
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
        self.queue.add(requests)
        self._last_activity = time.monotonic()
        self._edit(lambda doc: self._show_queue(doc, [r.cell_id for r in requests]))
        for r in requests:
            self.live.record_event("run_queued", _queued_event(r))
        self._wake.set()
        return requests

    def cancel(self, request_id: str, by: dict[str, Any]) -> RunRequest:
        request = self.queue.cancel(request_id, f"cancelled by {who(by)}")
        self._edit(lambda doc: self._show_cancelled(doc, [request]))
        self._event_cancelled([request], "cancelled", f"{who(by)} cancelled a queued run")
        return request

    async def interrupt(self, by: dict[str, Any]) -> None:
        kernel = self.kernel
        if kernel is None or self.status not in ("idle", "busy"):
            raise ExecutionError("no_kernel", "no kernel is running in this session")
        run = self._run
        if run is not None and not run.in_kernel:
            run.interrupt_pending = True
        else:
            await kernel.interrupt()
        detail = f"{who(by)} interrupted the kernel"
        self._edit(lambda doc: kernelstate.set_last_event(doc, "interrupted", detail))
        self.live.record_event("kernel", {"status": self.status, "reason": detail})

    async def restart(self, by: dict[str, Any]) -> None:
        """Cancel the queue and the running cell, then start the kernel afresh."""
        reason = f"{who(by)} restarted the kernel"
        async with self._lifecycle:  # the worker waits for it before it runs anything
            self._cancel_queued(reason, "restart")
            await self._stop_run(reason)
            old, self.kernel = self.kernel, None
            self._status("restarting", reason)
            self._edit(lambda doc: kernelstate.set_last_event(doc, "restart", reason))
            if old is not None:
                await old.shutdown()
            await self._start_locked("restarting")

    def answer_input(self, request_id: str, value: str) -> None:
        run, kernel = self._run, self.kernel
        if run is None or run.input_prompt is None or kernel is None:
            raise ExecutionError("no_input", "nothing in this session is waiting for input")
        if run.request.request_id != request_id:
            raise ExecutionError("no_input", f"request {request_id} is not waiting for input")
        prompt = run.input_prompt
        kernel.answer_input(value)
        run.input_prompt = run.input_deadline = None
        shown = "········" if prompt.get("password") else value
        echo = {"name": "stdout", "text": f"{prompt.get('prompt', '')}{shown}\n"}

        def edit(doc: Doc[Any]) -> None:
            outputs.apply(doc, "stream", echo, run.out, self.displays)
            kernelstate.set_input_request(doc, None)

        self._edit(edit)

    async def close(self, reason: str) -> None:
        """Stop everything this session runs; the kernel is always shut down."""
        self._closing = True
        self._cancel_queued(reason, "cancelled")
        await self._stop_run(reason)
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
        async with self._lifecycle:
            kernel, self.kernel = self.kernel, None
            if kernel is not None:
                await kernel.shutdown()
                self._status("dead", reason)

    # the worker

    async def _work(self, with_kernel: bool) -> None:
        if with_kernel:
            with contextlib.suppress(Exception):
                await self._ensure_kernel()
        while not self._closing:
            try:
                if not self.queue.has_queued():
                    await self._idle()
                elif await self._ensure_kernel():
                    await self._run_next()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("room %s: the kernel worker failed; carrying on", self.live.id)
                await asyncio.sleep(1.0)

    async def _idle(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), LIVENESS_POLL_S)
        self._wake.clear()
        kernel = self.kernel
        if kernel is None or self.status != "idle" or self.queue.has_queued():
            return
        exit_code = await kernel.exit_code()
        if exit_code is not None:
            await self._on_death(KernelDied(kernel, exit_code))
        elif time.monotonic() - self._last_activity >= self.settings.kernel_idle_shutdown_s:
            await self._shutdown_idle()

    async def _run_next(self) -> None:
        request = self.queue.next()
        if request is None:
            return
        run = _Run(request, CellOutputs(request.cell_id, self.settings.output_limit_bytes))
        self._run = run
        task = asyncio.create_task(self._execute(run), name=f"run:{request.request_id}")
        self._run_task = task
        try:
            await asyncio.wait({task})
        finally:
            self._run_task = self._run = None
        if run.died is not None:
            await self._on_death(run.died)

    async def _execute(self, run: _Run) -> None:
        request, kernel = run.request, self.kernel
        self._last_activity = time.monotonic()
        if kernel is None or find_cell(self.live.doc, request.cell_id) is None:
            why = "the cell was deleted before it ran" if kernel else "no kernel"
            self._finish(run, Status.CANCELLED, why, Pending(0))
            return
        pending = Pending(self.settings.output_limit_bytes + 1)
        status, reason = Status.ERROR, ""
        try:
            msg_id = await kernel.execute(request.code)
            self._begin(run)  # after sending: the kernel works while the hub writes and stores
            status = await self._collect(kernel, run, msg_id, pending)
        except KernelDied as died:
            run.died = died
        except asyncio.CancelledError:
            status, reason = Status.CANCELLED, run.cancel_reason or "cancelled"
            self._finish(run, status, reason, pending)
            raise
        except Exception as exc:
            log.exception("room %s: running %s failed", self.live.id, request.request_id)
            run.failed, reason = True, f"the hub could not run the cell: {exc}"
        self._finish(run, status, reason, pending)

    async def _collect(self, kernel: Kernel, run: _Run, msg_id: str, pending: Pending) -> Status:
        """Take the run's messages until the kernel is idle again and has replied."""
        while run.idle_at is None or not run.replied:
            message = await kernel.receive(self._wait_time(run, pending))
            now = time.monotonic()
            if message is None:
                exit_code = await kernel.exit_code()
                if exit_code is not None:
                    raise KernelDied(kernel, exit_code)
                if run.idle_at is not None and now - run.idle_at > REPLY_GRACE_S:
                    break  # the reply got lost; the iopub side says it is done
            elif message.parent_id == msg_id:
                await self._on_message(kernel, run, message, pending)
            if run.input_deadline is not None and now >= run.input_deadline:
                await self._input_timed_out(kernel, run, pending)
            if (pending or run.begin) and now - run.flushed_at >= self.settings.stream_flush_s:
                self._flush(run, pending)
        return Status.ERROR if run.failed else Status.OK

    async def _on_message(
        self, kernel: Kernel, run: _Run, message: KernelMessage, pending: Pending
    ) -> None:
        kind, content = message.msg_type, message.content
        if message.channel == "shell" and kind == "execute_reply":
            run.replied = True
            run.failed = run.failed or content.get("status") != "ok"
            run.execution_count = content.get("execution_count", run.execution_count)
        elif message.channel == "stdin" and kind == "input_request":
            self._flush(run, pending)
            self._ask_input(run, content)
        elif message.channel != "iopub":
            return
        elif kind == "status":
            if content.get("execution_state") == "idle":
                run.idle_at = time.monotonic()
            elif not run.in_kernel:
                await self._begun_in_kernel(kernel, run)
        elif kind == "error":
            run.failed = True
            if not run.input_timed_out:  # the hub's own InputTimeout error says it already
                pending.add(kind, content)
        else:
            if kind == "execute_input":
                run.execution_count = content.get("execution_count")
            pending.add(kind, content)

    async def _begun_in_kernel(self, kernel: Kernel, run: _Run) -> None:
        """The kernel took the request. An interrupt asked for before this point waited here:
        ipykernel ignores SIGINT between requests, so sending it earlier could be lost."""
        run.in_kernel = True
        if run.interrupt_pending:
            run.interrupt_pending = False
            await kernel.interrupt()

    def _wait_time(self, run: _Run, pending: Pending) -> float:
        wait = 1.0
        if pending or run.begin:
            wait = run.flushed_at + self.settings.stream_flush_s - time.monotonic()
        if run.input_deadline is not None:
            wait = min(wait, run.input_deadline - time.monotonic())
        return max(0.0, wait)

    # input()

    def _ask_input(self, run: _Run, content: dict[str, Any]) -> None:
        request = run.request
        run.input_prompt = {
            "request_id": request.request_id,
            "cell_id": request.cell_id,
            "prompt": str(content.get("prompt", "")),
            "password": bool(content.get("password", False)),
            "by": dict(request.by),
            "asked_at": time.time(),
        }
        run.input_deadline = time.monotonic() + self.settings.input_timeout_s
        prompt = run.input_prompt
        self._edit(lambda doc: kernelstate.set_input_request(doc, prompt))

    async def _input_timed_out(self, kernel: Kernel, run: _Run, pending: Pending) -> None:
        run.input_prompt = run.input_deadline = None
        run.input_timed_out = run.failed = True
        limit = self.settings.input_timeout_s
        evalue = f"input() got no answer within {limit:g} s, so the cell was stopped"
        self._flush(run, pending)

        def edit(doc: Doc[Any]) -> None:
            outputs.add_error(doc, run.out, "InputTimeout", evalue)
            kernelstate.set_input_request(doc, None)

        self._edit(edit)
        await kernel.interrupt()

    # writing to the document

    def _edit(self, *edits: Edit) -> None:
        """Apply edits in one transaction, published as one update."""
        if self.live.closed:
            return

        def edit(doc: Doc[Any]) -> None:
            with doc.transaction(origin=ORIGIN):
                for fn in edits:
                    fn(doc)

        self.live.change(ORIGIN, edit)

    def _flush(self, run: _Run, pending: Pending, *then: Edit) -> None:
        items = pending.take()
        begin, run.begin = run.begin, ()

        def write(doc: Doc[Any]) -> None:
            for msg_type, content in items:
                outputs.apply(doc, msg_type, content, run.out, self.displays)

        self._edit(*begin, write, *then)
        run.flushed_at = time.monotonic()

    def _begin(self, run: _Run) -> None:
        """The run's start (outputs cleared, cell and kernel busy) goes out with its first
        flush, at most `stream_flush_s` later: a quick cell costs one update, not two."""
        cell_id = run.request.cell_id

        def edit(doc: Doc[Any]) -> None:
            outputs.clear(doc, run.out, self.displays)
            self._show_queue(doc, [cell_id])

        run.begin = (self._status_edit("busy"), edit)
        run.flushed_at = time.monotonic()

    def _finish(self, run: _Run, status: Status, reason: str, pending: Pending) -> None:
        request, ended = run.request, time.time()
        if run.died is not None:
            status = Status.ERROR
        rest = self.queue.finish(request.request_id, status, reason)
        last_run = {
            "by": dict(request.by),
            "started": run.started,
            "ended": ended,
            "status": str(status),
            "execution_count": run.execution_count,
        }

        def edit(doc: Doc[Any]) -> None:
            if run.died is not None:
                outputs.add_error(doc, run.out, "KernelDied", self._death_text(run.died))
            elif status is Status.CANCELLED:
                outputs.add_error(doc, run.out, "RunCancelled", reason)
            kernelstate.set_last_run(doc, request.cell_id, last_run)
            if run.input_prompt is not None:
                kernelstate.set_input_request(doc, None)
            self._show_cancelled(doc, rest)
            kernelstate.set_cell_state(doc, request.cell_id, self._cell_state(request.cell_id))

        run.input_prompt = None
        edits: list[Edit] = [edit]
        if not self.queue.has_queued() and run.died is None and self.status == "busy":
            edits.append(self._status_edit("idle"))
        self._flush(run, pending, *edits)
        self._last_activity = time.monotonic()
        event = _queued_event(request) | last_run
        event.update(outputs=run.out.summary, reason=reason)
        self.live.record_event("run", event)
        if rest:
            self._event_cancelled(rest, "cancelled", rest[0].reason)

    def _show_queue(self, doc: Doc[Any], cell_ids: Sequence[str]) -> None:
        kernelstate.set_queue(doc, self.queue.planned())
        for cell_id in cell_ids:
            kernelstate.set_cell_state(doc, cell_id, self._cell_state(cell_id))

    def _show_cancelled(self, doc: Doc[Any], cancelled: Sequence[RunRequest]) -> None:
        now = time.time()
        for r in cancelled:
            last_run = {"by": dict(r.by), "started": None, "ended": now, "status": "cancelled"}
            kernelstate.set_last_run(doc, r.cell_id, {**last_run, "execution_count": None})
        self._show_queue(doc, [r.cell_id for r in cancelled])

    def _cell_state(self, cell_id: str) -> str:
        for request in self.queue.planned():
            if request.cell_id == cell_id:
                return str(request.state)
        return "idle"

    def _event_cancelled(self, cancelled: Sequence[RunRequest], kind: str, detail: str) -> None:
        self._edit(lambda doc: kernelstate.set_last_event(doc, kind, detail))
        for r in cancelled:
            data = _queued_event(r)
            data.update(status="cancelled", reason=r.reason, started=None, ended=time.time())
            data.update(execution_count=None, outputs="")
            self.live.record_event("run", data)

    def _cancel_queued(self, reason: str, kind: str) -> None:
        cancelled = self.queue.cancel_all(reason)
        if cancelled:
            self._edit(lambda doc: self._show_cancelled(doc, cancelled))
            self._event_cancelled(cancelled, kind, reason)

    async def _stop_run(self, reason: str) -> None:
        task, run = self._run_task, self._run
        if task is None or run is None:
            return
        run.cancel_reason = reason
        task.cancel()
        await asyncio.wait({task})

    # the kernel's life

    def _spec_name(self) -> str:
        metadata = self.live.doc.get("meta", type=Map).get("metadata")
        spec = metadata.get("kernelspec") if isinstance(metadata, Map) else None
        spec = spec.to_py() if isinstance(spec, Map) else spec
        name = spec.get("name") if isinstance(spec, dict) else None
        return str(name) if name else DEFAULT_KERNEL

    def _status(self, status: str, reason: str = "") -> None:
        self._edit(self._status_edit(status, reason))

    def _status_edit(self, status: str, reason: str = "") -> Edit:
        """Move to `status` (recorded unless it is only idle <-> busy); the edit shows it."""
        previous, self.status, name = self.status, status, self._name
        if not kernelstate.may_follow(previous, status):
            log.error(
                "room %s: kernel status %s -> %s is not expected", self.live.id, previous, status
            )
        if {previous, status} != {"idle", "busy"}:
            self.live.record_event("kernel", {"status": status, "name": name, "reason": reason})
        return lambda doc: kernelstate.set_kernel(doc, status, name, reason)

    async def _ensure_kernel(self) -> bool:
        async with self._lifecycle:
            if self.kernel is not None:
                return True
            return await self._start_locked("starting")

    async def _start_locked(self, status: str) -> bool:
        self._name = self._spec_name()
        if status == "starting":
            self._status("starting")
        kernel = self._factory(self._name, self._cwd)
        self.kernel = kernel  # so that close() can stop one that is half started
        try:
            await kernel.start()
        except Exception as exc:
            self.kernel = None
            with contextlib.suppress(Exception):
                await kernel.shutdown()
            reason = str(exc) if isinstance(exc, KernelStartError) else repr(exc)
            self._status("dead", reason)
            self._cancel_queued(f"the kernel could not start: {reason}", "kernel_died")
            return False
        if self._closing:  # closed while it started: never leave it running
            self.kernel = None
            await kernel.shutdown()
            return False
        self._last_activity = time.monotonic()
        self._status("idle")
        return True

    async def _on_death(self, died: KernelDied) -> None:
        reason = self._death_text(died)
        async with self._lifecycle:
            if self.kernel is not died.kernel:
                return  # restarted or closed meanwhile: that kernel is already gone
            kernel, self.kernel = self.kernel, None
            self._status("dead", reason)
            self._edit(lambda doc: kernelstate.set_last_event(doc, "kernel_died", reason))
            self._cancel_queued(f"the kernel died ({died})", "kernel_died")
            if kernel is not None:
                await kernel.shutdown()
            if self.settings.kernel_restart_on_death and not self._closing:
                self._status("restarting", reason)
                await self._start_locked("restarting")

    def _death_text(self, died: KernelDied) -> str:
        then = "it is being restarted" if self.settings.kernel_restart_on_death else "run again"
        return f"the kernel died unexpectedly ({died}); queued runs were cancelled; {then}"

    async def _shutdown_idle(self) -> None:
        async with self._lifecycle:
            quiet = time.monotonic() - self._last_activity
            if quiet < self.settings.kernel_idle_shutdown_s or self.queue.has_queued():
                return  # restarted or given work while this waited
            kernel, self.kernel = self.kernel, None
            if kernel is None:
                return
            await kernel.shutdown()
            limit = self.settings.kernel_idle_shutdown_s
            self._status("dead", f"shut down after {limit:g} s without runs; a run starts it again")


def _queued_event(r: RunRequest) -> dict[str, Any]:
    return {
        "request_id": r.request_id,
        "batch_id": r.batch_id,
        "cell_id": r.cell_id,
        "by": dict(r.by),
        "code": r.code,
        "queued_at": r.queued_at,
    }


class Execution(Extension):
    """Gives every loaded room its session kernel; stops them all with the hub."""

    def __init__(self, hub: Hub, factory: KernelFactory = JupyterKernel) -> None:
        self._hub = hub
        self._factory = factory
        self._sessions: dict[str, SessionKernel] = {}

    def session(self, live: LiveRoom) -> SessionKernel:
        session = self._sessions.get(live.id)
        if session is None:
            raise ExecutionError("not_loaded", "the session is not loaded")
        return session

    async def on_load(self, live: LiveRoom, record: SessionRecord) -> None:
        cwd = self._hub.notebook_path(record).parent
        session = SessionKernel(live, cwd=cwd, factory=self._factory)
        self._sessions[live.id] = session
        session.start(with_kernel=self._hub.settings.kernel_start_with_session)

    async def on_unload(self, live: LiveRoom) -> None:
        session = self._sessions.pop(live.id, None)
        if session is not None:
            await session.close("the session was closed; its kernel was shut down")

    def busy(self, live: LiveRoom) -> bool:
        session = self._sessions.get(live.id)
        return session is not None and session.busy

    async def on_stop(self) -> None:
        for session_id in list(self._sessions):
            session = self._sessions.pop(session_id)
            await session.close("the hub stopped; its kernel was shut down")
