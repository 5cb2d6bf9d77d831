"""The run queue as everyone sees it: the hub's writes to the shared doc and the recording.

`QueueView.edit` is the one way a session kernel writes to the document: its edits go out in one
transaction with the kernel's origin, published as one update. The rest keeps `state.queue`, each
cell's `execution_state` and the `last_run` of cancelled requests in step with the `RunQueue`,
and records the matching "run_queued" and "run" events.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from pycrdt import Doc

from collabd.kernel import docstate
from collabd.kernel.queue import RunQueue, RunRequest
from collabd.sync.liveroom import LiveRoom

ORIGIN = "kernel"
DocEdit = Callable[[Doc[Any]], None]


def queued_event(r: RunRequest) -> dict[str, Any]:
    return {
        "request_id": r.request_id,
        "batch_id": r.batch_id,
        "cell_id": r.cell_id,
        "by": dict(r.by),
        "code": r.code,
        "queued_at": r.queued_at,
    }


class QueueView:
    def __init__(self, live: LiveRoom, queue: RunQueue) -> None:
        self.live = live
        self.queue = queue

    def edit(self, *edits: DocEdit) -> None:
        """Apply edits in one transaction, published as one update."""
        if self.live.closed:
            return

        def edit(doc: Doc[Any]) -> None:
            with doc.transaction(origin=ORIGIN):
                for fn in edits:
                    fn(doc)

        self.live.change(ORIGIN, edit)

    def queued(self, requests: Sequence[RunRequest], *, shown: bool = True) -> None:
        """Show requests just added to the queue and record them. `shown=False`: only record
        them (one the idle kernel takes at once is shown running with its start instead)."""
        if shown:
            self.edit(lambda doc: self.show_queue(doc, [r.cell_id for r in requests]))
        for r in requests:
            self.live.record_event("run_queued", queued_event(r))

    def show_queue(self, doc: Doc[Any], cell_ids: Sequence[str]) -> None:
        docstate.set_queue(doc, self.queue.planned())
        for cell_id in cell_ids:
            docstate.set_cell_state(doc, cell_id, self.cell_state(cell_id))

    def show_cancelled(self, doc: Doc[Any], cancelled: Sequence[RunRequest]) -> None:
        now = time.time()
        for r in cancelled:
            last_run = {"by": dict(r.by), "started": None, "ended": now, "status": "cancelled"}
            docstate.set_last_run(doc, r.cell_id, {**last_run, "execution_count": None})
        self.show_queue(doc, [r.cell_id for r in cancelled])

    def cell_state(self, cell_id: str) -> str:
        for request in self.queue.planned():
            if request.cell_id == cell_id:
                return str(request.state)
        return "idle"

    def event_cancelled(self, cancelled: Sequence[RunRequest], kind: str, detail: str) -> None:
        """Say why in `state.last_event` and record each cancelled request as a run."""
        self.edit(lambda doc: docstate.set_last_event(doc, kind, detail))
        for r in cancelled:
            data = queued_event(r)
            data.update(status="cancelled", reason=r.reason, started=None, ended=time.time())
            data.update(execution_count=None, outputs="")
            self.live.record_event("run", data)

    def cancel_queued(self, reason: str, kind: str) -> None:
        """Cancel every queued request (not the running one) and show it."""
        cancelled = self.queue.cancel_all(reason)
        if cancelled:
            self.edit(lambda doc: self.show_cancelled(doc, cancelled))
            self.event_cancelled(cancelled, kind, reason)
