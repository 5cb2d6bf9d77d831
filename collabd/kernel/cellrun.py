"""Carrying out one run: send the code, take the kernel's messages, write them into the cell.

A run sends the code captured when it was queued, then takes the messages for it until the
kernel is idle again and has replied. A run's first output is written as soon as it arrives;
after it, output is written at most every `stream_flush_s` (plus once when a message of another
kind must keep its order), so a flood costs a few transactions per second; the run's start
goes out with its first flush. input() shows its prompt
in `state.input_request` until someone answers or `input_timeout_s` passes. A `RunTracker`
(`collabd.tracking`) may add `user_expressions` and metadata to the request and fields to the
`run` event.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from pycrdt import Doc

from collabd import metrics
from collabd.kernel import docstate, inflight, outputs
from collabd.kernel.base import (
    NO_EXTRAS,
    Kernel,
    KernelMessage,
    RunExtras,
    SendsAtOnce,
    silent_content,
)
from collabd.kernel.life import KernelDied, KernelLife
from collabd.kernel.outputs import CellOutputs, Displays, Pending
from collabd.kernel.queue import RunRequest, Status
from collabd.kernel.queueview import DocEdit, QueueView, queued_event
from collabd.kernel.widgetpeer import WidgetPeer
from collabd.notebook import find_cell

log = logging.getLogger("collabd.kernel.execution")

REPLY_GRACE_S = 5.0  # wait this long for execute_reply after the kernel went idle
# ... and this long for the idle status after the reply, once the run's messages have stopped:
# an iopub message the transport dropped (a flood past ZMQ's buffers) must not hang the queue.
IDLE_GRACE_S = 5.0
RETRY_EXPRESSIONS_S = 5.0  # after an error, the silent request for user_expressions


class RunTracker(Protocol):
    """What is read from the kernel with each run, and what of it goes into the `run` event."""

    def expressions(self, request: RunRequest, kernel: Kernel) -> RunExtras | None:
        """What to send with the request's code (None: nothing)."""
        ...

    def finished(
        self,
        request: RunRequest,
        status: str,
        reply: dict[str, Any] | None,
        *,
        started: float,
        batch_open: bool,
    ) -> dict[str, Any]:
        """The run ended (the content of its `execute_reply`, or of the request that asked for
        the expressions again after an error; None if there is none): the fields to add to its
        `run` event. `batch_open`: more of the request's batch is still queued."""
        ...


@dataclass
class CellRun:
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
    last_heard: float = field(default_factory=time.monotonic)  # the run's latest message
    begin: tuple[DocEdit, ...] = ()  # the start of the run, not yet written
    # what of the start still matters if the run also ends before it is written (its outputs
    # cleared): busy, in flight and running would be written and undone in one update
    quick_begin: DocEdit | None = None
    finished: bool = False
    output_shown: bool = False  # its first output was written
    extras: RunExtras = NO_EXTRAS  # sent with the code
    reply: dict[str, Any] | None = None  # the execute_reply's content
    # sent at once, with the request (`Runner.start_now`): the kernel it went to and the msg id
    # (or why it could not be sent), before the worker took the run up
    sent_to: Kernel | None = None
    sent_id: str = ""
    send_error: Exception | None = None


class Runner:
    """Runs a session's requests one at a time; `current` is the one running, if any."""

    def __init__(
        self, life: KernelLife, view: QueueView, tracker: RunTracker | None = None
    ) -> None:
        self.life = life
        self.tracker = tracker
        self.view = view
        self.queue = view.queue
        self.live = view.live
        self.settings = view.live.settings
        self.displays = Displays()
        self.current: CellRun | None = None
        self.sent: CellRun | None = None  # sent at once, for `run` to carry on
        self.widgets: WidgetPeer | None = None  # offered every message first
        self._task: asyncio.Task[None] | None = None

    def _widget_name(self, model_id: str) -> str | None:
        return self.widgets.models.describe(model_id) if self.widgets else None

    def _new_run(self, request: RunRequest) -> CellRun:
        out = CellOutputs(request.cell_id, self.settings.output_limit_bytes)
        out.widget_name = self._widget_name
        return CellRun(request, out)

    def sends_at_once(self) -> SendsAtOnce | None:
        """The kernel, if nothing runs, it is idle and it can send code without awaiting."""
        kernel = self.life.kernel
        if self.current is None and self.life.status == "idle" and isinstance(kernel, SendsAtOnce):
            return kernel
        return None

    def start_now(self, request: RunRequest, sender: SendsAtOnce) -> None:
        """Send the code of `request` (taken from the queue: running) through `sender` (the
        kernel, as `sends_at_once` gave it) now, from the handler of the request that asked for
        it, rather than once the worker wakes up; `run` then carries it on as any other."""
        kernel = self.life.kernel
        assert kernel is not None
        run = self._new_run(request)
        self.current = self.sent = run
        self.life.touch()
        self._prepare(run, kernel)
        try:
            run.sent_id = sender.execute_now(request.code, run.extras)
        except Exception as exc:  # said by the run, as a send the worker made would say it
            run.send_error = exc
        run.sent_to = kernel

    async def run(
        self, request: RunRequest, resume: inflight.InFlight | None = None
    ) -> KernelDied | None:
        """Carry out `request` to its end; say so if the kernel died meanwhile. With `resume`,
        the request is a run a previous hub sent to this (re-attached) kernel: its code is not
        sent again, the rest of its messages are taken. A request sent by `start_now` is
        carried on from there."""
        run = self.sent if self.sent is not None and self.sent.request is request else None
        self.sent = None
        if run is None:
            run = self._new_run(request)
        self.current = run
        task = asyncio.create_task(self._execute(run, resume), name=f"run:{request.request_id}")
        self._task = task
        try:
            await asyncio.wait({task})
        finally:
            self._task = self.current = None
        if not run.finished:  # cancelled before its first step: nothing marked it ended
            reason = run.cancel_reason or "cancelled"
            self._finish(run, Status.CANCELLED, reason, Pending(0))
        return run.died

    async def stop(self, reason: str) -> None:
        """Cancel the running request, if any, and wait until it has ended."""
        task, run = self._task, self.current
        if run is not None and run is self.sent:  # sent at once, not yet taken up: ended here
            self.sent = self.current = None
            run.cancel_reason = reason
            self._finish(run, Status.CANCELLED, reason, Pending(0))
            return
        if task is None or run is None:
            return
        run.cancel_reason = reason
        task.cancel()
        await asyncio.wait({task})

    async def interrupt(self, kernel: Kernel) -> None:
        run = self.current
        if run is not None and not run.in_kernel:
            run.interrupt_pending = True
        else:
            await kernel.interrupt()

    async def _execute(self, run: CellRun, resume: inflight.InFlight | None = None) -> None:
        request, kernel = run.request, self.life.kernel
        self.life.touch()
        if run.sent_to is not None and run.sent_to is not kernel:  # (every change stops runs)
            self._finish(run, Status.CANCELLED, "the kernel changed as the run began", Pending(0))
            return
        if kernel is None or find_cell(self.live.doc, request.cell_id) is None:
            why = "the cell was deleted before it ran" if kernel else "no kernel"
            self._finish(run, Status.CANCELLED, why, Pending(0))
            return
        pending = Pending(self.settings.output_limit_bytes + 1)
        status, reason = Status.ERROR, ""
        try:
            if run.send_error is not None:
                raise run.send_error
            if run.sent_to is not None:
                msg_id = run.sent_id
            elif resume is None:
                msg_id = await self._send(kernel, run)
            else:
                msg_id, run.started, run.in_kernel = resume.msg_id, resume.started, True
            # after sending: the kernel works while the hub writes and stores
            self._begin(run, kernel, msg_id, resumed=resume is not None)
            status = await self._collect(kernel, run, msg_id, pending)
            if status is Status.ERROR and run.replied and run.extras.user_expressions:
                await self._expressions_after_error(kernel, run)
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

    async def _send(self, kernel: Kernel, run: CellRun) -> str:
        self._prepare(run, kernel)
        return await kernel.execute(run.request.code, run.extras)

    def _prepare(self, run: CellRun, kernel: Kernel) -> None:
        """What the tracker asks for with the code, if anything."""
        if self.tracker is not None:
            try:
                run.extras = self.tracker.expressions(run.request, kernel) or NO_EXTRAS
            except Exception:  # tracking never stops a run
                log.exception("room %s: tracking could not prepare a run", self.live.id)

    async def _expressions_after_error(self, kernel: Kernel, run: CellRun) -> None:
        """ipykernel evaluates user_expressions only after code that succeeded: after an error
        (an interrupted training loop, say) ask once more with an empty, silent request, still
        holding the kernel (nothing is shown, the execution count does not move)."""
        if (run.reply or {}).get("user_expressions"):
            return
        content = silent_content(run.extras.user_expressions)
        try:
            reply = await kernel.request("execute_request", content, RETRY_EXPRESSIONS_S)
        except Exception as exc:
            log.info("room %s: no user_expressions after an error: %r", self.live.id, exc)
            return
        run.reply = reply

    # the kernel's messages

    async def _collect(self, kernel: Kernel, run: CellRun, msg_id: str, pending: Pending) -> Status:
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
                if run.replied and run.idle_at is None and now - run.last_heard > IDLE_GRACE_S:
                    log.warning("run %s: replied but never idle; taken as ended", msg_id)
                    break  # the idle status got lost; the reply says it is done
            elif self.widgets is not None and self.widgets.take(message):
                pass  # a widget's message, or an output an Output widget captures
            elif message.parent_id == msg_id:
                run.last_heard = now
                await self._on_message(kernel, run, message, pending)
                if not run.output_shown and pending and message.msg_type in outputs.OUTPUT_TYPES:
                    self._show_first_output(run, pending)
            if run.input_deadline is not None and now >= run.input_deadline:
                await self._input_timed_out(kernel, run, pending)
            if (pending or run.begin) and now - run.flushed_at >= self.settings.stream_flush_s:
                self._flush(run, pending)
        return Status.ERROR if run.failed else Status.OK

    async def _on_message(
        self, kernel: Kernel, run: CellRun, message: KernelMessage, pending: Pending
    ) -> None:
        kind, content = message.msg_type, message.content
        if message.channel == "shell" and kind == "execute_reply":
            run.replied = True
            run.failed = run.failed or content.get("status") != "ok"
            run.execution_count = content.get("execution_count", run.execution_count)
            run.reply = content
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

    async def _begun_in_kernel(self, kernel: Kernel, run: CellRun) -> None:
        """The kernel took the request. An interrupt asked for before this point waited here:
        ipykernel ignores SIGINT between requests, so sending it earlier could be lost."""
        run.in_kernel = True
        if run.interrupt_pending:
            run.interrupt_pending = False
            await kernel.interrupt()

    def _wait_time(self, run: CellRun, pending: Pending) -> float:
        wait = 1.0
        if pending or run.begin:
            wait = run.flushed_at + self.settings.stream_flush_s - time.monotonic()
        if run.input_deadline is not None:
            wait = min(wait, run.input_deadline - time.monotonic())
        return max(0.0, wait)

    # input()

    def _ask_input(self, run: CellRun, content: dict[str, Any]) -> None:
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
        self.view.edit(lambda doc: docstate.set_input_request(doc, prompt))

    def answer_input(self, kernel: Kernel, run: CellRun, value: str) -> None:
        """Send the answer to the prompt `run` shows, and echo it in the cell."""
        prompt = run.input_prompt or {}
        kernel.answer_input(value)
        run.input_prompt = run.input_deadline = None
        shown = "········" if prompt.get("password") else value
        echo = {"name": "stdout", "text": f"{prompt.get('prompt', '')}{shown}\n"}

        def edit(doc: Doc[Any]) -> None:
            outputs.apply(doc, "stream", echo, run.out, self.displays)
            docstate.set_input_request(doc, None)

        self.view.edit(edit)

    async def _input_timed_out(self, kernel: Kernel, run: CellRun, pending: Pending) -> None:
        run.input_prompt = run.input_deadline = None
        run.input_timed_out = run.failed = True
        limit = self.settings.input_timeout_s
        evalue = f"input() got no answer within {limit:g} s, so the cell was stopped"
        self._flush(run, pending)

        def edit(doc: Doc[Any]) -> None:
            outputs.add_error(doc, run.out, "InputTimeout", evalue)
            docstate.set_input_request(doc, None)

        self.view.edit(edit)
        await kernel.interrupt()

    # writing the run into the document

    def _flush(self, run: CellRun, pending: Pending, *then: DocEdit) -> None:
        items = pending.take()
        begin, run.begin = run.begin, ()

        def write(doc: Doc[Any]) -> None:
            for msg_type, content in items:
                outputs.apply(doc, msg_type, content, run.out, self.displays)

        self.view.edit(*begin, write, *then)
        run.flushed_at = time.monotonic()

    def _show_first_output(self, run: CellRun, pending: Pending) -> None:
        """The run's first output goes out now, not with the next flush: people see it as soon
        as the kernel has it, and the run's end, when it comes, is a smaller update. When
        nothing shows the kernel busy yet, only the outputs' clearing goes with it; the rest of
        the start (busy, in flight, the cell running) follows with the next flush, or not at
        all if the run ends before."""
        run.output_shown = True
        flushed_at, clear = run.flushed_at, run.quick_begin
        if clear is not None and clear in run.begin:
            rest = tuple(edit for edit in run.begin if edit is not clear)
            run.begin = (clear,)
            self._flush(run, pending)
            run.begin, run.quick_begin = rest, _written
        else:
            self._flush(run, pending)
        run.flushed_at = flushed_at  # the cadence of later flushes stays the run's own

    def _begin(self, run: CellRun, kernel: Kernel, msg_id: str, *, resumed: bool) -> None:
        """The run's start (outputs cleared, cell and kernel busy) goes out with its first
        flush, at most `stream_flush_s` later: a quick cell costs one update, not two. A kernel
        that outlives the hub has the run kept as in flight; a resumed run keeps the outputs
        it had and says that some may be missing."""
        cell_id = run.request.cell_id

        def start_outputs(doc: Doc[Any]) -> None:
            if resumed:
                gap = {"name": "stderr", "text": inflight.GAP_NOTE}
                outputs.apply(doc, "stream", gap, run.out, self.displays)
            else:
                outputs.clear(doc, run.out, self.displays)

        def running(doc: Doc[Any]) -> None:
            inflight.record(doc, kernel, msg_id, run.request, run.started)
            self.view.show_queue(doc, [cell_id])

        was_idle = self.life.status == "idle"  # else the document shows busy already
        run.begin = (self.life.status_edit("busy"), start_outputs, running)
        if was_idle and not resumed:
            run.quick_begin = start_outputs
        run.flushed_at = time.monotonic()

    def _finish(self, run: CellRun, status: Status, reason: str, pending: Pending) -> None:
        run.finished = True
        request, ended = run.request, time.time()
        if run.died is not None:
            status = Status.ERROR
        rest = self.queue.finish(request.request_id, status, reason)
        metrics.RUNS.labels(str(status)).inc()
        last_run = {
            "by": dict(request.by),
            "started": run.started,
            "ended": ended,
            "status": str(status),
            "execution_count": run.execution_count,
        }

        def edit(doc: Doc[Any]) -> None:
            inflight.clear(doc)
            if run.died is not None:
                outputs.add_error(doc, run.out, "KernelDied", self.life.death_text(run.died))
            elif status is Status.CANCELLED:
                outputs.add_error(doc, run.out, "RunCancelled", reason)
            elif reason:  # the hub failed it (the code could not be sent, say): the cell says so
                outputs.add_error(doc, run.out, "HubError", reason)
            docstate.set_last_run(doc, request.cell_id, last_run)
            if run.input_prompt is not None:
                docstate.set_input_request(doc, None)
            self.view.show_cancelled(doc, rest)
            docstate.set_cell_state(doc, request.cell_id, self.view.cell_state(request.cell_id))

        run.input_prompt = None
        edits: list[DocEdit] = [edit]
        if not self.queue.has_queued() and run.died is None and self.life.status == "busy":
            idle = self.life.status_edit("idle")
            if run.begin and run.quick_begin is not None:
                # begun and ended within one flush (a quick cell): nobody saw it start, so
                # the kernel's busy and idle, the run in flight and the cell running are not
                # written at all; the update carries its outputs (but a first one already
                # written) and its end, a third the size
                run.begin = (run.quick_begin,)
            else:
                edits.append(idle)
        self._flush(run, pending, *edits)
        self.life.touch()
        event = queued_event(request) | last_run
        event.update(outputs=run.out.summary, reason=reason, host=self.life.host)
        event.update(self._tracked(run, status))
        self.live.record_event("run", event)
        if rest:
            self.view.event_cancelled(rest, "cancelled", rest[0].reason)

    def _tracked(self, run: CellRun, status: Status) -> dict[str, Any]:
        if self.tracker is None:
            return {}
        batch = run.request.batch_id
        batch_open = batch is not None and any(r.batch_id == batch for r in self.queue.planned())
        values = None if run.died is not None else run.reply
        try:
            return self.tracker.finished(
                run.request, str(status), values, started=run.started, batch_open=batch_open
            )
        except Exception:  # tracking never stops a run
            log.exception("room %s: tracking could not record a run", self.live.id)
            return {}


def _written(doc: Doc[Any]) -> None:
    """What is left of a quick run's start once its first output was written: nothing."""
