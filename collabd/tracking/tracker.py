"""One session's tracking around each run (the `RunTracker` of `collabd.kernel.cellrun`).

Before a run: the notebook's tracking settings and its `parameters` cell are read from the
document, and the capture expression goes with the code as `user_expressions`. After it: the
metrics the run set — those its code binds (when it succeeded) and those whose value changed
since the previous run on this kernel — and, when the run is tracked, the parameters in effect
(the kernel's current values, else the literals written in the cell) are added to the `run`
event. A run is tracked when it set metrics, and every run of a batch is when the notebook has
parameters (the batch is one experiment). Tracked runs also go to MLflow when it is configured:
a single run when it ends, a batch when its last run has.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pycrdt import Doc, Map

from collabd import notebook
from collabd.disk import ipynb
from collabd.kernel.base import Kernel
from collabd.kernel.queue import RunRequest
from collabd.tracking import capture, params, patterns
from collabd.tracking.experiments import overall_status
from collabd.tracking.patterns import TrackingSettings

log = logging.getLogger("collabd.tracking")

Submit = Callable[[dict[str, Any]], None]


def metadata_of(doc: Doc[Any]) -> Map[Any] | None:
    value = doc.get("meta", type=Map).get("metadata")
    return value if isinstance(value, Map) else None


def settings_of(doc: Doc[Any]) -> TrackingSettings:
    metadata = metadata_of(doc)
    value = metadata.get(patterns.METADATA_KEY) if metadata is not None else None
    return patterns.settings_from(value.to_py() if isinstance(value, Map) else value)


def set_settings(doc: Doc[Any], changes: dict[str, Any]) -> TrackingSettings:
    """Write `changes` (checked) into `metadata.collabd_tracking`; the caller opens the
    transaction. The key travels with the file."""
    metadata = metadata_of(doc)
    if metadata is None:
        metadata = Map({})
        doc.get("meta", type=Map)["metadata"] = metadata
    current = metadata.get(patterns.METADATA_KEY)
    current = current.to_py() if isinstance(current, Map) else current
    metadata[patterns.METADATA_KEY] = patterns.metadata_with(current, changes)
    return settings_of(doc)


def declared_of(doc: Doc[Any]) -> params.Declared:
    cells = []
    for ycell in notebook.cells(doc):
        meta = ycell.get("metadata")
        meta = meta.to_py() if isinstance(meta, Map) else meta
        if params.tags_of(meta):
            cells.append((meta, notebook.cell_source(ycell)))
    return params.declared(cells)


def is_python(doc: Doc[Any]) -> bool:
    """Whether the notebook's kernel is Python (the capture is Python code); unknown is yes."""
    metadata = metadata_of(doc)
    meta = metadata.to_py() if metadata is not None else {}
    for key, field_ in (("language_info", "name"), ("kernelspec", "language")):
        value = meta.get(key) if isinstance(meta, dict) else None
        if isinstance(value, dict) and isinstance(value.get(field_), str):
            return str(value[field_]).lower() == "python"
    return True


@dataclass
class _Plan:
    declared: params.Declared


@dataclass
class _Batch:
    first: RunRequest
    started: float
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    statuses: set[str] = field(default_factory=set)
    cell_id: str = ""
    tracked: bool = False


class Tracker:
    def __init__(
        self,
        live: Any,  # LiveRoom: its `id` and `doc`
        *,
        path: str = "",
        host: Callable[[], str] = lambda: "",
        enabled: bool = True,
        submit: Submit | None = None,
    ) -> None:
        self.live = live
        self.path = path
        self._host = host
        self._enabled = enabled
        self._submit = submit
        self._kernel: Kernel | None = None
        self._baseline: dict[str, float] = {}  # metric values after the previous run
        self._plans: dict[str, _Plan] = {}
        self._batches: dict[str, _Batch] = {}

    # the RunTracker protocol

    def expressions(self, request: RunRequest, kernel: Kernel) -> dict[str, str] | None:
        if kernel is not self._kernel:  # a new kernel: a new namespace
            self._kernel, self._baseline = kernel, {}
        doc = self.live.doc
        if not self._enabled or not is_python(doc):
            return None
        settings = settings_of(doc)
        if not settings.enabled:
            return None
        declared = declared_of(doc)
        if not settings.metrics and not declared:
            return None
        self._plans[request.request_id] = _Plan(declared)
        return capture.user_expressions(settings.metrics, declared.names)

    def finished(
        self,
        request: RunRequest,
        status: str,
        user_expressions: Any,
        *,
        started: float,
        batch_open: bool,
    ) -> dict[str, Any]:
        plan = self._plans.pop(request.request_id, None)
        fields: dict[str, Any] = {}
        if plan is not None:
            fields = self._fields(request, status, plan, capture.parse_reply(user_expressions))
        if self._submit is not None:
            self._to_mlflow(request, status, fields, started, batch_open)
        return fields

    def _fields(
        self,
        request: RunRequest,
        status: str,
        plan: _Plan,
        captured: capture.Captured | None,
    ) -> dict[str, Any]:
        metrics: dict[str, float] = {}
        if captured is not None:
            bound = params.bound_names(request.code) if status == "ok" else set()
            metrics = {
                k: v
                for k, v in captured.metrics.items()
                if k in bound or self._baseline.get(k) != v
            }
            self._baseline = dict(captured.metrics)
        declared = plan.declared
        if not metrics and not (request.batch_id and declared):
            return {}
        fields: dict[str, Any] = {}
        if declared:
            kernel_values = captured.params if captured is not None else {}
            fields["params"] = {
                name: kernel_values[name] if name in kernel_values else declared.literals[name]
                for name in declared.names
                if name in kernel_values or name in declared.literals
            }
        if metrics:
            fields["metrics"] = metrics
        return fields

    # MLflow: one MLflow run per experiment

    def _to_mlflow(
        self,
        request: RunRequest,
        status: str,
        fields: dict[str, Any],
        started: float,
        batch_open: bool,
    ) -> None:
        now = time.time()
        if request.batch_id is None:
            if fields:
                self._send(request, request.cell_id, started, status, fields, now)
            return
        batch = self._batches.get(request.batch_id)
        if batch is None:
            batch = self._batches[request.batch_id] = _Batch(request, started)
        batch.statuses.add(status)
        batch.params.update(fields.get("params") or {})
        if fields.get("metrics"):
            batch.metrics.update(fields["metrics"])
            batch.cell_id = request.cell_id
        batch.tracked = batch.tracked or bool(fields)
        if batch_open:
            return
        del self._batches[request.batch_id]
        if batch.tracked:
            final = overall_status(batch.statuses)
            merged = {"params": batch.params, "metrics": batch.metrics}
            cell = batch.cell_id or batch.first.cell_id
            self._send(batch.first, cell, batch.started, final, merged, now)

    def _send(
        self,
        request: RunRequest,
        cell_id: str,
        started: float,
        status: str,
        fields: dict[str, Any],
        ended: float,
    ) -> None:
        assert self._submit is not None
        try:
            doc = self.live.doc
            text: str | None = ipynb.write(notebook.to_json(doc), ipynb.format_of(doc))
        except Exception as exc:  # a notebook that is not valid right now: no artifact
            log.info("room %s: no notebook artifact for MLflow: %s", self.live.id, exc)
            text = None
        self._submit(
            {
                "session": self.live.id,
                "path": self.path,
                "id": request.batch_id or request.request_id,
                "batch_id": request.batch_id,
                "cell_id": cell_id,
                "by": dict(request.by),
                "started": started,
                "ended": ended,
                "host": self._host(),
                "status": status,
                "params": dict(fields.get("params") or {}),
                "metrics": dict(fields.get("metrics") or {}),
                "notebook": text,
            }
        )
