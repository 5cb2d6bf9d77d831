"""Tracked runs logged to MLflow: the sink's retries (unit) and a hub process writing to a local
MLflow file store that `MlflowClient` reads back (real kernel)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from collabd.client import NotebookClient
from collabd.tracking import mlflow as sink_module
from collabd.tracking.mlflow import MlflowSink
from tests.support.hubproc import HubProcess, new_hub
from tests.tracking.test_tracking_kernel import TRAIN, expected, new_notebook, run_cells

mlflow = pytest.importorskip("mlflow")


def test_a_failing_mlflow_is_retried_in_the_background_without_logging_twice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []

    class Client:
        def __init__(self) -> None:
            self.fail_batch = 2

        def get_experiment_by_name(self, name: str) -> Any:
            return None

        def create_experiment(self, name: str) -> str:
            calls.append("experiment")
            return "1"

        def create_run(self, experiment_id: str, **kwargs: Any) -> Any:
            calls.append("run")
            return type("R", (), {"info": type("I", (), {"run_id": "r1"})})()

        def log_batch(self, run_id: str, **kwargs: Any) -> None:
            if self.fail_batch:
                self.fail_batch -= 1
                raise ConnectionError("http://secret@mlflow.example: unreachable")
            calls.append("batch")

        def log_artifact(self, run_id: str, path: str) -> None:
            calls.append(f"artifact:{Path(path).name}:{Path(path).read_text()}")

        def set_terminated(self, run_id: str, status: str, end_time: int) -> None:
            calls.append(f"end:{status}")

    sink = MlflowSink("http://secret@mlflow.example", delays=(0.05,))
    monkeypatch.setattr(sink, "_mlflow", lambda: client)
    client = Client()
    started = time.monotonic()
    sink.submit({"id": "x", "status": "error", "params": {"lr": 0.1}, "notebook": "{}"})
    assert time.monotonic() - started < 0.05  # never waits for MLflow
    deadline = time.monotonic() + 10
    while sink.logged < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    sink.close()
    assert calls == ["experiment", "run", "batch", "artifact:notebook.ipynb:{}", "end:FAILED"]
    assert sink.failures == 2 and sink.pending == 0
    assert sink_module.param_text({"a": [1, 2]}) == '{"a": [1, 2]}'


@pytest.fixture
def mlflow_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[HubProcess, str]]:
    """A hub logging to an MLflow file store (which MLflow 3 keeps behind this opt-in)."""
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # for this test's MlflowClient
    uri = (tmp_path / "mlruns").as_uri()
    env = {"COLLABD_MLFLOW_TRACKING_URI": uri, "MLFLOW_ALLOW_FILE_STORE": "true"}
    hub = new_hub(tmp_path / "hub", env).start()
    try:
        yield hub, uri
    finally:
        hub.stop()
    hub.check_log()


def mlflow_runs(uri: str, path: str, count: int) -> list[Any]:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    deadline = time.monotonic() + 60
    while True:
        experiment = client.get_experiment_by_name(f"collabd/{path}")
        runs = client.search_runs([experiment.experiment_id]) if experiment else []
        done = [r for r in runs if r.info.status != "RUNNING"]
        if len(done) >= count or time.monotonic() > deadline:
            assert len(done) == count, runs
            return sorted(done, key=lambda r: r.info.start_time)
        time.sleep(0.2)


@pytest.mark.kernel
@pytest.mark.slow
async def test_tracked_runs_are_in_mlflow_with_params_metrics_tags_and_the_notebook(
    mlflow_hub: tuple[HubProcess, str], tmp_path: Path
) -> None:
    from mlflow.tracking import MlflowClient

    hub, uri = mlflow_hub
    s, ids = new_notebook(hub, "ml", TRAIN, "print('done')")
    params, train, _ = ids
    async with NotebookClient.from_link(s["edit_url"], name="hana") as hana:
        await run_cells(hana, params, train)
        batch = await hana.run(*ids)
        path = f"/api/sessions/{s['id']}/experiments"
        await hana.wait_for(lambda: len(hub.api("GET", path, token=s["view_token"])[1]) == 2, 60)
    single, whole = mlflow_runs(uri, "ml.ipynb", 2)
    assert single.data.params == {"lr": "0.1", "epochs": "3", "model": "linear"}
    assert single.data.metrics == pytest.approx(expected(0.1, 3))
    tags = single.data.tags
    assert tags["collabd.session"] == s["id"] and tags["collabd.cell"] == train
    assert tags["collabd.by"] == "hana" and tags["collabd.host"] == "local"
    assert tags["collabd.status"] == "ok" and single.info.status == "FINISHED"
    assert whole.data.tags["collabd.batch"] == batch["batch_id"]
    assert whole.data.params == single.data.params
    client = MlflowClient(tracking_uri=uri)
    artifacts = [a.path for a in client.list_artifacts(single.info.run_id)]
    assert artifacts == ["notebook.ipynb"]
    local = client.download_artifacts(single.info.run_id, "notebook.ipynb", str(tmp_path))
    saved = json.loads(Path(local).read_text(encoding="utf-8"))
    assert "".join(saved["cells"][1]["source"]) == TRAIN
    assert "collabd" not in saved["cells"][1]["metadata"]  # the file form: no bookkeeping
