"""The run queue of one session, sans I/O: requests, their states and the order they run in.

A request is `queued`, then `running`, then `done` (with a status: ok, error or cancelled);
every transition happens here. Two orders:

- `fifo`: first come, first served.
- `fair`: round-robin across participants. The next request comes from the participant who was
  served least recently (never served counts as longest ago; ties go to the earliest request), so
  one person's "run all" cannot starve another's single cell.

A batch (run several / run all) is a group of requests: an error in one cancels the rest of that
batch, and nothing else.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

FIFO, FAIR = "fifo", "fair"
ORDERS = (FIFO, FAIR)
_FINISHED_KEPT = 1000  # finished ids remembered, so cancelling one says "finished", not "unknown"


class RequestState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"


class Status(StrEnum):
    OK = "ok"
    ERROR = "error"
    CANCELLED = "cancelled"


class QueueError(Exception):
    """A request that cannot be acted on; `code` says why (unknown, running, finished)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


@dataclass(slots=True)
class RunRequest:
    request_id: str
    cell_id: str
    code: str
    by: dict[str, Any]
    queued_at: float
    batch_id: str | None = None
    state: RequestState = RequestState.QUEUED
    status: Status | None = None
    reason: str = ""
    seq: int = 0  # arrival order, set by the queue

    @property
    def participant(self) -> str:
        client_id = self.by.get("client_id")
        return f"client:{client_id}" if client_id is not None else f"name:{self.by.get('name')}"

    def public(self) -> dict[str, Any]:
        """The shape every client reads in state.queue."""
        return {
            "request_id": self.request_id,
            "cell_id": self.cell_id,
            "by": dict(self.by),
            "queued_at": self.queued_at,
            "state": str(self.state),
        }


@dataclass
class RunQueue:
    order: str = FIFO
    _queued: list[RunRequest] = field(default_factory=list)
    _running: RunRequest | None = None
    _finished: OrderedDict[str, Status] = field(default_factory=OrderedDict)
    _served_at: dict[str, int] = field(default_factory=dict)  # participant -> turn last served
    _turns: itertools.count[int] = field(default_factory=itertools.count)
    _seq: itertools.count[int] = field(default_factory=itertools.count)

    def __post_init__(self) -> None:
        if self.order not in ORDERS:
            raise ValueError(f"queue order must be one of {ORDERS}, not {self.order!r}")

    @property
    def running(self) -> RunRequest | None:
        return self._running

    def __len__(self) -> int:
        return len(self._queued) + (self._running is not None)

    def has_queued(self) -> bool:
        return bool(self._queued)

    def add(self, requests: Iterable[RunRequest]) -> None:
        for request in requests:
            if request.state is not RequestState.QUEUED:
                raise ValueError("only new requests can be queued")
            request.seq = next(self._seq)
            self._queued.append(request)

    def get(self, request_id: str) -> RunRequest | None:
        if self._running and self._running.request_id == request_id:
            return self._running
        return next((r for r in self._queued if r.request_id == request_id), None)

    def next(self) -> RunRequest | None:
        """Start the request whose turn it is (None if nothing is queued)."""
        if self._running is not None:
            raise RuntimeError("a request is already running")
        if not self._queued:
            return None
        request = self._pick(self._queued)
        self._queued.remove(request)
        request.state = RequestState.RUNNING
        self._running = request
        self._served_at[request.participant] = next(self._turns)
        return request

    def finish(self, request_id: str, status: Status, reason: str = "") -> list[RunRequest]:
        """End the running request; after an error, return the rest of its batch, cancelled."""
        request = self._running
        if request is None or request.request_id != request_id:
            raise QueueError("not_running", f"request {request_id} is not the running one")
        self._running = None
        self._done(request, status, reason)
        if status is not Status.ERROR or request.batch_id is None:
            return []
        rest = [r for r in self._queued if r.batch_id == request.batch_id]
        why = f"an earlier cell of the same batch ({request.cell_id}) failed"
        return [self._cancel(r, why) for r in rest]

    def cancel(self, request_id: str, reason: str) -> RunRequest:
        """Cancel one queued request."""
        request = self.get(request_id)
        if request is None:
            if request_id in self._finished:
                raise QueueError("finished", f"request {request_id} has already finished")
            raise QueueError("unknown", f"no request {request_id} in this session's queue")
        if request.state is RequestState.RUNNING:
            raise QueueError(
                "running", f"request {request_id} is running; interrupt the kernel to stop it"
            )
        return self._cancel(request, reason)

    def cancel_all(self, reason: str) -> list[RunRequest]:
        """Cancel every queued request (the running one, if any, is the caller's to end)."""
        return [self._cancel(r, reason) for r in list(self._queued)]

    def planned(self) -> list[RunRequest]:
        """The running request, then the queued ones in the order they will run."""
        head = [self._running] if self._running else []
        return head + self._simulate()

    # internals

    def _cancel(self, request: RunRequest, reason: str) -> RunRequest:
        self._queued.remove(request)
        self._done(request, Status.CANCELLED, reason)
        return request

    def _done(self, request: RunRequest, status: Status, reason: str) -> None:
        request.state, request.status, request.reason = RequestState.DONE, status, reason
        self._finished[request.request_id] = status
        while len(self._finished) > _FINISHED_KEPT:
            self._finished.popitem(last=False)

    def _pick(
        self, queued: Sequence[RunRequest], served: dict[str, int] | None = None
    ) -> RunRequest:
        if self.order == FIFO:
            return min(queued, key=lambda r: r.seq)
        served = self._served_at if served is None else served
        return min(queued, key=lambda r: (served.get(r.participant, -1), r.seq))

    def _simulate(self) -> list[RunRequest]:
        if self.order == FIFO:
            return sorted(self._queued, key=lambda r: r.seq)
        pending, served, plan = list(self._queued), dict(self._served_at), []
        turn = max(served.values(), default=-1)
        while pending:
            request = self._pick(pending, served)
            pending.remove(request)
            turn += 1
            served[request.participant] = turn
            plan.append(request)
        return plan
