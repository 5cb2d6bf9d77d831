"""The widget models' pure logic: comm messages in, document entries and kernel messages out
(the behaviour against a real kernel is in test_shared_widgets.py)."""

from __future__ import annotations

import base64
from typing import Any

import nbformat
import pytest
from pycrdt import Doc

from collabd import notebook, widgetstate
from collabd.disk import ipynb
from collabd.kernel.base import KernelMessage
from collabd.kernel.widgets import WidgetError, WidgetModels, decode_buffers, merge


def models(max_models: int = 10, max_state_bytes: int = 10_000) -> WidgetModels:
    return WidgetModels(max_models=max_models, max_state_bytes=max_state_bytes)


def slider_state(value: int = 3) -> dict[str, Any]:
    return {
        "_model_name": "IntSliderModel",
        "_model_module": "@jupyter-widgets/controls",
        "_model_module_version": "2.0.0",
        "value": value,
    }


def comm(
    msg_type: str,
    comm_id: str,
    data: dict[str, Any] | None = None,
    *,
    parent: str | None = "run",
    buffers: tuple[bytes, ...] = (),
    target: str = "jupyter.widget",
) -> KernelMessage:
    content: dict[str, Any] = {"comm_id": comm_id, "data": data or {}}
    if msg_type == "comm_open":
        content["target_name"] = target
    return KernelMessage("iopub", msg_type, parent, content, buffers)


def feed(m: WidgetModels, *messages: KernelMessage) -> None:
    for message in messages:
        assert m.wants(message)
        m.receive(message)


def test_open_update_and_close_make_and_remove_an_entry() -> None:
    m = models()
    feed(m, comm("comm_open", "s", {"state": slider_state(), "buffer_paths": []}))
    entry = m.take_dirty()["s"]
    assert entry == {
        "model_name": "IntSliderModel",
        "model_module": "@jupyter-widgets/controls",
        "model_module_version": "2.0.0",
        "state": slider_state(),
    }
    feed(m, comm("comm_msg", "s", {"method": "update", "state": {"value": 9}}))
    feed(m, comm("comm_msg", "s", {"method": "update", "state": {"value": 10}}))
    assert m.take_dirty()["s"]["state"]["value"] == 10  # two updates, one write
    assert m.take_dirty() == {}
    feed(m, comm("comm_close", "s"))
    assert m.take_dirty() == {"s": None}


def test_other_comm_targets_are_not_widgets() -> None:
    m = models()
    feed(m, comm("comm_open", "x", {"state": slider_state()}, target="other"))
    assert m.take_dirty() == {} and m.models == {}


def test_buffers_are_kept_apart_from_the_state_by_path() -> None:
    m = models()
    data = {"state": {**slider_state(), "data": {}}, "buffer_paths": [["data", "x"]]}
    feed(m, comm("comm_open", "a", data, buffers=(b"\x00\x01",)))
    entry = m.take_dirty()["a"]
    assert entry["buffers"] == [{"path": ["data", "x"], "data": base64.b64encode(b"\0\1").decode()}]
    feed(m, comm("comm_msg", "a", {"method": "update", "state": {"data": {"y": 1}}}))
    entry = m.take_dirty()["a"]
    assert entry["state"]["data"] == {"y": 1} and "buffers" not in entry  # replaced whole


def test_merge_replaces_each_named_key_with_its_buffers() -> None:
    state, buffers = merge({"a": 1, "b": 2}, {("b", 0): b"x"}, {"b": [None]}, {("b", 0): b"y"})
    assert state == {"a": 1, "b": [None]} and buffers == {("b", 0): b"y"}


def test_an_echo_of_our_own_change_does_not_roll_it_back() -> None:
    m = models()
    feed(m, comm("comm_open", "s", {"state": slider_state()}))
    m.check_update("s", {"value": 5}, {})
    m.editor_update("s", {"value": 5}, {}, "first")
    m.editor_update("s", {"value": 6}, {}, "second")
    echo = {"method": "echo_update", "state": {"value": 5}}
    feed(m, comm("comm_msg", "s", echo, parent="first"))
    assert m.models["s"].state["value"] == 6
    feed(m, comm("comm_msg", "s", {**echo, "state": {"value": 6}}, parent="second"))
    feed(m, comm("comm_msg", "s", {"method": "update", "state": {"value": 7}}, parent="x"))
    assert m.models["s"].state["value"] == 7  # the kernel's own changes always count
    m.editor_update("s", {"value": 500}, {}, "third")
    feed(m, comm("comm_msg", "s", {**echo, "state": {"value": 100}}, parent="third"))
    assert m.models["s"].state["value"] == 100  # its answer to our latest: what it kept


def test_an_output_widget_captures_what_its_msg_id_prints() -> None:
    m = models()
    out_state = {
        "_model_name": "OutputModel",
        "_model_module": "@jupyter-widgets/output",
        "_model_module_version": "1.0.0",
        "msg_id": "",
        "outputs": [],
    }
    feed(m, comm("comm_open", "o", {"state": out_state}))
    stream = KernelMessage("iopub", "stream", "click", {"name": "stdout", "text": "hi\n"})
    assert not m.wants(stream)  # not capturing yet: the message is the cell's
    feed(m, comm("comm_msg", "o", {"method": "update", "state": {"msg_id": "click"}}))
    wait = KernelMessage("iopub", "clear_output", "click", {"wait": True})
    feed(m, stream, stream, wait, stream)
    assert m.models["o"].state["outputs"] == [
        {"output_type": "stream", "name": "stdout", "text": "hi\n"}
    ]
    feed(m, comm("comm_msg", "o", {"method": "update", "state": {"msg_id": ""}}))
    assert not m.wants(stream)


def test_limits_keep_the_last_good_state_and_say_why() -> None:
    m = models(max_models=2, max_state_bytes=300)
    feed(m, comm("comm_open", "a", {"state": slider_state()}))
    feed(m, comm("comm_msg", "a", {"method": "update", "state": {"value": "x" * 400}}))
    assert m.models["a"].state["value"] == 3
    assert "WIDGET_MAX_STATE_BYTES" in m.take_problems()[0]
    with pytest.raises(WidgetError) as big:
        m.check_update("a", {"value": "x" * 400}, {})
    assert big.value.code == "too_large"
    feed(m, comm("comm_open", "b", {"state": slider_state()}))
    feed(m, comm("comm_open", "c", {"state": slider_state()}))
    assert "c" not in m.models and "WIDGET_MAX_MODELS" in m.take_problems()[0]
    m.all_gone()  # a new kernel's models push out the previous kernel's
    feed(m, comm("comm_open", "c", {"state": slider_state()}))
    assert "c" in m.models and len(m.models) == 2


def test_gone_models_cannot_be_changed_and_unshown_ones_are_pruned() -> None:
    m = models()
    feed(m, comm("comm_open", "s", {"state": slider_state()}))
    feed(m, comm("comm_open", "box", {"state": {"children": ["IPY_MODEL_s"]}}))
    feed(m, comm("comm_open", "old", {"state": slider_state()}))
    m.all_gone()
    assert all(e and e["gone"] for e in m.take_dirty().values())
    with pytest.raises(WidgetError) as gone:
        m.editable("s")
    assert gone.value.code == "widget_gone"
    entries = {k: v.entry() for k, v in m.models.items()}
    m.prune(widgetstate.referenced(entries, ["box"]))
    assert set(m.models) == {"s", "box"}


def test_request_states_answer_recreates_every_model() -> None:
    m = models()
    m.control_id = "ctl"
    states = {"s": {"model_name": "IntSliderModel", "model_module": "@jupyter-widgets/controls",
                    "model_module_version": "2.0.0", "state": {"value": 8, "b": {}}}}  # fmt: skip
    data = {"method": "update_states", "states": states, "buffer_paths": [["s", "state", "b", "x"]]}
    feed(m, comm("comm_msg", "ctl", data, buffers=(b"z",)))
    entry = m.take_dirty()["s"]
    assert entry["state"]["value"] == 8 and entry["model_name"] == "IntSliderModel"
    assert entry["buffers"] == [{"path": ["b", "x"], "data": base64.b64encode(b"z").decode()}]


@pytest.mark.parametrize(
    "raw",
    [
        {},
        [{"path": ["a"]}],
        [{"path": [], "data": ""}],
        [{"path": [0], "data": ""}],
        [{"path": ["a"], "data": "***"}],
    ],
)
def test_malformed_buffers_are_refused(raw: Any) -> None:
    with pytest.raises(WidgetError):
        decode_buffers(raw)


def test_the_notebook_gets_the_widget_state_as_jupyter_saves_it() -> None:
    doc: Doc[Any] = Doc()
    notebook.load_into(doc, notebook.empty_notebook())
    assert "widgets" not in notebook.to_json(doc)["metadata"]
    entry = {
        "model_name": "IntSliderModel",
        "model_module": "@jupyter-widgets/controls",
        "model_module_version": "2.0.0",
        "state": {"value": 4},
        "buffers": [{"path": ["b"], "data": "AA=="}],
        "gone": True,
    }
    with doc.transaction():
        widgetstate.put(doc, "m1", entry)
    nb = notebook.to_json(doc)
    nbformat.validate(nbformat.from_dict(nb))
    saved = nb["metadata"]["widgets"][widgetstate.MIME_STATE]
    assert saved == {
        "version_major": 2,
        "version_minor": 0,
        "state": {
            "m1": {
                "model_name": "IntSliderModel",
                "model_module": "@jupyter-widgets/controls",
                "model_module_version": "2.0.0",
                "state": {"value": 4},
                "buffers": [{"encoding": "base64", "path": ["b"], "data": "AA=="}],
            }
        },
    }


def test_a_files_own_widget_state_is_kept_while_the_session_has_none() -> None:
    doc: Doc[Any] = Doc()
    nb = notebook.empty_notebook()
    theirs = {widgetstate.MIME_STATE: {"version_major": 2, "version_minor": 0, "state": {}}}
    nb["metadata"]["widgets"] = theirs
    notebook.load_into(doc, nb)
    assert notebook.to_json(doc)["metadata"]["widgets"] == theirs


def test_an_output_widget_filling_up_stops_at_the_limit_with_its_last_good_outputs() -> None:
    m = models(max_state_bytes=2_000)
    out_state = {"_model_name": "OutputModel", "_model_module": "@jupyter-widgets/output",
                 "msg_id": "run", "outputs": []}  # fmt: skip
    feed(m, comm("comm_open", "o", {"state": out_state}))
    shown = [
        KernelMessage("iopub", "display_data", "run", {"data": {"text/plain": f"{i:05d}"}})
        for i in range(100)
    ]
    feed(m, *shown)
    outputs = m.models["o"].state["outputs"]
    assert 5 < len(outputs) < 100
    assert [o["data"]["text/plain"] for o in outputs] == [f"{i:05d}" for i in range(len(outputs))]
    assert m.models["o"].size <= 2_000 and len(m.take_problems()) == 1  # said once
    feed(m, KernelMessage("iopub", "clear_output", "run", {"wait": False}), shown[0])
    assert m.models["o"].state["outputs"] == [outputs[0]]


def test_once_the_session_makes_widgets_the_files_own_state_is_dropped() -> None:
    doc: Doc[Any] = Doc()
    nb = notebook.empty_notebook()
    nb["metadata"]["widgets"] = {widgetstate.MIME_STATE: {"version_major": 2, "state": {}}}
    notebook.load_into(doc, nb)
    entry = {"model_name": "M", "model_module": "m", "model_module_version": "1", "state": {}}
    with doc.transaction():
        widgetstate.put(doc, "mine", entry)
        widgetstate.supersede_file_state(doc)
    saved = notebook.to_json(doc)["metadata"]["widgets"][widgetstate.MIME_STATE]
    assert list(saved["state"]) == ["mine"]
    with doc.transaction():
        widgetstate.put(doc, "mine", None)
    assert "widgets" not in notebook.to_json(doc)["metadata"]


def test_a_file_saved_without_outputs_has_no_widget_state() -> None:
    doc: Doc[Any] = Doc()
    notebook.load_into(doc, notebook.empty_notebook())
    entry = {"model_name": "M", "model_module": "m", "model_module_version": "1", "state": {}}
    with doc.transaction():
        widgetstate.put(doc, "mine", entry)
    nb, fmt = notebook.to_json(doc), ipynb.format_of(doc)
    assert "widgets" in ipynb.file_form(nb, fmt).metadata
    assert "widgets" not in ipynb.file_form(nb, fmt, save_outputs=False).metadata


def test_the_run_history_names_a_box_by_what_it_holds() -> None:
    """A tqdm bar is an HBox of an HTML, a FloatProgress and an HTML: named so, not "HBox"."""
    m = models()

    def model(comm_id: str, name: str, **state: Any) -> KernelMessage:
        full = {**slider_state(), "_model_name": name, **state}
        return comm("comm_open", comm_id, {"state": full, "buffer_paths": []})

    feed(
        m,
        model("a", "HTMLModel"),
        model("b", "FloatProgressModel"),
        model("c", "HTMLModel"),
        model("bar", "HBoxModel", children=["IPY_MODEL_a", "IPY_MODEL_b", "IPY_MODEL_c"]),
        model("s", "IntSliderModel"),
        model("many", "VBoxModel", children=[f"IPY_MODEL_{x}" for x in "abcabcab"]),
        model("gone", "HBoxModel", children=["IPY_MODEL_nope"]),
    )
    assert m.describe("bar") == "HBox(HTML, FloatProgress, HTML)"
    assert m.describe("s") == "IntSlider"
    assert m.describe("many") == "VBox(HTML, FloatProgress, HTML, HTML, FloatProgress, HTML, …)"
    assert m.describe("gone") == "HBox(?)"
    assert m.describe("unknown") is None
