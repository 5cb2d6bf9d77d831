"""The run a kernel on a gateway is carrying out, kept in the document so that a hub that was
killed meanwhile can pick it up again (pure doc edits and checks).

A remote kernel outlives its hub: the cell it was running keeps running there. While a run is
in a re-attachable kernel, `state.kernel_choice.running` holds `{"msg_id", "request_id",
"cell_id", "by", "started", "mac"}`; the run's end removes it. A restarted hub that re-attaches to
the same kernel listens for that msg id again and writes the rest of the run into the cell,
instead of marking the cell cancelled. `mac` is an HMAC by the hub's key (as the choice's
`attach`): a record an editor wrote into the document is not followed.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any

from pycrdt import Doc

from collabd.kernel.base import Kernel
from collabd.kernel.queue import RunRequest
from collabd.notebook import state

CHOICE_KEY = "kernel_choice"
RUNNING_KEY = "running"
GAP_NOTE = (
    "[collabd: the hub restarted while this cell ran and re-attached to the kernel, which kept "
    "running it; what the kernel sent while no hub listened is here only as far as the kernel "
    "host kept it]\n"
)


@dataclass(frozen=True, slots=True)
class InFlight:
    msg_id: str
    request_id: str
    cell_id: str
    by: dict[str, Any]
    started: float
    mac: str


def signature(kernel: Kernel, msg_id: str, cell_id: str) -> str | None:
    """The kernel's MAC for a run of `msg_id` in `cell_id`; None for a kernel that dies with
    the hub (a local one), whose runs are never resumed."""
    sign = getattr(kernel, "sign_run", None)
    return str(sign(msg_id, cell_id)) if callable(sign) else None


def record(doc: Doc[Any], kernel: Kernel, msg_id: str, request: RunRequest, started: float) -> None:
    """Keep `request`, sent to the kernel as `msg_id`, as the run in flight."""
    choice = state(doc).get(CHOICE_KEY)
    mac = signature(kernel, msg_id, request.cell_id)
    if mac is None or not isinstance(choice, dict):
        return
    if choice.get("kernel_id") != getattr(kernel, "kernel_id", None):
        return
    value = {
        "msg_id": msg_id,
        "request_id": request.request_id,
        "cell_id": request.cell_id,
        "by": dict(request.by),
        "started": started,
        "mac": mac,
    }
    state(doc)[CHOICE_KEY] = {**choice, RUNNING_KEY: value}


def clear(doc: Doc[Any]) -> None:
    choice = state(doc).get(CHOICE_KEY)
    if isinstance(choice, dict) and RUNNING_KEY in choice:
        state(doc)[CHOICE_KEY] = {k: v for k, v in choice.items() if k != RUNNING_KEY}


def read(doc: Doc[Any]) -> InFlight | None:
    """The run a previous hub left in flight, as written (not yet verified)."""
    choice = state(doc).get(CHOICE_KEY)
    value = choice.get(RUNNING_KEY) if isinstance(choice, dict) else None
    if not isinstance(value, dict):
        return None
    try:
        found = InFlight(
            str(value["msg_id"]),
            str(value["request_id"]),
            str(value["cell_id"]),
            dict(value.get("by") or {}),
            float(value["started"]),
            str(value["mac"]),
        )
    except (KeyError, TypeError, ValueError):
        return None
    return found


def resumable(kernel: Kernel | None, run: InFlight) -> bool:
    """Whether `kernel` is the one the run was in, re-attached (not started afresh), and the
    record is the hub's own."""
    if kernel is None or not getattr(kernel, "attached", False):
        return False
    expected = signature(kernel, run.msg_id, run.cell_id)
    return expected is not None and hmac.compare_digest(expected, run.mac)
