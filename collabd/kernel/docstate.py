"""The execution state every participant reads in the shared document (pure doc edits).

Shapes are the public contract (the README): `state.kernel`,
`state.queue`, `state.input_request`, `state.last_event`, each code cell's `execution_state` and
`metadata.collabd.last_run`. Values are plain JSON (stored as Yjs "any"), read with toJSON().
Callers open the transaction.
"""

from __future__ import annotations

import time
from typing import Any

from pycrdt import Doc, Map

from collabd.kernel.queue import RunRequest
from collabd.notebook import cells, find_cell, state

KERNEL_STATUSES = ("starting", "idle", "busy", "restarting", "dead")
# Which kernel status may follow which (None: no kernel yet in this room).
KERNEL_TRANSITIONS: dict[str | None, frozenset[str]] = {
    None: frozenset({"starting", "restarting", "dead"}),
    "starting": frozenset({"idle", "dead"}),
    "idle": frozenset({"busy", "restarting", "dead"}),
    "busy": frozenset({"busy", "idle", "restarting", "dead"}),
    "restarting": frozenset({"idle", "dead"}),
    "dead": frozenset({"starting", "restarting", "dead"}),
}
CELL_STATES = ("idle", "queued", "running")


def may_follow(previous: str | None, status: str) -> bool:
    return status in KERNEL_TRANSITIONS.get(previous, frozenset())


def set_kernel(
    doc: Doc[Any], status: str, name: str, reason: str = "", host: str | None = None
) -> None:
    if status not in KERNEL_STATUSES:
        raise ValueError(f"unknown kernel status {status!r}")
    value: dict[str, Any] = {"status": status, "name": name}
    if host is not None:
        value["host"] = host
    if reason:
        value["reason"] = reason
    _put(state(doc), "kernel", value)


def set_queue(doc: Doc[Any], planned: list[RunRequest]) -> None:
    _put(state(doc), "queue", [r.public() for r in planned])


def set_input_request(doc: Doc[Any], value: dict[str, Any] | None) -> None:
    _put(state(doc), "input_request", value)


def set_last_event(doc: Doc[Any], kind: str, detail: str) -> None:
    state(doc)["last_event"] = {"kind": kind, "detail": detail, "at": time.time()}


def set_cell_state(doc: Doc[Any], cell_id: str, value: str) -> None:
    if value not in CELL_STATES:
        raise ValueError(f"unknown execution state {value!r}")
    found = find_cell(doc, cell_id)
    if found is not None and found[1].get("execution_state") != value:
        found[1]["execution_state"] = value


def set_last_run(doc: Doc[Any], cell_id: str, last_run: dict[str, Any]) -> None:
    found = find_cell(doc, cell_id)
    if found is None:
        return
    ycell = found[1]
    metadata = ycell.get("metadata")
    if not isinstance(metadata, Map):
        metadata = ycell["metadata"] = Map()
    current = metadata.get("collabd")
    extra = current if isinstance(current, dict) else {}
    metadata["collabd"] = {**extra, "last_run": last_run}


LOST = "the hub restarted or stopped: its kernel was lost, and the next run starts a new one"


def reset(doc: Doc[Any], now: float, reason: str = LOST, keep: str | None = None) -> None:
    """When a hub (re)loads a room nothing runs: clear what a previous process left behind, and
    mark the runs it was carrying out or had queued as cancelled, with the reason, on their
    cells (so a cell killed mid-run does not look finished). The cell `keep` is left running:
    its run goes on in a kernel that outlived the hub (`collabd.kernel.inflight`)."""
    shared = state(doc)
    queue = shared.get("queue") or []
    by = {r.get("cell_id"): r.get("by") for r in queue if isinstance(r, dict)}
    if queue:
        shared["queue"] = []
    if shared.get("input_request") is not None:
        shared["input_request"] = None
    kernel = shared.get("kernel")
    if isinstance(kernel, dict) and kernel.get("status") != "dead":
        name = str(kernel.get("name", ""))
        value = {"status": "dead", "name": name, "reason": reason}
        if "host" in kernel:
            value["host"] = str(kernel["host"])
        shared["kernel"] = value
    stopped = False
    for ycell in cells(doc):
        cell_id = str(ycell.get("id"))
        if cell_id == keep:
            continue
        if ycell.get("cell_type") == "code" and ycell.get("execution_state") not in (None, "idle"):
            ycell["execution_state"] = "idle"
            last = {"by": by.get(cell_id), "ended": now, "status": "cancelled", "reason": reason}
            set_last_run(doc, cell_id, last)
            stopped = True
    if stopped:
        set_last_event(doc, "kernel_lost", reason)


def _put(shared: Map[Any], key: str, value: Any) -> None:
    if shared.get(key) != value:
        shared[key] = value
