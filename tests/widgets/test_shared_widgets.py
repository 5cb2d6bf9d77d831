"""Shared ipywidgets against a real hub process, a real ipykernel with ipywidgets, and real
websockets: the hub is the kernel's widget peer and every participant reads the `widgets` map.

One hub serves the module (starting kernels is the slow part); each test has its own session.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

from collabd import widgetstate
from collabd.client import ClientError, NotebookClient
from tests.support.hubproc import HubFactory, HubProcess
from tests.support.kernel import WAIT, module_hub, new_cells
from tests.support.widgets import (
    VIEW,
    children,
    make_slider,
    of_kind,
    printed,
    printed_in,
    run_and_wait,
    shown_model,
    slider_and_output,
    value_of,
    widgets,
)

pytestmark = pytest.mark.kernel


async def test_a_slider_made_by_one_editor_is_moved_by_another_and_the_kernel_has_it(
    khub: HubProcess,
) -> None:
    s = khub.create_session("slider.ipynb")
    alice = NotebookClient.from_link(s["edit_url"], name="alice")
    bob = NotebookClient.from_link(s["edit_url"], name="bob")
    async with alice, bob:
        cell, model_id = await make_slider(alice)
        entry = await bob.wait_for(lambda: widgets(bob).get(model_id), WAIT)
        assert entry["model_name"] == "IntSliderModel"
        # the run history names the widget, not the kernel's "IntSlider(value=3, max=100)"
        deadline = time.monotonic() + WAIT  # the run event is recorded just after the run ends
        while not (history := await bob.request("GET", f"/runs?cell_id={cell}")):
            assert time.monotonic() < deadline
            await asyncio.sleep(0.1)
        assert [r["outputs"] for r in history] == ["widget: IntSlider\n"]
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


async def test_a_value_the_kernel_clamps_is_shown_as_the_kernel_keeps_it(
    khub: HubProcess,
) -> None:
    s = khub.create_session("clamp.ipynb")
    alice = NotebookClient.from_link(s["edit_url"], name="alice")
    async with alice:
        _, model_id = await make_slider(alice)  # max=100
        await alice.request("POST", f"/widgets/{model_id}", {"state": {"value": 500}})
        await alice.wait_for(lambda: value_of(alice, model_id) == 100, WAIT)
        assert await printed(alice, "print(slider.value)") == "100\n"


async def test_binary_values_travel_as_buffers_both_ways(khub: HubProcess) -> None:
    s = khub.create_session("image.ipynb")
    alice = NotebookClient.from_link(s["edit_url"], name="alice")
    async with alice:
        (cell,) = await new_cells(
            alice, "import ipywidgets as w\nimage = w.Image(value=bytes([0, 1, 2, 255]))\nimage"
        )
        await run_and_wait(alice, cell)
        model_id: str = await alice.wait_for(lambda: shown_model(alice, cell), WAIT)
        entry = await alice.wait_for(lambda: widgets(alice).get(model_id), WAIT)
        assert "value" not in entry["state"]  # binary: in `buffers`, by its path
        assert entry["buffers"] == [
            {"path": ["value"], "data": base64.b64encode(b"\0\1\2\xff").decode()}
        ]

        new = base64.b64encode(b"hub").decode()
        body = {"buffers": [{"path": ["value"], "data": new}]}
        await alice.request("POST", f"/widgets/{model_id}", body)
        assert await printed(alice, "print(bytes(image.value))") == "b'hub'\n"
        assert widgets(alice)[model_id]["buffers"] == [{"path": ["value"], "data": new}]
        saved = (await alice.notebook_json())["metadata"]["widgets"][widgetstate.MIME_STATE]
        assert saved["state"][model_id]["buffers"] == [
            {"encoding": "base64", "path": ["value"], "data": new}
        ]


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
            {"state": {"_model_name": "ButtonModel"}},
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


async def test_a_tqdm_bar_reaches_100_percent_for_everyone_in_a_few_writes(
    khub: HubProcess,
) -> None:
    s = khub.create_session("tqdm.ipynb")
    alice = NotebookClient.from_link(s["edit_url"], name="alice")
    bob = NotebookClient.from_link(s["edit_url"], name="bob")
    viewer = NotebookClient.from_link(s["view_url"], name="viewer")
    async with alice, bob, viewer:
        (cell,) = await new_cells(
            alice,
            "import time\nfrom tqdm.auto import tqdm\n"
            "for i in tqdm(range(50)):\n    time.sleep(0.01)",
        )
        changes: dict[str, list[Any]] = {}

        def on_change(event: Any) -> None:
            for key in event.keys:
                changes.setdefault(key, []).append(1)

        seen = widgetstate.ymap(viewer.doc)  # kept: its subscriptions live on this object
        subscription = seen.observe(on_change)
        started = time.monotonic()
        assert (await run_and_wait(alice, cell))["status"] == "ok"
        box: str = await alice.wait_for(lambda: shown_model(alice, cell), WAIT)

        def bar(nb: NotebookClient) -> dict[str, Any] | None:
            progress = of_kind(nb, children(nb, box), "FloatProgressModel")
            return widgets(nb)[progress]["state"] if progress else None

        for nb in (alice, bob, viewer):
            await nb.wait_for(lambda nb=nb: (bar(nb) or {}).get("bar_style") == "success", WAIT)
            state = bar(nb)
            assert state is not None and state["value"] == state["max"] == 50
        elapsed = time.monotonic() - started
        progress = of_kind(viewer, children(viewer, box), "FloatProgressModel")
        assert progress is not None
        # written at most every WIDGET_UPDATE_INTERVAL_S (0.05 s), plus its open and the last
        assert len(changes[progress]) <= elapsed / 0.05 + 3
        print(f"tqdm bar: {len(changes[progress])} writes in {elapsed:.2f} s")
        seen.unobserve(subscription)
        assert cell_outputs_only_show_the_bar(alice, cell, box)


def cell_outputs_only_show_the_bar(nb: NotebookClient, cell: str, box: str) -> bool:
    """Widget traffic is not a run's output: the cell holds the bar's view, nothing else."""
    views = [o for o in nb.outputs(cell) if VIEW in (o.get("data") or {})]
    return len(views) == 1 and views[0]["data"][VIEW]["model_id"] == box


async def test_a_late_joiner_sees_the_current_state(khub: HubProcess) -> None:
    s = khub.create_session("late.ipynb")
    alice = NotebookClient.from_link(s["edit_url"], name="alice")
    async with alice:
        _, model_id = await make_slider(alice)
        await alice.request("POST", f"/widgets/{model_id}", {"state": {"value": 77}})
        assert await printed(alice, "print(slider.value)") == "77\n"
        late = NotebookClient.from_link(s["view_url"], name="late")
        async with late:
            await late.wait_synced()
            assert value_of(late, model_id) == 77
            assert widgets(late)[model_id]["model_name"] == "IntSliderModel"


async def test_interact_prints_into_its_output_widget_when_the_slider_moves(
    khub: HubProcess,
) -> None:
    s = khub.create_session("interact.ipynb")
    alice = NotebookClient.from_link(s["edit_url"], name="alice")
    bob = NotebookClient.from_link(s["edit_url"], name="bob")
    async with alice, bob:
        (cell,) = await new_cells(
            alice,
            "import ipywidgets as w\n"
            "def f(x):\n    print(f'x is {x}')\n"
            "ui = w.interact(f, x=w.IntSlider(value=1, max=10))",
        )
        assert (await run_and_wait(alice, cell))["status"] == "ok"
        box, slider, out = await slider_and_output(alice, bob, cell)
        await bob.wait_for(lambda: printed_in(bob, out) == "x is 1\n", WAIT)
        await bob.request("POST", f"/widgets/{slider}", {"state": {"value": 7}})
        for nb in (alice, bob):
            await nb.wait_for(lambda nb=nb: printed_in(nb, out) == "x is 7\n", WAIT)
        assert "x is" not in alice.output_text(cell)  # the cell shows the box, not the prints
        assert cell_outputs_only_show_the_bar(alice, cell, box)


async def test_a_button_click_reaches_the_kernel(khub: HubProcess) -> None:
    s = khub.create_session("button.ipynb")
    alice = NotebookClient.from_link(s["edit_url"], name="alice")
    async with alice:
        (cell,) = await new_cells(
            alice,
            "import ipywidgets as w\nclicks = []\n"
            "button = w.Button(description='go')\n"
            "button.on_click(lambda b: clicks.append(b.description))\nbutton",
        )
        await run_and_wait(alice, cell)
        model_id: str = await alice.wait_for(lambda: shown_model(alice, cell), WAIT)
        await alice.wait_for(lambda: model_id in widgets(alice), WAIT)
        answer = await alice.request("POST", f"/widgets/{model_id}", {"custom": {"event": "click"}})
        assert answer == {"ok": True}
        assert await printed(alice, "print(clicks)") == "['go']\n"


async def test_after_a_restart_widgets_are_gone_and_cannot_be_changed(khub: HubProcess) -> None:
    s = khub.create_session("restart.ipynb")
    alice = NotebookClient.from_link(s["edit_url"], name="alice")
    async with alice:
        _, model_id = await make_slider(alice)
        await alice.request("POST", "/kernel/restart", {})
        await alice.wait_for(lambda: widgets(alice)[model_id].get("gone"), WAIT)
        assert value_of(alice, model_id) == 3  # its last state, read-only
        with pytest.raises(ClientError) as gone:
            await alice.request("POST", f"/widgets/{model_id}", {"state": {"value": 5}})
        assert (gone.value.status, gone.value.error) == (409, "widget_gone")
        # the cell still shows it, so it stays (gone) after the next kernel is ready
        await alice.wait_for(lambda: (alice.state().get("kernel") or {}).get("status") == "idle")
        assert widgets(alice)[model_id].get("gone") is True
        saved = await alice.notebook_json()
        assert model_id in saved["metadata"]["widgets"][widgetstate.MIME_STATE]["state"]


@pytest.fixture(scope="module")
def limited_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    env = {
        "COLLABD_WIDGET_MAX_STATE_BYTES": "20000",
        "COLLABD_WIDGET_UPDATE_INTERVAL_S": "0.5",
        "COLLABD_WIDGET_RATE": "5/60",
    }
    with module_hub(tmp_path_factory, env) as hub:
        yield hub


async def test_a_flood_of_kernel_updates_becomes_a_few_writes(limited_hub: HubProcess) -> None:
    s = limited_hub.create_session("flood.ipynb")
    alice = NotebookClient.from_link(s["edit_url"], name="alice")
    async with alice:
        _, model_id = await make_slider(alice)
        writes: list[Any] = []
        seen = widgetstate.ymap(alice.doc)
        subscription = seen.observe(lambda e: writes.extend(k for k in e.keys if k == model_id))
        (cell,) = await new_cells(
            alice, "slider.max = 5000\nfor i in range(1, 2001):\n    slider.value = i"
        )
        started = time.monotonic()
        await run_and_wait(alice, cell)
        await alice.wait_for(lambda: value_of(alice, model_id) == 2000, WAIT)
        elapsed = time.monotonic() - started
        seen.unobserve(subscription)
        # 2001 kernel updates, written at most every 0.5 s (WIDGET_UPDATE_INTERVAL_S)
        assert 1 <= len(writes) <= elapsed / 0.5 + 2, (len(writes), elapsed)
        print(f"flood: 2001 updates, {len(writes)} writes in {elapsed:.2f} s")


async def test_a_widget_over_the_size_limit_keeps_its_last_state(
    limited_hub: HubProcess,
) -> None:
    s = limited_hub.create_session("big.ipynb")
    alice = NotebookClient.from_link(s["edit_url"], name="alice")
    async with alice:
        (cell,) = await new_cells(alice, "import ipywidgets as w\ntext = w.Textarea('small')\ntext")
        await run_and_wait(alice, cell)
        model_id: str = await alice.wait_for(lambda: shown_model(alice, cell), WAIT)
        await alice.wait_for(lambda: value_of(alice, model_id) == "small", WAIT)
        before = len(alice.doc.get_update())

        (grow,) = await new_cells(alice, "text.value = 'x' * 50_000\ntext.value = 'y' * 60_000")
        await run_and_wait(alice, grow)
        event = await alice.wait_for(
            lambda: (
                (alice.state().get("last_event") or {}).get("kind") == "widget_limit"
                and alice.state()["last_event"]
            ),
            WAIT,
        )
        assert model_id in event["detail"] and "WIDGET_MAX_STATE_BYTES" in event["detail"]
        assert value_of(alice, model_id) == "small"
        assert len(alice.doc.get_update()) < before + 20_000  # the document did not take it

        with pytest.raises(ClientError) as big:
            await alice.request("POST", f"/widgets/{model_id}", {"state": {"value": "z" * 30_000}})
        assert (big.value.status, big.value.error) == (413, "too_large")
        assert value_of(alice, model_id) == "small"
        # the kernel still has its own value; a change that fits goes through again
        await alice.request("POST", f"/widgets/{model_id}", {"state": {"value": "fits"}})
        assert await printed(alice, "print(text.value)") == "fits\n"
        await alice.wait_for(lambda: value_of(alice, model_id) == "fits", WAIT)


async def test_one_person_moving_a_widget_too_often_is_refused(limited_hub: HubProcess) -> None:
    s = limited_hub.create_session("rate.ipynb")
    alice = NotebookClient.from_link(s["edit_url"], name="alice")
    async with alice:
        _, model_id = await make_slider(alice)
        by = {"name": "alice", "client_id": alice.client_id}
        for value in range(10, 15):  # WIDGET_RATE 5/60
            await alice.request(
                "POST", f"/widgets/{model_id}", {"state": {"value": value}, "by": by}
            )
        with pytest.raises(ClientError) as limited:
            await alice.request("POST", f"/widgets/{model_id}", {"state": {"value": 99}, "by": by})
        assert (limited.value.status, limited.value.error) == (429, "rate_limited")
        assert await printed(alice, "print(slider.value)") == "14\n"
        assert value_of(alice, model_id) == 14


async def test_a_slider_redraws_a_matplotlib_plot_for_everyone(khub: HubProcess) -> None:
    s = khub.create_session("plot.ipynb")
    alice = NotebookClient.from_link(s["edit_url"], name="alice")
    bob = NotebookClient.from_link(s["edit_url"], name="bob")
    async with alice, bob:
        (cell,) = await new_cells(
            alice,
            "import ipywidgets as w\nimport matplotlib.pyplot as plt\n"
            "a = w.IntSlider(value=1, min=1, max=5)\n"
            "def plot(a):\n    plt.plot([0, 1], [0, a])\n    plt.title(f'slope {a}')\n"
            "    plt.show()\n"
            "out = w.interactive_output(plot, {'a': a})\nw.VBox([a, out])",
        )
        assert (await run_and_wait(alice, cell))["status"] == "ok"
        _, slider, out = await slider_and_output(alice, bob, cell)

        def png(nb: NotebookClient) -> str | None:
            outputs = value_of(nb, out, "outputs") or []
            images = [o["data"]["image/png"] for o in outputs if "image/png" in o.get("data", {})]
            return images[-1] if len(images) == 1 else None

        first: str = await bob.wait_for(lambda: png(bob), WAIT)
        await bob.request("POST", f"/widgets/{slider}", {"state": {"value": 4}})
        for nb in (alice, bob):
            await nb.wait_for(lambda nb=nb: png(nb) not in (None, first), WAIT)
        assert not any("image/png" in (o.get("data") or {}) for o in alice.outputs(cell))


async def test_a_killed_hub_comes_back_with_its_widgets_gone(hub_factory: HubFactory) -> None:
    hub = hub_factory()
    s = hub.create_session("killed.ipynb")
    async with NotebookClient.from_link(s["edit_url"], name="ann") as ann:
        _, model_id = await make_slider(ann)
        await ann.request("POST", f"/widgets/{model_id}", {"state": {"value": 12}})
        await ann.wait_for(lambda: value_of(ann, model_id) == 12, WAIT)
        hub.kill9()
    hub.start()
    async with NotebookClient.from_link(s["edit_url"], name="ann") as ann:
        await ann.wait_for(lambda: (widgets(ann).get(model_id) or {}).get("gone"), WAIT)
        assert value_of(ann, model_id) == 12  # its last state, read-only
        with pytest.raises(ClientError) as gone:
            await ann.request("POST", f"/widgets/{model_id}", {"state": {"value": 1}})
        assert (gone.value.status, gone.value.error) == (409, "widget_gone")
