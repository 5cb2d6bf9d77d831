"""Tracked runs also logged to MLflow (`COLLABD_MLFLOW_TRACKING_URI`, needs `mlflow-skinny`).

One MLflow run per experiment (a tracked run, or a whole batch) in the MLflow experiment
`collabd/<notebook path>`: its parameters, its metrics, tags (`collabd.session`, `collabd.cell`,
`collabd.by`, `collabd.host`, `collabd.status`, `collabd.id`, `mlflow.user`), the notebook as it
was when the run ended as the artifact `notebook.ipynb`, and MLflow's status (FINISHED, FAILED,
KILLED) with the run's start and end times.

Nothing here ever waits on MLflow in the hub's event loop: `submit` puts the run in a queue that
one background thread works through; a run that fails to go through (MLflow unreachable, say)
is logged and retried with a growing delay, in order, keeping what it already did (the MLflow
run it created) so nothing is logged twice. MLflow is imported in that thread, on first use.
The tracking URI is never logged (it may hold credentials).
"""

from __future__ import annotations

import collections
import json
import logging
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

log = logging.getLogger("collabd.tracking.mlflow")

RETRY_DELAYS_S = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
MAX_PENDING = 1000  # runs waiting for MLflow; past it the oldest are dropped (logged)
MAX_PARAM = 6000  # MLflow's longest parameter value
STATUSES = {"ok": "FINISHED", "error": "FAILED", "cancelled": "KILLED"}


class _Item:
    __slots__ = ("experiment", "run_id", "step")

    def __init__(self, experiment: dict[str, Any]) -> None:
        self.experiment = experiment
        self.run_id: str | None = None
        self.step = 0  # what is done: 1 created, 2 logged, 3 artifact, 4 terminated


class MlflowSink:
    def __init__(self, tracking_uri: str, *, delays: tuple[float, ...] = RETRY_DELAYS_S) -> None:
        self.tracking_uri = tracking_uri
        self._delays = delays
        self._pending: collections.deque[_Item] = collections.deque()
        self._cond = threading.Condition()
        self._closing = False
        self._thread: threading.Thread | None = None
        self._client: Any = None
        self._experiments: dict[str, str] = {}
        self.logged = 0  # MLflow runs completed (for tests and health)
        self.failures = 0

    def submit(self, experiment: dict[str, Any]) -> None:
        """Queue one experiment (see `collabd.tracking.tracker`); returns at once."""
        with self._cond:
            if self._closing:
                return
            self._pending.append(_Item(experiment))
            while len(self._pending) > MAX_PENDING:
                dropped = self._pending.popleft()
                log.warning("MLflow is behind: run %s dropped", dropped.experiment.get("id"))
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="mlflow", daemon=True)
                self._thread.start()
            self._cond.notify()

    @property
    def pending(self) -> int:
        with self._cond:
            return len(self._pending)

    def close(self, timeout: float = 5.0) -> None:
        """Stop after what is queued has gone through, waiting at most `timeout` seconds."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
        left = self.pending
        if left:
            log.warning("the hub stopped with %d run(s) not logged to MLflow", left)

    # the background thread

    def _work(self) -> None:
        attempt = 0
        while True:
            with self._cond:
                while not self._pending and not self._closing:
                    self._cond.wait()
                if not self._pending:
                    return
                item = self._pending[0]
            try:
                self._log(item)
            except Exception as exc:
                self.failures += 1
                delay = self._delays[min(attempt, len(self._delays) - 1)]
                attempt += 1
                level = logging.WARNING if attempt in (1, len(self._delays)) else logging.INFO
                log.log(
                    level,
                    "logging run %s to MLflow failed (attempt %d; retrying in %g s): %s",
                    item.experiment.get("id"), attempt, delay, self._short(exc),
                )  # fmt: skip
                with self._cond:
                    if self._closing:
                        return
                    self._cond.wait(delay)
                continue
            if attempt:
                log.warning("MLflow reached again: run %s logged", item.experiment.get("id"))
            attempt = 0
            self.logged += 1
            with self._cond:
                if self._pending and self._pending[0] is item:
                    self._pending.popleft()

    def _short(self, exc: BaseException) -> str:
        text = f"{type(exc).__name__}: {exc}".replace(self.tracking_uri, "<tracking uri>")
        return text if len(text) <= 500 else text[:500] + "…"

    def _mlflow(self) -> Any:
        if self._client is None:
            from mlflow.tracking import MlflowClient  # lazily: it is slow to import

            self._client = MlflowClient(tracking_uri=self.tracking_uri)
        return self._client

    def _experiment_id(self, client: Any, path: str) -> str:
        name = f"collabd/{path or 'notebook'}"
        found = self._experiments.get(name)
        if found is None:
            existing = client.get_experiment_by_name(name)
            found = existing.experiment_id if existing is not None else None
            if found is None:
                found = client.create_experiment(name)
            self._experiments[name] = str(found)
        return self._experiments[name]

    def _log(self, item: _Item) -> None:
        from mlflow.entities import Metric, Param

        client, e = self._mlflow(), item.experiment
        by = e.get("by") or {}
        if item.step < 1:
            experiment_id = self._experiment_id(client, str(e.get("path") or ""))
            run = client.create_run(
                experiment_id,
                start_time=_ms(e.get("started")),
                tags=tags_of(e),
                run_name=f"{e.get('cell_id') or 'batch'} by {by.get('name') or 'someone'}",
            )
            item.run_id, item.step = run.info.run_id, 1
        if item.step < 2:
            at = _ms(e.get("ended"))
            metrics = [Metric(k, float(v), at, 0) for k, v in (e.get("metrics") or {}).items()]
            params = [Param(k, param_text(v)) for k, v in (e.get("params") or {}).items()]
            client.log_batch(item.run_id, metrics=metrics, params=params)
            item.step = 2
        if item.step < 3:
            text = e.get("notebook")
            if isinstance(text, str):
                with tempfile.TemporaryDirectory(prefix="collabd-mlflow-") as tmp:
                    path = Path(tmp) / "notebook.ipynb"
                    path.write_text(text, encoding="utf-8")
                    client.log_artifact(item.run_id, str(path))
            item.step = 3
        if item.step < 4:
            status = STATUSES.get(str(e.get("status")), "FINISHED")
            client.set_terminated(item.run_id, status, end_time=_ms(e.get("ended")))
            item.step = 4


def tags_of(e: dict[str, Any]) -> dict[str, str]:
    by = e.get("by") or {}
    tags = {
        "collabd.session": str(e.get("session") or ""),
        "collabd.path": str(e.get("path") or ""),
        "collabd.id": str(e.get("id") or ""),
        "collabd.cell": str(e.get("cell_id") or ""),
        "collabd.by": str(by.get("name") or ""),
        "collabd.host": str(e.get("host") or ""),
        "collabd.status": str(e.get("status") or ""),
        "mlflow.user": str(by.get("name") or ""),
        "mlflow.source.name": str(e.get("path") or ""),
    }
    if e.get("batch_id"):
        tags["collabd.batch"] = str(e["batch_id"])
    return tags


def param_text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text[:MAX_PARAM]


def _ms(t: Any) -> int:
    return int((t if isinstance(t, (int, float)) else time.time()) * 1000)
