"""One session's tracking around each run (the `RunTracker` of `collabd.kernel.cellrun`).

Before a run: the notebook's tracking settings and its `parameters` cell are read from the
document, and what to capture goes with the code: as `user_expressions` until the kernel has
the capture's hook in, then as the request's metadata (`collabd.tracking.capture`). After it: the
metrics the run set — those its code binds (when it succeeded) and those whose value changed
since the previous run on this kernel — and, when the run is tracked, the parameters in effect
(the kernel's current values, else the literals written in the cell) are added to the `run`
event. A run is tracked when it set metrics, and every run of a batch is when the notebook has
parameters (the batch is one experiment). Tracked runs also go to MLflow when it is configured:
a single run when it ends, a batch when its last run has.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pycrdt import Array, Doc, Map, Subscription, Text

from collabd import notebook
from collabd.disk import ipynb
from collabd.kernel.base import Kernel, RunExtras
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
    """The notebook's declared parameters (`parameters` and `injected-parameters` cells)."""
    return scan_declared(doc)[0]


def scan_declared(doc: Doc[Any]) -> tuple[params.Declared, frozenset[int]]:
    """The declared parameters and the positions of the cells that declare them. Only each
    cell's tags are read, and the whole metadata only of a tagged cell."""
    cells, tagged = [], set()
    for index, ycell in enumerate(notebook.cells(doc)):
        meta = ycell.get("metadata")
        tags = meta.get("tags") if isinstance(meta, Map | dict) else None
        tags = tags.to_py() if isinstance(tags, Array) else tags
        if params.tags_of({"tags": tags}):
            meta = meta.to_py() if isinstance(meta, Map) else meta
            cells.append((meta, notebook.cell_source(ycell)))
            tagged.add(index)
    return params.declared(cells), frozenset(tagged)


class DeclaredCache:
    """`declared_of` for one document, scanned again only after a change that can alter it:
    cells added, removed or moved, a cell's tags or type, a tagged cell's source. A run asks
    before it starts, and a scan costs ~15 µs per cell through pycrdt (every run's outputs
    and `last_run` change the document, so a key on its state would never hit).

    Shallow observers watch for those changes: the cells array, each cell (its metadata
    replaced, its type changed), each cell's metadata (its tags set) and each tagged cell's
    source. A deep observer on the cells would have pycrdt make Python events for every change
    anywhere in them, every keystroke and every output written (~0.2 ms of each run's end)."""

    def __init__(self, doc: Doc[Any]) -> None:
        self._doc = doc
        self._found: tuple[params.Declared, frozenset[int]] | None = None
        self._cells = notebook.cells(doc)
        # kept (with the object observed: pycrdt unsubscribes through that same object, and
        # drops an observer whose subscription is dropped)
        self._cells_subscription = self._cells.observe(self._changed)
        self._watching: list[tuple[Any, Subscription]] = []

    def get(self) -> params.Declared:
        if self._found is None:
            self._unwatch()  # here, not in the observer that found it stale: no unsubscribing
            self._found = scan_declared(self._doc)  # from inside pycrdt's event dispatch
            self._watch(self._found[1])
        return self._found[0]

    def _changed(self, _event: Any = None) -> None:
        self._found = None

    def _unwatch(self) -> None:
        watching, self._watching = self._watching, []
        for shared, subscription in watching:
            with contextlib.suppress(Exception):  # gone with a deleted cell
                shared.unobserve(subscription)

    def _watch(self, tagged: frozenset[int]) -> None:
        for index, ycell in enumerate(self._cells):
            is_tagged = index in tagged

            def cell_changed(event: Any, is_tagged: bool = is_tagged) -> None:
                keys = getattr(event, "keys", None) or {}
                if "metadata" in keys or "cell_type" in keys or ("source" in keys and is_tagged):
                    self._changed()

            self._watching.append((ycell, ycell.observe(cell_changed)))
            meta = ycell.get("metadata")
            if isinstance(meta, Map):
                self._watching.append((meta, meta.observe(self._metadata_changed)))
            source = ycell.get("source")
            if is_tagged and isinstance(source, Text):
                self._watching.append((source, source.observe(self._changed)))

    def _metadata_changed(self, event: Any) -> None:
        if "tags" in (getattr(event, "keys", None) or {}):
            self._changed()


def is_python(doc: Doc[Any]) -> bool:
    """Whether the notebook's kernel is Python (the capture is Python code); unknown is yes.
    Reads two keys, not the whole metadata (which may hold every widget's state)."""
    metadata = metadata_of(doc)
    for key, field_ in (("language_info", "name"), ("kernelspec", "language")):
        value = metadata.get(key) if metadata is not None else None
        # the one field, not the whole map converted (this is read before every run)
        name = value.get(field_) if isinstance(value, (Map, dict)) else None
        if isinstance(name, str):
            return name.lower() == "python"
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
        # how this kernel is asked (`capture`): "full" (the expression with the module's
        # source), "installed" (the module is there) or "hook" (the request's metadata)
        self._ask_by = "full"
        self._plans: dict[str, _Plan] = {}
        self._batches: dict[str, _Batch] = {}
        self._declared = DeclaredCache(live.doc)

    # the RunTracker protocol

    def expressions(self, request: RunRequest, kernel: Kernel) -> RunExtras | None:
        if kernel is not self._kernel:  # a new kernel: a new namespace
            self._kernel, self._baseline, self._ask_by = kernel, {}, "full"
        doc = self.live.doc
        if not self._enabled or not is_python(doc):
            return None
        settings = settings_of(doc)
        if not settings.enabled:
            return None
        declared = self._declared.get()
        if not settings.metrics and not declared:
            return None
        self._plans[request.request_id] = _Plan(declared)
        if self._ask_by == "hook":
            return RunExtras(metadata=capture.ask(settings.metrics, declared.names))
        installed = self._ask_by == "installed"
        ask = capture.user_expressions(settings.metrics, declared.names, installed=installed)
        return RunExtras(user_expressions=ask)

    def finished(
        self,
        request: RunRequest,
        status: str,
        reply: dict[str, Any] | None,
        *,
        started: float,
        batch_open: bool,
    ) -> dict[str, Any]:
        plan = self._plans.pop(request.request_id, None)
        fields: dict[str, Any] = {}
        if plan is not None:
            captured = capture.from_reply(reply)
            # after a capture that did not work (the code failed before ipykernel evaluated
            # the expression, someone removed the module or the hook) the next run sends the
            # module's source again, which puts both back
            if captured is None:
                self._ask_by = "full"
            else:
                self._ask_by = "hook" if captured.hooked else "installed"
            fields = self._fields(request, status, plan, captured)
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
            bound = params.bound_names(request.code) if status == "ok" else frozenset()
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
