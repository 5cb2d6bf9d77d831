"""Reading the document's `widgets` map and making widgets in a session, for the widget tests
(local and gateway kernels alike)."""

from __future__ import annotations

from typing import Any

from collabd import widgetstate
from collabd.client import NotebookClient
from tests.support.kernel import WAIT, new_cells, wait_finished

VIEW = widgetstate.MIME_VIEW


def widgets(nb: NotebookClient) -> dict[str, dict[str, Any]]:
    return widgetstate.entries(nb.doc)


def shown_model(nb: NotebookClient, cell_id: str) -> str | None:
    """The model id the cell's widget output shows, once it is there."""
    for output in nb.outputs(cell_id):
        view = (output.get("data") or {}).get(VIEW)
        if view:
            return str(view["model_id"])
    return None


def value_of(nb: NotebookClient, model_id: str, key: str = "value") -> Any:
    entry = widgets(nb).get(model_id)
    return None if entry is None else entry["state"].get(key)


def children(nb: NotebookClient, model_id: str) -> list[str]:
    refs = value_of(nb, model_id, "children") or []
    return [r.removeprefix("IPY_MODEL_") for r in refs]


def of_kind(nb: NotebookClient, ids: list[str], model_name: str) -> str | None:
    found = [m for m in ids if (widgets(nb).get(m) or {}).get("model_name") == model_name]
    return found[0] if found else None


async def slider_and_output(
    runner: NotebookClient, other: NotebookClient, cell_id: str
) -> tuple[str, str, str]:
    """The box the cell shows, and its IntSlider and Output widget (`interact`, or a VBox of
    a slider and an `interactive_output`), once the other participant has them."""
    box: str = await runner.wait_for(lambda: shown_model(runner, cell_id), WAIT)
    await other.wait_for(lambda: len(children(other, box)) == 2, WAIT)
    slider = of_kind(other, children(other, box), "IntSliderModel")
    out = of_kind(other, children(other, box), "OutputModel")
    assert slider and out
    return box, slider, out


def printed_in(nb: NotebookClient, out: str) -> str:
    """What an Output widget holds as printed text, as `nb` has it."""
    outputs = value_of(nb, out, "outputs") or []
    return "".join(o.get("text", "") for o in outputs if o["output_type"] == "stream")


async def run_and_wait(nb: NotebookClient, cell_id: str) -> dict[str, Any]:
    await nb.run(cell_id)
    return await wait_finished(nb, cell_id)


async def printed(nb: NotebookClient, code: str) -> str:
    (cell,) = await new_cells(nb, code)
    await run_and_wait(nb, cell)
    return nb.output_text(cell)


async def make_slider(nb: NotebookClient) -> tuple[str, str]:
    """A cell showing `slider` (IntSlider, value 3); its cell id and model id."""
    (cell,) = await new_cells(
        nb, "import ipywidgets as w\nslider = w.IntSlider(value=3, max=100)\nslider"
    )
    assert (await run_and_wait(nb, cell))["status"] == "ok"
    model_id: str = await nb.wait_for(lambda: shown_model(nb, cell), WAIT)
    await nb.wait_for(lambda: value_of(nb, model_id) == 3, WAIT)
    return cell, model_id
