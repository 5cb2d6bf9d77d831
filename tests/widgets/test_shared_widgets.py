"""Shared ipywidgets against a real hub process, a real ipykernel with ipywidgets, and real
websockets: the hub is the kernel's widget peer and every participant reads the `widgets` map.

One hub serves the module (starting kernels is the slow part); each test has its own session.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

from collabd import widgetstate
from collabd.client import ClientError, NotebookClient
from tests.support.hubproc import HubProcess
from tests.support.kernel import WAIT, module_hub, new_cells, wait_finished

pytestmark = pytest.mark.kernel

VIEW = widgetstate.MIME_VIEW


@pytest.fixture(scope="module")
def khub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    with module_hub(tmp_path_factory) as hub:
        yield hub


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


async def run_and_wait(nb: NotebookClient, cell_id: str) -> dict[str, Any]:
    await nb.run(cell_id)
    return await wait_finished(nb, cell_id)


async def make_slider(nb: NotebookClient) -> tuple[str, str]:
    """A cell showing `slider` (IntSlider, value 3); its cell id and model id."""
    (cell,) = await new_cells(
        nb, "import ipywidgets as w\nslider = w.IntSlider(value=3, max=100)\nslider"
    )
    assert (await run_and_wait(nb, cell))["status"] == "ok"
    model_id: str = await nb.wait_for(lambda: shown_model(nb, cell), WAIT)
    await nb.wait_for(lambda: value_of(nb, model_id) == 3, WAIT)
    return cell, model_id


async def printed(nb: NotebookClient, code: str) -> str:
    (cell,) = await new_cells(nb, code)
    await run_and_wait(nb, cell)
    return nb.output_text(cell)


async def test_a_slider_made_by_one_editor_is_moved_by_another_and_the_kernel_has_it(
    khub: HubProcess,
) -> None:
    s = khub.create_session("slider.ipynb")
    alice = NotebookClient.from_link(s["edit_url"], name="alice")
    bob = NotebookClient.from_link(s["edit_url"], name="bob")
    async with alice, bob:
        _, model_id = await make_slider(alice)
        entry = await bob.wait_for(lambda: widgets(bob).get(model_id), WAIT)
        assert entry["model_name"] == "IntSliderModel"
        assert entry["model_module"] == "@jupyter-widgets/controls"
        assert entry["state"]["value"] == 3 and "gone" not in entry

        answer = await bob.request(
            "POST", f"/widgets/{model_id}", {"state": {"value": 42}, "by": {"name": "bob"}}
        )
        assert answer == {"ok": True}
        for nb in (alice, bob):  # both see it at once, before any run
            await nb.wait_for(lambda nb=nb: value_of(nb, model_id) == 42, WAIT)
        assert await printed(alice, "print(slider.value)") == "42\n"

        saved = await alice.notebook_json()
        nbformat.validate(nbformat.from_dict(saved))
        state = saved["metadata"]["widgets"][widgetstate.MIME_STATE]
        assert (state["version_major"], state["version_minor"]) == (2, 0)
        assert state["state"][model_id]["state"]["value"] == 42
        assert state["state"][model_id]["model_name"] == "IntSliderModel"

        await alice.request("POST", "/save")
        on_disk = nbformat.read(Path(khub.root) / "slider.ipynb", as_version=4)
        nbformat.validate(on_disk)
        disk_state = on_disk.metadata["widgets"][widgetstate.MIME_STATE]["state"]
        assert disk_state[model_id]["state"]["value"] == 42


async def test_a_viewer_cannot_move_a_slider(khub: HubProcess) -> None:
    s = khub.create_session("viewer.ipynb")
    alice = NotebookClient.from_link(s["edit_url"], name="alice")
    viewer = NotebookClient.from_link(s["view_url"], name="viewer")
    async with alice, viewer:
        _, model_id = await make_slider(alice)
        with pytest.raises(ClientError) as refused:
            await viewer.request("POST", f"/widgets/{model_id}", {"state": {"value": 9}})
        assert refused.value.status == 403
        assert await printed(alice, "print(slider.value)") == "3\n"
        assert value_of(alice, model_id) == 3
        assert value_of(viewer, model_id) == 3


async def test_bad_widget_requests_get_clear_errors(khub: HubProcess) -> None:
    s = khub.create_session("bad.ipynb")
    alice = NotebookClient.from_link(s["edit_url"], name="alice")
    async with alice:
        _, model_id = await make_slider(alice)
        for body in (
            {"state": [1, 2]},
            {},
            {"state": {"value": 1}, "extra": 1},
            {"buffers": [{"path": ["value"], "data": "not base64!"}]},
            {"buffers": [{"path": [], "data": ""}]},
        ):
            with pytest.raises(ClientError) as bad:
                await alice.request("POST", f"/widgets/{model_id}", body)
            assert (bad.value.status, bad.value.error) == (422, "bad_request"), body
        with pytest.raises(ClientError) as unknown:
            await alice.request("POST", "/widgets/nosuchmodel", {"state": {"value": 1}})
        assert (unknown.value.status, unknown.value.error) == (404, "unknown_widget")
        assert await printed(alice, "print(slider.value)") == "3\n"
