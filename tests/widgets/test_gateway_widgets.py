"""Shared ipywidgets on a kernel that runs on a real `jupyter kernelgateway`: the same as on a
local kernel (comm messages, binary buffers and Output widgets cross the gateway's websocket),
and, since that kernel outlives a killed hub, its widgets come back live after the restart.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest

from collabd.client import ClientError, NotebookClient
from tests.support.gateway import (
    GatewayProcess,
    hosts_env,
    kernel_info,
    running_gateway,
    select,
    wait_kernel,
)
from tests.support.hubproc import HubProcess
from tests.support.kernel import WAIT, new_cells, running_hub
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

pytestmark = [pytest.mark.kernel, pytest.mark.slow]


@pytest.fixture(scope="module")
def gateway() -> Iterator[GatewayProcess]:
    with running_gateway() as gateway:
        yield gateway


@pytest.fixture(scope="module")
def ghub(gateway: GatewayProcess) -> Iterator[HubProcess]:
    with running_hub(hosts_env(gateway)) as hub:
        yield hub


async def on_gateway(nb: NotebookClient) -> None:
    await select(nb, "gpu")
    await wait_kernel(nb, "gpu")


async def test_a_slider_on_a_gateway_kernel_is_moved_by_another_editor(ghub: HubProcess) -> None:
    s = ghub.create_session("gw-slider.ipynb")
    alice = NotebookClient.from_link(s["edit_url"], name="alice")
    bob = NotebookClient.from_link(s["edit_url"], name="bob")
    async with alice, bob:
        await on_gateway(alice)
        _, model_id = await make_slider(alice)
        entry = await bob.wait_for(lambda: widgets(bob).get(model_id), WAIT)
        assert entry["model_name"] == "IntSliderModel" and "gone" not in entry
        answer = await bob.request("POST", f"/widgets/{model_id}", {"state": {"value": 42}})
        assert answer == {"ok": True}
        for nb in (alice, bob):
            await nb.wait_for(lambda nb=nb: value_of(nb, model_id) == 42, WAIT)
        assert await printed(alice, "print(slider.value)") == "42\n"
        # a value the kernel clamps comes back through the gateway as the kernel keeps it
        await bob.request("POST", f"/widgets/{model_id}", {"state": {"value": 500}})
        await bob.wait_for(lambda: value_of(bob, model_id) == 100, WAIT)
        assert await printed(bob, "print(slider.value)") == "100\n"


async def test_a_tqdm_bar_on_a_gateway_kernel_reaches_its_total_for_everyone(
    ghub: HubProcess,
) -> None:
    s = ghub.create_session("gw-tqdm.ipynb")
    alice = NotebookClient.from_link(s["edit_url"], name="alice")
    bob = NotebookClient.from_link(s["edit_url"], name="bob")
    viewer = NotebookClient.from_link(s["view_url"], name="viewer")
    async with alice, bob, viewer:
        await on_gateway(alice)
        (cell,) = await new_cells(
            alice,
            "import time\nfrom tqdm.auto import tqdm\n"
            "for i in tqdm(range(50)):\n    time.sleep(0.01)",
        )
        assert (await run_and_wait(alice, cell))["status"] == "ok"
        box: str = await alice.wait_for(lambda: shown_model(alice, cell), WAIT)

        def bar(nb: NotebookClient) -> dict[str, Any] | None:
            progress = of_kind(nb, children(nb, box), "FloatProgressModel")
            return widgets(nb)[progress]["state"] if progress else None

        for nb in (alice, bob, viewer):
            await nb.wait_for(lambda nb=nb: (bar(nb) or {}).get("bar_style") == "success", WAIT)
            state = bar(nb)
            assert state is not None and state["value"] == state["max"] == 50
        views = [o for o in alice.outputs(cell) if VIEW in (o.get("data") or {})]
        assert len(views) == 1  # widget traffic is not the run's output


async def test_an_image_on_a_gateway_kernel_keeps_its_bytes_both_ways(ghub: HubProcess) -> None:
    s = ghub.create_session("gw-image.ipynb")
    alice = NotebookClient.from_link(s["edit_url"], name="alice")
    async with alice:
        await on_gateway(alice)
        # every byte value, and a size past one websocket frame's small-message paths
        (cell,) = await new_cells(
            alice,
            "import ipywidgets as w\ndata = bytes(range(256)) * 300\n"
            "image = w.Image(value=data, format='png')\nimage",
        )
        assert (await run_and_wait(alice, cell))["status"] == "ok"
        model_id: str = await alice.wait_for(lambda: shown_model(alice, cell), WAIT)
        entry = await alice.wait_for(lambda: widgets(alice).get(model_id), WAIT)
        assert "value" not in entry["state"]  # binary: in `buffers`, by its path
        (buffer,) = entry["buffers"]
        assert buffer["path"] == ["value"]
        assert base64.b64decode(buffer["data"]) == bytes(range(256)) * 300

        new = bytes(reversed(range(256))) * 10
        body = {"buffers": [{"path": ["value"], "data": base64.b64encode(new).decode()}]}
        await alice.request("POST", f"/widgets/{model_id}", body)
        check = "print(bytes(image.value) == bytes(reversed(range(256))) * 10, len(image.value))"
        assert await printed(alice, check) == "True 2560\n"


async def test_interact_on_a_gateway_kernel_prints_into_its_output_widget(
    ghub: HubProcess,
) -> None:
    s = ghub.create_session("gw-interact.ipynb")
    alice = NotebookClient.from_link(s["edit_url"], name="alice")
    bob = NotebookClient.from_link(s["edit_url"], name="bob")
    async with alice, bob:
        await on_gateway(alice)
        (cell,) = await new_cells(
            alice,
            "import ipywidgets as w\n"
            "def f(x):\n    print(f'x is {x}')\n"
            "ui = w.interact(f, x=w.IntSlider(value=1, max=10))",
        )
        assert (await run_and_wait(alice, cell))["status"] == "ok"
        _, slider, out = await slider_and_output(alice, bob, cell)
        await bob.wait_for(lambda: printed_in(bob, out) == "x is 1\n", WAIT)
        await bob.request("POST", f"/widgets/{slider}", {"state": {"value": 7}})
        for nb in (alice, bob):
            await nb.wait_for(lambda nb=nb: printed_in(nb, out) == "x is 7\n", WAIT)
        assert "x is" not in alice.output_text(cell)


async def test_after_a_hub_is_killed_its_gateway_kernels_widgets_are_live_again() -> None:
    with running_gateway() as gateway, running_hub(hosts_env(gateway)) as hub:
        s = hub.create_session("gw-killed.ipynb")
        async with NotebookClient.from_link(s["edit_url"], name="ann") as ann:
            await on_gateway(ann)
            _, model_id = await make_slider(ann)
            await ann.request("POST", f"/widgets/{model_id}", {"state": {"value": 12}})
            assert await printed(ann, "print(slider.value)") == "12\n"
            (image_cell,) = await new_cells(ann, "image = w.Image(value=b'\\x00kept\\xff')\nimage")
            await run_and_wait(ann, image_cell)
            image: str = await ann.wait_for(lambda: shown_model(ann, image_cell), WAIT)
            await ann.wait_for(lambda: image in widgets(ann), WAIT)
            (closed_cell,) = await new_cells(ann, "closed = w.IntSlider(value=5)\nclosed")
            await run_and_wait(ann, closed_cell)
            closed: str = await ann.wait_for(lambda: shown_model(ann, closed_cell), WAIT)
            await ann.wait_for(lambda: closed in widgets(ann), WAIT)
            kernel_id = ann.state()["kernel_choice"]["kernel_id"]
            # while no hub listens, the kernel moves one model and closes another
            (later,) = await new_cells(
                ann,
                "import threading\n"
                "def later():\n    slider.value = 30\n    closed.close()\n"
                "threading.Timer(2, later).start()",
            )
            await run_and_wait(ann, later)
            hub.kill9()
        hub.start()
        async with NotebookClient.from_link(s["edit_url"], name="bob") as bob:
            await wait_kernel(bob, "gpu")
            assert bob.state()["kernel_choice"]["kernel_id"] == kernel_id  # re-attached

            def live(model: str) -> dict[str, Any] | None:
                entry = widgets(bob).get(model)
                return entry if entry is not None and not entry.get("gone") else None

            entry = await bob.wait_for(lambda: live(model_id), WAIT)
            assert entry["model_name"] == "IntSliderModel"
            await bob.wait_for(lambda: value_of(bob, model_id) == 30, WAIT)  # the kernel's value
            image_entry = await bob.wait_for(lambda: live(image), WAIT)
            assert base64.b64decode(image_entry["buffers"][0]["data"]) == b"\x00kept\xff"

            await bob.request("POST", f"/widgets/{model_id}", {"state": {"value": 77}})
            assert await printed(bob, "print(slider.value)") == "77\n"
            await bob.wait_for(lambda: value_of(bob, model_id) == 77, WAIT)

            # the model the kernel no longer has is not live: gone (or removed)
            assert live(closed) is None
            with pytest.raises(ClientError) as refused:
                await bob.request("POST", f"/widgets/{closed}", {"state": {"value": 1}})
            assert refused.value.error in ("widget_gone", "unknown_widget")


async def test_after_a_graceful_restart_the_widgets_are_gone_with_their_kernel() -> None:
    with running_gateway() as gateway, running_hub(hosts_env(gateway)) as hub:
        s = hub.create_session("gw-graceful.ipynb")
        async with NotebookClient.from_link(s["edit_url"], name="ann") as ann:
            await on_gateway(ann)
            _, model_id = await make_slider(ann)
        hub.stop()  # a graceful stop shuts the remote kernel down
        assert gateway.kernel_ids() == []
        hub.start()
        async with NotebookClient.from_link(s["edit_url"], name="ann") as ann:
            await ann.wait_for(lambda: (widgets(ann).get(model_id) or {}).get("gone"), WAIT)
            assert value_of(ann, model_id) == 3  # its last state, read-only
            with pytest.raises(ClientError) as gone:
                await ann.request("POST", f"/widgets/{model_id}", {"state": {"value": 1}})
            assert (gone.value.status, gone.value.error) == (409, "widget_gone")
            # no kernel is started for them (a start would show as the session loads)
            assert kernel_info(ann).get("status") not in ("starting", "idle"), kernel_info(ann)
            assert gateway.kernel_ids() == []
