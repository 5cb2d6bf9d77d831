"""The pure parts of tracking: patterns, the parameters cell, the capture expression and its
reply, experiments from run records."""

from __future__ import annotations

import ast
import json
import math
import sys
from typing import Any

import pytest

from collabd.recording.history import RunRecord, run_from_event, to_csv
from collabd.tracking import capture, experiments, params, patterns


def test_patterns_match_whole_names_ignoring_case_never_private_ones() -> None:
    p = patterns.DEFAULT_METRICS
    for name in ("accuracy", "Loss", "val_loss", "f1_score", "test_acc", "train_loss", "r2"):
        assert patterns.matches(name, p), name
    for name in ("accuracy2", "my_accuracy_x", "lossy", "_loss", "acc_", "scores", "lr"):
        assert not patterns.matches(name, p), name
    assert not patterns.matches("loss", [])


def test_the_kernel_matches_as_the_patterns_say() -> None:
    p = ["Loss", "*_acc", "val_*", "a?c", "x*y"]
    assert patterns.split(p) == (
        frozenset({"loss"}),
        ("_acc",),
        ("val_",),
        patterns.to_regex(["a?c", "x*y"]),
    )
    namespace: dict[str, Any] = {
        n: 1.0 for n in ("LOSS", "top_acc", "val_f1", "abc", "xay", "xy", "lossy", "acc", "ab")
    }
    got = capture.parse_reply(evaluate(capture.expression(p, []), namespace))
    assert got is not None
    assert set(got.metrics) == {n for n in namespace if patterns.matches(n, p)}
    assert set(got.metrics) == {"LOSS", "top_acc", "val_f1", "abc", "acc", "xay", "xy"}


def test_patterns_are_checked() -> None:
    assert patterns.validate(["loss", "*_acc", "loss"]) == ("loss", "*_acc")
    for bad in ("loss", ["a b"], ["*"], ["x" * 65], [1], ["(.*)"], ["a"] * 101):
        with pytest.raises(patterns.BadPatterns):
            patterns.validate(bad)


def test_settings_from_metadata_fall_back_to_defaults() -> None:
    assert patterns.settings_from(None) == patterns.TrackingSettings()
    custom = patterns.settings_from({"metrics": ["auc"], "enabled": False})
    assert custom.metrics == ("auc",) and not custom.enabled and not custom.default_metrics
    assert patterns.settings_from({"metrics": "nonsense"}).metrics == patterns.DEFAULT_METRICS
    assert patterns.metadata_with({"metrics": ["a"], "x": 1}, {"metrics": None}) == {"x": 1}


def test_parameters_cell_simple_literal_assignments() -> None:
    source = (
        "%matplotlib inline\n"
        "lr = 0.01  # learning rate\n"
        "layers: int = 3\n"
        "a, b = 1, 'two'\n"
        "sizes = (8, 16)\n"
        "n = 2 ** 10\n"
        "name = 'x' * 3\n"
        "flag = -1.5\n"
        "import os\n"
    )
    found = params.parse(source)
    assert found.names == ("lr", "layers", "a", "b", "sizes", "n", "name", "flag")
    assert found.literals == {
        "lr": 0.01, "layers": 3, "a": 1, "b": "two", "sizes": [8, 16], "flag": -1.5,
    }  # fmt: skip
    broken = params.parse("lr = 0.5\nthis is not python\nseed = 7")
    assert broken.literals == {"lr": 0.5, "seed": 7}


def test_declared_uses_the_first_parameters_cell_and_injected_overrides() -> None:
    cells: list[tuple[Any, str]] = [
        ({}, "x = 1"),
        ({"tags": ["parameters"]}, "lr = 0.1\nepochs = 3"),
        ({"tags": ["parameters"]}, "ignored = 1"),
        ({"tags": ["injected-parameters"]}, "lr = 0.5"),
    ]
    found = params.declared(cells)
    assert found.names == ("lr", "epochs") and found.literals == {"lr": 0.5, "epochs": 3}
    assert not params.declared([({}, "lr = 1")])


def test_bound_names_are_the_global_ones() -> None:
    code = (
        "import numpy as np\nfrom x import y\nloss = 1\nfor i in range(3):\n    acc = i\n"
        "def f():\n    inner = 1\n    global total_loss\n    total_loss = 2\n"
        "vals = [k for k in range(3)]\nwith open('f') as fh:\n    pass\nz += 1\n"
    )
    assert params.bound_names(code) == {
        "np", "y", "loss", "i", "acc", "f", "total_loss", "vals", "fh", "z",
    }  # fmt: skip
    assert params.bound_names("this is not python") == set()


def evaluate(expression: str, namespace: dict[str, Any]) -> dict[str, Any]:
    """What ipykernel does with a user expression: eval in the namespace, repr for text/plain."""
    value = eval(expression, namespace, namespace)
    return {capture.KEY: {"status": "ok", "data": {"text/plain": repr(value)}, "metadata": {}}}


class Scalar(float):
    """A float subclass, as numpy.float64 is."""


def test_the_capture_expression_reads_scalars_and_touches_nothing() -> None:
    namespace: dict[str, Any] = {
        "accuracy": 0.9, "loss": 3, "val_acc": Scalar(0.5), "flag_acc": True, "_loss": 1.0,
        "f1_score": math.nan, "recall": "high", "lr": 0.1, "name": "m", "sizes": (1, 2),
        "model": object(),
    }  # fmt: skip
    exec("import builtins", namespace)
    before = dict(namespace)
    expr = capture.expression(patterns.DEFAULT_METRICS, ["lr", "name", "sizes", "model", "missing"])
    got = capture.parse_reply(evaluate(expr, namespace))
    assert namespace == before  # nothing added, nothing changed
    assert got is not None
    assert got.metrics == {"accuracy": 0.9, "loss": 3.0, "val_acc": 0.5}
    assert got.params == {"lr": 0.1, "name": "m", "sizes": [1, 2], "model": "<object>"}


def test_once_installed_the_expression_is_short_and_answers_the_same() -> None:
    sys.modules.pop(capture.MODULE, None)
    namespace: dict[str, Any] = {"accuracy": 0.9, "lr": 0.1}
    short = capture.expression(patterns.DEFAULT_METRICS, ["lr"], installed=True)
    full = capture.expression(patterns.DEFAULT_METRICS, ["lr"])
    assert capture.SOURCE not in short and len(short) < len(full) // 5
    try:
        with pytest.raises(KeyError):  # no module yet: the kernel would answer an error
            evaluate(short, namespace)
        first = capture.parse_reply(evaluate(full, namespace))  # installs the module
        again = capture.parse_reply(evaluate(short, namespace))
        assert first is not None and again == first
        assert again.metrics == {"accuracy": 0.9} and again.params == {"lr": 0.1}
    finally:
        sys.modules.pop(capture.MODULE, None)


def test_a_reply_is_read_from_the_hooks_payload_first_else_from_the_expression() -> None:
    def payload(metrics: dict[str, float]) -> dict[str, Any]:
        text = json.dumps({"metrics": metrics, "params": {}, "hook": True})
        return {"source": capture.KEY, "data": text}

    expressed = {capture.KEY: {"status": "ok", "data": {"text/plain": repr('{"metrics": {}}')}}}
    other = {"source": "set_next_input", "text": "x"}
    reply = {"payload": [other, payload({"loss": 1.0}), payload({"loss": 2.0})]}
    got = capture.from_reply({**reply, "user_expressions": expressed})
    assert got is not None and got.metrics == {"loss": 2.0} and got.hooked  # the outer cell's
    from_expression = capture.from_reply({"payload": [other], "user_expressions": expressed})
    assert from_expression == capture.Captured({}, {}, hooked=False)
    assert capture.from_reply({"payload": [], "user_expressions": {}}) is None
    assert capture.from_reply(None) is None
    bad = {"payload": [{"source": capture.KEY, "data": "not json"}]}
    assert capture.from_reply(bad) is None


def test_the_ask_in_metadata_names_what_the_expression_would_capture() -> None:
    asked = capture.ask(["loss", "*_acc", "val_*"], ["lr", "not a name"])[capture.KEY]
    namespace: dict[str, Any] = {"loss": 1.0, "top_acc": 0.5, "val_f": 2.0, "lr": 0.1}
    exec(capture.SOURCE, module := {"__name__": "m"})
    text = module["capture"](
        namespace, asked["exact"], tuple(asked["suffixes"]), tuple(asked["prefixes"]),
        asked["pattern"], asked["names"],
    )  # fmt: skip
    expr = capture.expression(["loss", "*_acc", "val_*"], ["lr", "not a name"])
    assert capture.parse_reply(evaluate(expr, dict(namespace))) == capture.Captured(
        {"loss": 1.0, "top_acc": 0.5, "val_f": 2.0}, {"lr": 0.1}
    )
    assert json.loads(text)["metrics"] == {"loss": 1.0, "top_acc": 0.5, "val_f": 2.0}


def test_the_capture_expression_never_raises() -> None:
    class Evil:
        def __eq__(self, other: object) -> bool:
            raise RuntimeError("no")

        __hash__ = object.__hash__

    class Bad(dict[str, Any]):
        def items(self) -> Any:
            raise RuntimeError("boom")

    namespace: dict[str, Any] = Bad({"loss": 1.0, "evil": Evil()})
    expr = capture.expression(["loss"], ["evil"])
    value = eval(expr, {"__builtins__": __builtins__, "globals": lambda: namespace})
    assert value == "{}"


def test_parse_reply_refuses_what_is_not_an_answer() -> None:
    assert capture.parse_reply(None) is None
    assert capture.parse_reply({}) is None
    assert capture.parse_reply({capture.KEY: {"status": "error", "ename": "NameError"}}) is None
    bad = {capture.KEY: {"status": "ok", "data": {"text/plain": "<object>"}}}
    assert capture.parse_reply(bad) is None
    text = repr(json.dumps({"metrics": {"loss": 1, "x y": 2, "b": True}, "params": {}}))
    got = capture.parse_reply({capture.KEY: {"status": "ok", "data": {"text/plain": text}}})
    assert got is not None and got.metrics == {"loss": 1.0}
    assert ast.literal_eval(text)  # the shape ipykernel sends


def run(seq: int, **data: Any) -> RunRecord:
    event = {
        "request_id": f"r{seq}", "cell_id": "c", "by": {"name": "ann", "client_id": 1},
        "started": float(seq), "ended": seq + 0.5, "status": "ok", "host": "local", **data,
    }  # fmt: skip
    return run_from_event(seq, event)


def test_experiments_are_tracked_runs_and_batches_as_one() -> None:
    runs = [
        run(1),  # not tracked
        run(2, params={"lr": 0.1}, metrics={"loss": 2.0}),
        run(3, batch_id="b", cell_id="p", params={"lr": 0.5}),
        run(4, batch_id="b", cell_id="t", params={"lr": 0.5}, metrics={"loss": 1.0, "acc": 0.7}),
        run(5, batch_id="b", cell_id="t2", params={"lr": 0.5}, metrics={"acc": 0.8}),
        run(6, batch_id="b", cell_id="x", status="error"),
        run(7, batch_id="quiet"),  # a batch with nothing tracked
    ]
    found = experiments.experiments(runs)
    assert [e.id for e in found] == ["r2", "b"]
    batch = found[1].to_json()
    assert batch["params"] == {"lr": 0.5}
    assert batch["metrics"] == {"loss": 1.0, "acc": 0.8}
    assert batch["status"] == "error" and batch["cell_id"] == "t2"
    assert batch["cell_ids"] == ["p", "t", "t2", "x"] and batch["started"] == 3.0
    assert batch["ended"] == 6.5 and batch["by"] == {"name": "ann", "client_id": 1}
    csv_text = experiments.to_csv(found).splitlines()
    assert csv_text[0].endswith("param.lr,metric.acc,metric.loss")
    assert csv_text[2].endswith("0.5,0.8,1.0")
    history_csv = to_csv(runs).splitlines()
    assert history_csv[0].endswith("host,params,metrics")
    assert '"{""lr"": 0.1}"' in history_csv[2]
    assert runs[1].to_json()["metrics"] == {"loss": 2.0}
