"""Tracked runs ("experiments") from the run history (pure): JSON and CSV.

A run is tracked when its `run` event carries `params` or `metrics`. A batch ("run all", run
several) is ONE experiment: the parameters in effect (the batch's runs' in order, later ones
winning), its final metrics (likewise), who started it and when, and its status (`error` if a
run of it failed, else `cancelled` if one was cancelled, else `ok`); it is tracked when any of
its runs is.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from collabd.recording.history import RunRecord

BASE_COLUMNS = (
    "id", "batch_id", "cell_id", "by_name", "by_client", "started", "ended", "host", "status",
    "runs",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Experiment:
    id: str  # the run's request id, or the batch id
    batch_id: str | None
    cell_id: str  # the run's cell; for a batch, the last cell that set metrics (else its first)
    cell_ids: tuple[str, ...]
    by_name: str
    by_client: int | None
    started: float | None
    ended: float | None
    host: str
    status: str
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    request_ids: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "batch_id": self.batch_id,
            "cell_id": self.cell_id,
            "cell_ids": list(self.cell_ids),
            "request_ids": list(self.request_ids),
            "by": {"name": self.by_name, "client_id": self.by_client},
            "started": self.started,
            "ended": self.ended,
            "host": self.host,
            "status": self.status,
            "params": self.params,
            "metrics": self.metrics,
        }


def experiments(runs: Iterable[RunRecord]) -> list[Experiment]:
    """The tracked runs and batches, in the order they ended."""
    groups: dict[str, list[RunRecord]] = {}
    for run in runs:
        groups.setdefault(run.batch_id or f"run:{run.request_id}:{run.seq}", []).append(run)
    found = [_experiment(group) for group in groups.values() if any(r.tracked for r in group)]
    return sorted(found, key=lambda e: (e.ended or 0.0, e.id))


def _experiment(group: list[RunRecord]) -> Experiment:
    first, last = group[0], group[-1]
    params: dict[str, Any] = {}
    metrics: dict[str, float] = {}
    scored = first
    for run in group:
        params.update(run.params)
        if run.metrics:
            metrics.update(run.metrics)
            scored = run
    status = overall_status(r.status for r in group)
    started = [r.started for r in group if r.started is not None]
    ended = [r.ended for r in group if r.ended is not None]
    return Experiment(
        id=first.batch_id or first.request_id,
        batch_id=first.batch_id,
        cell_id=scored.cell_id,
        cell_ids=tuple(dict.fromkeys(r.cell_id for r in group)),
        by_name=first.by_name,
        by_client=first.by_client,
        started=min(started) if started else None,
        ended=max(ended) if ended else last.ended,
        host=next((r.host for r in reversed(group) if r.host), ""),
        status=status,
        params=params,
        metrics=metrics,
        request_ids=tuple(r.request_id for r in group),
    )


def overall_status(statuses: Iterable[str]) -> str:
    """A batch's status: `error` if a run failed, else `cancelled` if one was, else `ok`."""
    found = set(statuses)
    return "error" if "error" in found else "cancelled" if "cancelled" in found else "ok"


def to_json_text(found: Iterable[Experiment]) -> str:
    return json.dumps([e.to_json() for e in found], indent=1)


def to_csv(found: Iterable[Experiment]) -> str:
    """One row per experiment: the fixed columns, then `param.<name>` and `metric.<name>` for
    every name any of them has (sorted); a non-scalar parameter as JSON."""
    rows = list(found)
    param_names = sorted({k for e in rows for k in e.params})
    metric_names = sorted({k for e in rows for k in e.metrics})
    out = io.StringIO()
    writer = csv.writer(out)
    params = [f"param.{n}" for n in param_names]
    writer.writerow([*BASE_COLUMNS, *params, *(f"metric.{n}" for n in metric_names)])
    for e in rows:
        base = [
            e.id, e.batch_id, e.cell_id, e.by_name, e.by_client, e.started, e.ended, e.host,
            e.status, len(e.request_ids),
        ]  # fmt: skip
        params = [_cell(e.params.get(n)) for n in param_names]
        metrics = [_cell(e.metrics.get(n)) for n in metric_names]
        writer.writerow(["" if v is None else v for v in base] + params + metrics)
    return out.getvalue()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return value
