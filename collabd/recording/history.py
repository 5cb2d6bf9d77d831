"""The run history: every run of a session, read from the "run" events the kernel records.

Pure: parse, search, export as JSON or CSV. A run event is written once, when the run ends:
{request_id, batch_id, cell_id, by: {name, client_id}, code, queued_at, started, ended,
status: ok|error|cancelled, execution_count, outputs (a short text summary), host (the kernel
host it ran on; absent for runs cancelled before they started, and in older recordings),
params and metrics (tracked runs only, see `collabd.tracking`: the parameters in effect
{name: value} and the metrics the run set {name: float})}.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from collabd.store import LogEntry

STATUSES = ("ok", "error", "cancelled")
CSV_COLUMNS = (
    "seq", "request_id", "batch_id", "cell_id", "by_name", "by_client", "status",
    "execution_count", "queued_at", "started", "ended", "duration", "code", "outputs", "reason",
    "host", "params", "metrics",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class RunRecord:
    seq: int
    request_id: str
    batch_id: str | None
    cell_id: str
    by_name: str
    by_client: int | None
    status: str
    execution_count: int | None
    queued_at: float | None
    started: float | None
    ended: float | None
    code: str
    outputs: str
    reason: str = ""  # why it was cancelled or failed, when the kernel said
    host: str = ""  # the kernel host it ran on ("" if it never ran, or recorded before hosts)
    params: dict[str, Any] = field(default_factory=dict)  # tracked runs: parameters in effect
    metrics: dict[str, float] = field(default_factory=dict)  # tracked runs: metrics it set

    @property
    def tracked(self) -> bool:
        return bool(self.params or self.metrics)

    @property
    def duration(self) -> float | None:
        if self.started is None or self.ended is None:
            return None
        return max(0.0, self.ended - self.started)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        by_name, by_client = data.pop("by_name"), data.pop("by_client")
        data["by"] = {"name": by_name, "client_id": by_client}
        data["duration"] = self.duration
        return data


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def run_from_event(seq: int, data: dict[str, Any]) -> RunRecord:
    by = data.get("by") if isinstance(data.get("by"), dict) else {}
    assert isinstance(by, dict)
    outputs = data.get("outputs", "")
    return RunRecord(
        seq=seq,
        request_id=str(data.get("request_id", "")),
        batch_id=str(data["batch_id"]) if data.get("batch_id") else None,
        cell_id=str(data.get("cell_id", "")),
        by_name=str(by.get("name") or ""),
        by_client=_int(by.get("client_id")),
        status=str(data.get("status", "")),
        execution_count=_int(data.get("execution_count")),
        queued_at=_num(data.get("queued_at")),
        started=_num(data.get("started")),
        ended=_num(data.get("ended")),
        code=str(data.get("code") or ""),
        outputs=outputs if isinstance(outputs, str) else json.dumps(outputs),
        reason=str(data.get("reason") or ""),
        host=str(data.get("host") or ""),
        params=_params(data.get("params")),
        metrics=_metrics(data.get("metrics")),
    )


def _params(value: Any) -> dict[str, Any]:
    return {str(k): v for k, v in value.items()} if isinstance(value, dict) else {}


def _metrics(value: Any) -> dict[str, float]:
    if not isinstance(value, dict):
        return {}
    return {str(k): float(v) for k, v in value.items() if _num(v) is not None}


def runs_from_events(entries: Iterable[LogEntry]) -> list[RunRecord]:
    """The runs among event entries, in the order they ended."""
    found = []
    for entry in entries:
        if entry.origin != "run":
            continue
        try:
            data = json.loads(entry.data)
        except ValueError:
            continue
        if isinstance(data, dict):
            found.append(run_from_event(entry.seq, data))
    return found


@dataclass(frozen=True, slots=True)
class RunQuery:
    """Every field narrows the search; None (or empty) matches everything."""

    text: str | None = None  # in code or outputs, case-insensitive
    cell_id: str | None = None
    by: str | None = None  # a name (case-insensitive) or a client id
    status: str | None = None
    since: float | None = None
    until: float | None = None

    @classmethod
    def from_params(cls, params: dict[str, str]) -> RunQuery:
        def time(key: str) -> float | None:
            raw = params.get(key)
            return float(raw) if raw else None

        return cls(
            text=params.get("q") or None,
            cell_id=params.get("cell_id") or None,
            by=params.get("by") or None,
            status=params.get("status") or None,
            since=time("since"),
            until=time("until"),
        )

    def matches(self, run: RunRecord) -> bool:
        return all(
            (
                not self.cell_id or run.cell_id == self.cell_id,
                not self.status or run.status == self.status,
                not self.by or _by_matches(self.by, run),
                not self.text or _text_matches(self.text, run),
                self.since is None or (run.ended or 0.0) >= self.since,
                self.until is None or (run.started or run.ended or 0.0) <= self.until,
            )
        )


def _by_matches(by: str, run: RunRecord) -> bool:
    if by.isdigit() and run.by_client == int(by):
        return True
    return run.by_name.casefold() == by.casefold()


def _text_matches(text: str, run: RunRecord) -> bool:
    needle = text.casefold()
    return needle in run.code.casefold() or needle in run.outputs.casefold()


def search(runs: Iterable[RunRecord], query: RunQuery) -> list[RunRecord]:
    return [run for run in runs if query.matches(run)]


def to_json_text(runs: Iterable[RunRecord]) -> str:
    return json.dumps([run.to_json() for run in runs], indent=1)


def to_csv(runs: Iterable[RunRecord]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for run in runs:
        row = asdict(run)
        row["duration"] = run.duration
        for key in ("params", "metrics"):
            row[key] = json.dumps(row[key], sort_keys=True) if row[key] else ""
        writer.writerow(["" if row[c] is None else row[c] for c in CSV_COLUMNS])
    return out.getvalue()
