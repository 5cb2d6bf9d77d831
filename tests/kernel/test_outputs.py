"""Kernel messages written into cells, pure: no kernel, no server."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from pycrdt import Doc, Text

from collabd import notebook
from collabd.kernel import outputs
from collabd.kernel.outputs import CellOutputs, Displays, Pending


def make_doc(*cell_ids: str) -> Doc[Any]:
    nb = notebook.empty_notebook()
    nb["cells"] = [
        {
            "id": c,
            "cell_type": "code",
            "source": "",
            "metadata": {},
            "outputs": [],
            "execution_count": None,
        }
        for c in cell_ids
    ]
    doc: Doc[Any] = Doc()
    notebook.load_into(doc, nb)
    return doc


def apply(
    doc: Doc[Any], out: CellOutputs, displays: Displays, *messages: tuple[str, dict[str, Any]]
) -> None:
    with doc.transaction():
        for msg_type, content in messages:
            outputs.apply(doc, msg_type, content, out, displays)


def cell_outputs(doc: Doc[Any], cell_id: str) -> list[dict[str, Any]]:
    cell = next(c for c in notebook.to_json(doc)["cells"] if c["id"] == cell_id)  # validates too
    return list(cell["outputs"])


def texts(doc: Doc[Any], cell_id: str) -> list[tuple[str, str]]:
    result = []
    for o in cell_outputs(doc, cell_id):
        if o["output_type"] == "stream":
            result.append((o["name"], "".join(o["text"])))
        else:
            result.append(
                (o["output_type"], str(o.get("data", {}).get("text/plain", o.get("ename"))))
            )
    return result


def stream(text: str, name: str = "stdout") -> tuple[str, dict[str, Any]]:
    return "stream", {"name": name, "text": text}


def display(text: str, display_id: str | None = None) -> tuple[str, dict[str, Any]]:
    content: dict[str, Any] = {"data": {"text/plain": text}, "metadata": {}}
    if display_id:
        content["transient"] = {"display_id": display_id}
    return "display_data", content


def clear(wait: bool = False) -> tuple[str, dict[str, Any]]:
    return "clear_output", {"wait": wait}


def test_streams_append_to_the_last_stream_of_the_same_name() -> None:
    doc, out, displays = make_doc("c"), CellOutputs("c", 10_000), Displays()
    apply(doc, out, displays, stream("a"), stream("b"))
    ytext = outputs.outputs_of(notebook.find_cell(doc, "c")[1])[0]["text"]  # type: ignore[index]
    assert isinstance(ytext, Text)
    apply(doc, out, displays, stream("c"), stream("!", "stderr"), stream("d"))
    assert texts(doc, "c") == [("stdout", "abc"), ("stderr", "!"), ("stdout", "d")]
    assert str(ytext) == "abc"  # the same Y.Text grew: only new characters travel


def test_results_errors_and_counts() -> None:
    doc, out, displays = make_doc("c"), CellOutputs("c", 10_000), Displays()
    apply(doc, out, displays, ("execute_input", {"execution_count": 3, "code": "1/0"}))
    assert notebook.to_json(doc)["cells"][0]["execution_count"] == 3
    result = {"execution_count": 3, "data": {"text/plain": "42"}, "metadata": {}}
    error = {
        "ename": "ZeroDivisionError",
        "evalue": "division by zero",
        "traceback": ["tb1", "tb2"],
    }
    apply(doc, out, displays, ("execute_result", result), ("error", error), ("status", {}))
    produced = cell_outputs(doc, "c")
    assert produced[0] == {
        "output_type": "execute_result",
        "execution_count": 3,
        "data": {"text/plain": "42"},
        "metadata": {},
    }
    assert (
        produced[1]["traceback"] == ["tb1", "tb2"] and produced[1]["ename"] == "ZeroDivisionError"
    )
    assert "42" in out.summary and "ZeroDivisionError: division by zero" in out.summary


def test_display_updates_by_display_id_in_any_cell() -> None:
    doc, displays = make_doc("c1", "c2"), Displays()
    one, two = CellOutputs("c1", 10_000), CellOutputs("c2", 10_000)
    apply(doc, one, displays, display("0%", "bar"), stream("x"))
    apply(doc, two, displays, display("also 0%", "bar"))
    update = {"data": {"text/plain": "100%"}, "metadata": {}, "transient": {"display_id": "bar"}}
    apply(doc, two, displays, ("update_display_data", update))
    assert texts(doc, "c1") == [("display_data", "100%"), ("stdout", "x")]
    assert texts(doc, "c2") == [("display_data", "100%")]
    apply(doc, one, displays, clear())
    apply(doc, one, displays, stream("y"))
    update["data"] = {"text/plain": "again"}
    apply(doc, two, displays, ("update_display_data", update))
    assert texts(doc, "c1") == [("stdout", "y")]  # cleared displays are not updated
    assert texts(doc, "c2") == [("display_data", "again")]


def test_clear_output_now_and_at_the_next_output() -> None:
    doc, out, displays = make_doc("c"), CellOutputs("c", 10_000), Displays()
    apply(doc, out, displays, stream("one"), clear(), stream("two"))
    assert texts(doc, "c") == [("stdout", "two")]
    apply(doc, out, displays, clear(wait=True))
    assert texts(doc, "c") == [("stdout", "two")]  # still shown until something replaces it
    apply(doc, out, displays, stream("three"))
    assert texts(doc, "c") == [("stdout", "three")]


def test_the_budget_truncates_with_one_visible_notice() -> None:
    doc, out, displays = make_doc("c"), CellOutputs("c", 100), Displays()
    apply(doc, out, displays, stream("x" * 60), stream("é" * 40), stream("more"), display("big"))
    produced = cell_outputs(doc, "c")
    assert [o["output_type"] for o in produced] == ["stream", "display_data"]
    assert len("".join(produced[0]["text"]).encode()) <= 100
    assert produced[1]["metadata"] == {"collabd": {"truncated": True}}
    assert "100 bytes" in produced[1]["data"]["text/plain"]
    error = {"ename": "E", "evalue": "still shown", "traceback": []}
    apply(doc, out, displays, ("error", error))
    assert cell_outputs(doc, "c")[-1]["evalue"] == "still shown"
    apply(doc, out, displays, clear(), stream("fresh"))  # a clear gives the budget back
    assert texts(doc, "c") == [("stdout", "fresh")]


def test_a_display_over_the_budget_is_replaced_by_the_notice() -> None:
    doc, out, displays = make_doc("c"), CellOutputs("c", 50), Displays()
    apply(doc, out, displays, display("y" * 200), stream("after"))
    produced = cell_outputs(doc, "c")
    assert len(produced) == 1 and produced[0]["metadata"]["collabd"]["truncated"]


def test_hub_errors_and_a_deleted_cell() -> None:
    doc, out, displays = make_doc("c"), CellOutputs("gone", 100), Displays()
    apply(doc, out, displays, stream("lost"))  # the cell was deleted: nothing to write, no error
    mine = CellOutputs("c", 100)
    with doc.transaction():
        outputs.add_error(doc, mine, "KernelDied", "the kernel died")
    assert cell_outputs(doc, "c")[0]["ename"] == "KernelDied"
    with doc.transaction():
        outputs.clear(doc, mine, displays)
    assert cell_outputs(doc, "c") == []


def test_pending_merges_streams_and_drops_what_a_clear_wipes() -> None:
    pending = Pending(cap=1000)
    for message in [stream("a"), stream("b"), stream("!", "stderr"), stream("c")]:
        pending.add(*message)
    pending.add("status", {"execution_state": "busy"})  # not an output: ignored
    assert pending.take() == [stream("ab"), stream("!", "stderr"), stream("c")]
    assert not pending
    for i in range(1000):  # a progress bar redrawing itself
        pending.add(*clear(wait=True))
        pending.add(*stream(f"{i}%"))
    assert pending.take() == [clear(), stream("999%")]
    pending.add(*stream("x"))
    pending.add(*clear(wait=True))
    assert pending.take() == [stream("x"), clear(wait=True)]  # nothing replaced it yet


def test_pending_caps_stream_text() -> None:
    pending = Pending(cap=10)
    for _ in range(100):
        pending.add(*stream("0123456789"))
    assert pending.take() == [stream("0123456789")]


MESSAGES = st.lists(
    st.one_of(
        st.builds(stream, st.text("ab\n", max_size=5), st.sampled_from(["stdout", "stderr"])),
        st.builds(clear, st.booleans()),
        st.builds(display, st.text("xy", max_size=3)),
    ),
    max_size=25,
)


@given(MESSAGES, st.integers(1, 5))
def test_batching_through_pending_writes_what_one_by_one_would(
    messages: list[tuple[str, dict[str, Any]]], flushes: int
) -> None:
    direct, batched = make_doc("c"), make_doc("c")
    out_direct, out_batched = CellOutputs("c", 10_000), CellOutputs("c", 10_000)
    for message in messages:
        apply(direct, out_direct, Displays(), message)
    pending, step = Pending(cap=10_000), max(1, len(messages) // flushes)
    for start in range(0, len(messages), step):
        for message in messages[start : start + step]:
            pending.add(*message)
        apply(batched, out_batched, Displays(), *pending.take())
    assert _merged(texts(batched, "c")) == _merged(texts(direct, "c"))


def _merged(items: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Adjacent streams of one name read the same whether written as one or several outputs."""
    result: list[tuple[str, str]] = []
    for kind, text in items:
        if result and kind in ("stdout", "stderr") and result[-1][0] == kind:
            result[-1] = (kind, result[-1][1] + text)
        elif kind in ("stdout", "stderr") and not text:
            continue
        else:
            result.append((kind, text))
    return result


def test_a_widget_is_summarised_as_one_not_by_its_text_stand_in() -> None:
    doc, displays = make_doc("c"), Displays()
    out = CellOutputs("c", 10_000)
    out.widget_name = {"m1": "IntSliderModel"}.get
    view = {"model_id": "m1", "version_major": 2, "version_minor": 0}
    known = {"text/plain": "IntSlider(value=3)", outputs.WIDGET_VIEW: view}
    unknown = {"text/plain": "work: 0%| | 0/20", outputs.WIDGET_VIEW: {**view, "model_id": "m9"}}
    apply(doc, out, displays, ("display_data", {"data": known, "metadata": {}}))
    apply(doc, out, displays, ("display_data", {"data": unknown, "metadata": {}}))
    assert out.summary == "widget: IntSlider\nwidget\n"
    # the cell keeps the full output: only the history's line changes
    assert cell_outputs(doc, "c")[0]["data"]["text/plain"] == "IntSlider(value=3)"
    assert outputs.data_summary({"text/plain": "42"}) == "42"
