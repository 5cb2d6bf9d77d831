"""Parameters and metrics tracked on every run, against a real hub process and ipykernel."""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest

from collabd.client import NotebookClient
from tests.support.hubproc import HubProcess
from tests.support.kernel import WAIT, finished, last_run, wait_finished

pytestmark = pytest.mark.kernel

PARAMS = 'lr = 0.1\nepochs = 3\nmodel = "linear"'
try:  # a training-like cell: numpy when it is there, plain arithmetic otherwise
    import numpy  # noqa: F401

    TRAIN = (
        "import numpy as np\n"
        "w = 0.0\n"
        "for step in range(epochs):\n"
        "    w += lr * (1.0 - w)\n"
        "loss = np.float64((1.0 - w) ** 2)\n"
        "accuracy = np.array(round(w, 6))\n"
        "n_seen = 10 * epochs\n"
    )
except ImportError:
    TRAIN = (
        "w = 0.0\n"
        "for step in range(epochs):\n"
        "    w += lr * (1.0 - w)\n"
        "loss = (1.0 - w) ** 2\n"
        "accuracy = round(w, 6)\n"
        "n_seen = 10 * epochs\n"
    )


def expected(lr: float, epochs: int) -> dict[str, float]:
    w = 0.0
    for _step in range(epochs):
        w += lr * (1.0 - w)
    return {"loss": (1.0 - w) ** 2, "accuracy": round(w, 6)}


def new_notebook(hub: HubProcess, name: str, *sources: str) -> tuple[dict[str, Any], list[str]]:
    """A notebook file whose first cell is tagged `parameters`, and a session for it."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3", "display_name": "Python 3", "language": "python",
    }  # fmt: skip
    nb.cells = [nbformat.v4.new_code_cell(PARAMS, metadata={"tags": ["parameters"]})]
    nb.cells += [nbformat.v4.new_code_cell(s) for s in sources]
    ids = [f"c{i}" for i in range(len(nb.cells))]
    for cell, cell_id in zip(nb.cells, ids, strict=True):
        cell["id"] = cell_id
    Path(hub.root, f"{name}.ipynb").write_text(nbformat.writes(nb), encoding="utf-8")
    return hub.create_session(f"{name}.ipynb"), ids


def experiments(hub: HubProcess, s: dict[str, Any], count: int) -> Any:
    """The session's experiments once there are `count` (the run event is stored just after
    the cell shows its end)."""
    deadline = time.monotonic() + WAIT
    while True:
        status, body = hub.api("GET", f"/api/sessions/{s['id']}/experiments", token=s["view_token"])
        assert status == 200, body
        if len(body) >= count or time.monotonic() > deadline:
            assert len(body) == count, body
            return body
        time.sleep(0.1)


async def run_cells(nb: NotebookClient, *cell_ids: str) -> None:
    """Run each cell after the other, each to its end (not the end of its previous run)."""
    for cell_id in cell_ids:
        before = (last_run(nb, cell_id) or {}).get("started")
        await nb.flush()  # the hub runs the source it has: send edits first
        await nb.run(cell_id)
        await nb.wait_for(
            lambda cell_id=cell_id, before=before: (
                (finished(nb, cell_id) or {}).get("started") not in (None, before)
            ),
            WAIT,
        )


async def test_three_runs_by_two_people_with_their_parameters_and_metrics(
    khub: HubProcess,
) -> None:
    s, (params, train, probe) = new_notebook(
        khub, "three", TRAIN, "print(sorted(n for n in dir() if not n.startswith('_')))"
    )
    alice = NotebookClient.from_link(s["edit_url"], name="alice")
    bob = NotebookClient.from_link(s["edit_url"], name="bob")
    async with alice, bob:
        await run_cells(alice, params, train)
        bob.set_source(params, 'lr = 0.5\nepochs = 3\nmodel = "linear"')
        await run_cells(bob, params, train)
        alice.set_source(params, 'lr = 0.9\nepochs = 2\nmodel = "linear"')
        await run_cells(alice, params, train, probe)
        found = experiments(khub, s, 3)
        assert [e["by"]["name"] for e in found] == ["alice", "bob", "alice"]
        assert [e["cell_id"] for e in found] == [train] * 3
        assert [e["params"] for e in found] == [
            {"lr": 0.1, "epochs": 3, "model": "linear"},
            {"lr": 0.5, "epochs": 3, "model": "linear"},
            {"lr": 0.9, "epochs": 2, "model": "linear"},
        ]
        for e, (lr, epochs) in zip(found, [(0.1, 3), (0.5, 3), (0.9, 2)], strict=True):
            assert e["metrics"] == pytest.approx(expected(lr, epochs))
            assert e["status"] == "ok" and e["host"] == "local" and e["batch_id"] is None
            assert e["started"] <= e["ended"]
        # nothing shows in the cells, nothing was added to the namespace
        assert alice.outputs(params) == [] and alice.outputs(train) == []
        names = json.loads(alice.output_text(probe).replace("'", '"'))
        ipython = {"In", "Out", "exit", "get_ipython", "open", "quit"}
        ours = {"lr", "epochs", "model", "w", "step", "loss", "accuracy", "n_seen"}
        assert set(names) == ipython | ours | ({"np"} if "numpy" in TRAIN else set())
        counts = [alice.cell(c)["execution_count"] for c in (params, train, probe)]
        assert counts == [5, 6, 7]  # no hidden executions
        # the run history has them too, and its CSV
        status, runs = khub.api("GET", f"/api/sessions/{s['id']}/runs", token=s["view_token"])
        assert status == 200
        tracked = [r for r in runs if r["metrics"]]
        assert len(tracked) == 3 and tracked[2]["params"]["lr"] == 0.9
        assert not any(r["params"] for r in runs if r["cell_id"] in (params, probe))
        status, raw, _ = khub.get(
            f"/api/sessions/{s['id']}/experiments?format=csv", token=s["edit_token"]
        )
        rows = list(csv.DictReader(io.StringIO(raw.decode())))
        assert status == 200 and [r["param.lr"] for r in rows] == ["0.1", "0.5", "0.9"]
        assert [r["by_name"] for r in rows] == ["alice", "bob", "alice"]


async def test_same_result_twice_is_two_runs_and_unchanged_metrics_are_not_claimed(
    khub: HubProcess,
) -> None:
    s, (params, train, other) = new_notebook(khub, "again", TRAIN, "x = 1")
    async with NotebookClient.from_link(s["edit_url"], name="carol") as carol:
        await run_cells(carol, params, train, train, other)
        found = experiments(khub, s, 2)  # the same numbers, set again by the second run
        assert found[0]["metrics"] == found[1]["metrics"]


async def test_a_pattern_edited_by_one_person_applies_to_the_next_run(khub: HubProcess) -> None:
    s, (_params, train) = new_notebook(khub, "patterns", "custom_metric = 7\naccuracy = 0.25")
    base = f"/api/sessions/{s['id']}/tracking"
    status, body = khub.api("GET", base, token=s["view_token"])
    assert status == 200 and body["default_metrics"] and "accuracy" in body["metrics"]
    assert body["parameters"] == ["lr", "epochs", "model"]
    status, _ = khub.api("POST", base, {"metrics": ["custom_*"]}, token=s["view_token"])
    assert status == 403
    status, body = khub.api("POST", base, {"metrics": ["bad pattern"]}, token=s["edit_token"])
    assert status == 422
    async with (
        NotebookClient.from_link(s["edit_url"], name="dan") as dan,
        NotebookClient.from_link(s["edit_url"], name="eve") as eve,
    ):
        await run_cells(dan, train)
        status, body = khub.api("POST", base, {"metrics": ["custom_*"]}, token=s["edit_token"])
        assert status == 200 and body["metrics"] == ["custom_*"] and not body["default_metrics"]
        eve.set_source(train, "custom_metric = 8\naccuracy = 0.5")
        await run_cells(eve, train)
        found = experiments(khub, s, 2)
        assert [e["metrics"] for e in found] == [{"accuracy": 0.25}, {"custom_metric": 8.0}]
        assert found[1]["by"]["name"] == "eve"
        status, _ = khub.api("POST", f"/api/sessions/{s['id']}/save", token=s["edit_token"])
        assert status == 200
        saved = json.loads(Path(khub.root, "patterns.ipynb").read_text(encoding="utf-8"))
        assert saved["metadata"]["collabd_tracking"] == {"metrics": ["custom_*"]}


async def test_run_all_is_one_experiment_with_its_parameters_and_final_metrics(
    khub: HubProcess,
) -> None:
    s, ids = new_notebook(khub, "batch", TRAIN, "accuracy = accuracy + 0.5\nprint('done')")
    async with NotebookClient.from_link(s["edit_url"], name="fay") as fay:
        reply = await fay.run(*ids)
        await wait_finished(fay, ids[-1])
        (e,) = experiments(khub, s, 1)
        assert e["batch_id"] == reply["batch_id"] and e["id"] == reply["batch_id"]
        assert e["cell_ids"] == ids and e["cell_id"] == ids[-1]
        assert e["params"] == {"lr": 0.1, "epochs": 3, "model": "linear"}
        want = expected(0.1, 3)
        assert e["metrics"] == pytest.approx({**want, "accuracy": want["accuracy"] + 0.5})
        assert e["status"] == "ok" and e["by"]["name"] == "fay"
        assert fay.output_text(ids[-1]) == "done\n"


async def test_a_failed_run_keeps_the_metrics_it_set_before_the_error(khub: HubProcess) -> None:
    s, (params, bad) = new_notebook(khub, "failed", "loss = 0.25\nraise ValueError('diverged')")
    async with NotebookClient.from_link(s["edit_url"], name="gus") as gus:
        await run_cells(gus, params, bad)
        (e,) = experiments(khub, s, 1)
        assert e["status"] == "error" and e["metrics"] == {"loss": 0.25}
        assert e["params"]["lr"] == 0.1
        assert "diverged" in gus.output_text(bad)
        assert gus.cell(bad)["execution_count"] == 2


async def test_after_the_first_run_the_hook_captures_with_no_expression_to_evaluate(
    khub: HubProcess,
) -> None:
    probe = (
        "p = get_ipython().parent_header\n"
        "print(sorted(p['content']['user_expressions']), sorted(p['metadata']))"
    )
    s, (_, first, looked) = new_notebook(khub, "hooked", "accuracy = 0.5", probe)
    async with NotebookClient.from_link(s["edit_url"], name="ida") as ida:
        await run_cells(ida, first, looked)
        # the first run installed the hook with its expression; the next asks in its metadata
        assert ida.output_text(looked) == "[] ['collabd_tracking']\n"
        status, runs = khub.api("GET", f"/api/sessions/{s['id']}/runs", token=s["view_token"])
        assert status == 200 and runs[0]["metrics"] == {"accuracy": 0.5}


async def test_metrics_are_captured_again_after_the_hook_or_the_module_is_removed(
    khub: HubProcess,
) -> None:
    remove_module = (
        "import sys\n"
        "for k in [k for k in sys.modules if k.startswith('_collabd_capture_')]:\n"
        "    del sys.modules[k]\n"
        "accuracy = 0.6"
    )
    remove_hook = "get_ipython().events.callbacks['post_run_cell'].clear()\naccuracy = 0.7"
    hooks = "print(len(get_ipython().events.callbacks['post_run_cell']))"
    s, (_, first, gone, unhooked, after, count) = new_notebook(
        khub, "removed", "accuracy = 0.5", remove_module, remove_hook, "loss = 0.1", hooks
    )
    async with NotebookClient.from_link(s["edit_url"], name="hal") as hal:
        await run_cells(hal, first, gone, unhooked, after, after, count)
        status, runs = khub.api("GET", f"/api/sessions/{s['id']}/runs", token=s["view_token"])
        assert status == 200
        assert [r["cell_id"] for r in runs] == [first, gone, unhooked, after, after, count]
        assert [r["metrics"] for r in runs[:2]] == [{"accuracy": 0.5}, {"accuracy": 0.6}]
        # the run that removed the hook is not captured; the next one puts it back
        assert runs[3]["metrics"] == {"accuracy": 0.7, "loss": 0.1}
        assert runs[4]["metrics"] == {"loss": 0.1}  # bound by the code: claimed again
        assert hal.output_text(count) == "1\n"  # one hook, however often it was put back
