"""Sessions whose kernel runs on a real Jupyter Kernel Gateway (a `jupyter kernelgateway` process
on loopback, with a token), chosen with `POST …/kernel/select`.

One gateway and one hub serve the module; each test makes its own session.
"""

from __future__ import annotations

import json
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
from tests.support.kernel import (
    WAIT,
    finished,
    last_run,
    new_cells,
    queue_cells,
    running_hub,
    wait_finished,
    wait_next_finished,
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
        hub.stop()
        assert gateway.token not in hub.log(), "the gateway's token reached the hub's log"


def runs(hub: HubProcess, s: dict[str, Any]) -> dict[str, dict[str, Any]]:
    status, found = hub.api("GET", f"/api/sessions/{s['id']}/runs", token=s["view_token"])
    assert status == 200, found
    return {r["cell_id"]: r for r in found}


async def test_hosts_are_listed_without_secrets_and_only_editors_choose(
    ghub: HubProcess, gateway: GatewayProcess
) -> None:
    s = ghub.create_session("hosts.ipynb")
    for token in (ghub.token, s["edit_token"]):
        status, hosts = ghub.api("GET", "/api/kernel-hosts", token=token)
        assert status == 200, hosts
        by_name = {h["name"]: h for h in hosts}
        assert list(by_name) == ["local", "gpu", "down"]
        assert "python3" in [spec["name"] for spec in by_name["local"]["specs"]]
        assert [spec["name"] for spec in by_name["gpu"]["specs"]] == ["python3"]
        assert by_name["gpu"]["description"] == "the GPU box" and "error" not in by_name["gpu"]
        assert (
            by_name["down"]["specs"] == []
            and "'down' cannot be reached" in by_name["down"]["error"]
        )
        text = json.dumps(hosts)
        assert gateway.token not in text and str(gateway.port) not in text and "url" not in text
    status, reply = ghub.api("GET", "/api/kernel-hosts", token=s["view_token"])
    assert status == 403 and reply["error"] == "forbidden"
    assert ghub.api("GET", "/api/kernel-hosts", token="nope")[0] == 401
    path = f"/api/sessions/{s['id']}/kernel/select"
    status, reply = ghub.api("POST", path, {"host": "gpu", "spec": "python3"}, s["view_token"])
    assert status == 403 and reply["error"] == "forbidden"
    for body, expected, error in [
        ({"host": "mars", "spec": "python3"}, 404, "unknown_host"),
        ({"host": "gpu", "spec": "julia"}, 422, "unknown_spec"),
        ({"host": "gpu"}, 422, "bad_request"),
        ({"host": "down", "spec": "python3"}, 503, "host_unreachable"),
    ]:
        status, reply = ghub.api("POST", path, body, s["edit_token"])
        assert (status, reply["error"]) == (expected, error), reply
        assert gateway.token not in reply["detail"] and str(gateway.port) not in reply["detail"]
    async with NotebookClient.from_link(s["view_url"], name="v") as viewer:
        assert viewer.state().get("kernel_choice") is None  # nothing was chosen


async def test_two_participants_run_in_order_on_the_gateway(
    ghub: HubProcess, gateway: GatewayProcess
) -> None:
    s = ghub.create_session("pair.ipynb")
    alice = NotebookClient.from_link(s["edit_url"], name="alice")
    bob = NotebookClient.from_link(s["edit_url"], name="bob")
    viewer = NotebookClient.from_link(s["view_url"], name="viewer")
    async with alice, bob, viewer:
        reply = await select(alice, "gpu", by="alice")
        assert reply["host"] == "gpu" and reply["status"] == "idle"
        info = await wait_kernel(viewer, "gpu")
        assert info["name"] == "python3"
        assert viewer.state()["kernel_choice"]["host"] == "gpu"
        assert viewer.state()["last_event"]["kind"] == "kernel_switched"
        first, second = await new_cells(
            alice, "import os, time\ntime.sleep(2)\ny = 41\nprint(os.getpid())", "print(y + 1)"
        )
        await bob.wait_for(lambda: second in bob.cell_ids(), WAIT)
        await alice.run(first)
        await bob.run(second)
        await viewer.wait_for(
            lambda: queue_cells(viewer) == [(first, "running"), (second, "queued")], WAIT
        )
        await viewer.wait_for(lambda: finished(viewer, second), WAIT)
        assert viewer.output_text(second) == "42\n"
        assert int(viewer.output_text(first)) in gateway.kernel_pids()  # it ran on the gateway
        one, two = last_run(viewer, first), last_run(viewer, second)
        assert one and two and one["status"] == two["status"] == "ok"
        assert one["by"]["name"] == "alice" and two["by"]["name"] == "bob"
        assert one["ended"] <= two["started"]
    history = runs(ghub, s)
    assert history[first]["host"] == history[second]["host"] == "gpu"
    status, events = ghub.api(
        "GET", f"/api/sessions/{s['id']}/recording/events", token=s["view_token"]
    )
    assert status == 200 and gateway.token not in json.dumps(events)
    kernel_events = [e["data"] for e in events["events"] if e["kind"] == "kernel"]
    assert kernel_events[0]["status"] == "restarting" and "switched" in kernel_events[0]["reason"]
    assert {"status": "idle", "host": "gpu"}.items() <= kernel_events[1].items(), kernel_events


async def test_interrupt_restart_and_input_on_the_gateway(ghub: HubProcess) -> None:
    s = ghub.create_session("control.ipynb")
    async with NotebookClient.from_link(s["edit_url"], name="ann") as ann:
        await select(ann, "gpu")
        setup, loop, after, asks, check = await new_cells(
            ann,
            "kept = 'still here'",
            "while True: pass",
            "kept",
            "name = input('Your name? ')\nprint('hello', name)",
            "print('kept' in dir())",
        )
        await ann.run(setup)
        await ann.run(loop)
        await ann.wait_for(lambda: ann.cell(loop)["execution_state"] == "running", WAIT)
        await ann.request("POST", "/kernel/interrupt", {"by": {"name": "ann"}})
        run = await wait_finished(ann, loop)
        assert run["status"] == "error" and "KeyboardInterrupt" in ann.output_text(loop)
        await ann.run(after)
        await wait_finished(ann, after)
        assert ann.output_text(after) == "'still here'"

        request_id = (await ann.run(asks))["request_id"]
        asked = await ann.wait_for(lambda: ann.state().get("input_request"), WAIT)
        assert asked["prompt"] == "Your name? " and asked["request_id"] == request_id
        await ann.request("POST", "/input", {"request_id": request_id, "value": "Ada"})
        await wait_finished(ann, asks)
        assert ann.output_text(asks) == "Your name? Ada\nhello Ada\n"

        await ann.run(loop)
        await ann.wait_for(lambda: ann.cell(loop)["execution_state"] == "running", WAIT)
        await ann.request("POST", "/kernel/restart", {"by": {"name": "ann"}})
        await wait_kernel(ann, "gpu")
        assert (last_run(ann, loop) or {})["status"] == "cancelled"
        await ann.run(check)
        await wait_finished(ann, check)
        assert ann.output_text(check) == "False\n"  # a fresh kernel, still on the gateway


async def test_a_kernel_deleted_on_the_gateway_is_reported_and_replaced(
    ghub: HubProcess, gateway: GatewayProcess
) -> None:
    s = ghub.create_session("deleted.ipynb")
    async with NotebookClient.from_link(s["edit_url"], name="ann") as ann:
        await select(ann, "gpu")
        slow, queued, after = await new_cells(
            ann, "import time\ntime.sleep(60)", "print('never')", "print(1 + 1)"
        )
        before = set(gateway.kernel_ids())
        await ann.run(slow)
        await ann.run(queued)
        await ann.wait_for(lambda: ann.cell(slow)["execution_state"] == "running", WAIT)
        choice = ann.state()["kernel_choice"]
        assert choice["kernel_id"] in before
        status, _ = gateway.api("DELETE", f"/api/kernels/{choice['kernel_id']}")
        assert status == 204
        run = await wait_finished(ann, slow)
        assert run["status"] == "error"
        errors = [o for o in ann.outputs(slow) if o["output_type"] == "error"]
        assert errors and errors[-1]["ename"] == "KernelDied"
        assert "'gpu' no longer has this kernel" in errors[-1]["evalue"]
        assert (await wait_finished(ann, queued))["status"] == "cancelled"
        info = await wait_kernel(ann, "gpu")
        assert "reason" not in info
        await ann.run(after)
        await wait_finished(ann, after)
        assert ann.output_text(after) == "2\n"
        assert ann.state()["kernel_choice"]["kernel_id"] != choice["kernel_id"]


async def test_switching_local_gateway_local_mid_session(
    ghub: HubProcess, gateway: GatewayProcess
) -> None:
    s = ghub.create_session("switch.ipynb")
    ann = NotebookClient.from_link(s["edit_url"], name="ann")
    viewer = NotebookClient.from_link(s["view_url"], name="viewer")
    async with ann, viewer:
        where, slow, queued = await new_cells(
            ann, "import os\nprint(os.getpid())", "import time\ntime.sleep(60)", "print('never')"
        )
        await ann.run(where)
        await wait_finished(ann, where)
        local_pid = int(ann.output_text(where))
        assert kernel_info(ann)["host"] == "local" and local_pid not in gateway.kernel_pids()

        await ann.run(slow)
        await ann.run(queued)
        await ann.wait_for(lambda: ann.cell(slow)["execution_state"] == "running", WAIT)
        await select(ann, "gpu")
        await wait_kernel(viewer, "gpu")
        for cell in (slow, queued):
            assert (last_run(viewer, cell) or {})["status"] == "cancelled"
        event = viewer.state()["last_event"]
        assert event["kind"] == "kernel_switched" and "ann" in event["detail"]
        assert "python3 on gpu" in event["detail"]
        before = last_run(ann, where)
        await ann.run(where)
        await wait_next_finished(ann, where, before)
        assert int(ann.output_text(where)) in gateway.kernel_pids()
        on_gateway = viewer.state()["kernel_choice"]["kernel_id"]
        assert on_gateway in gateway.kernel_ids()

        await select(ann, "local")
        await wait_kernel(viewer, "local")
        assert viewer.state()["kernel_choice"] == {"host": "local", "spec": "python3"}
        assert on_gateway not in gateway.kernel_ids()  # the gateway's kernel was shut down
        before = last_run(ann, where)
        await ann.run(where)
        await wait_next_finished(ann, where, before)
        assert int(ann.output_text(where)) not in gateway.kernel_pids()
    status, every = ghub.api("GET", f"/api/sessions/{s['id']}/runs", token=s["view_token"])
    assert [r["host"] for r in every if r["cell_id"] == where] == ["local", "gpu", "local"]
    assert status == 200


async def test_a_view_token_cannot_select_even_a_valid_host(ghub: HubProcess) -> None:
    s = ghub.create_session("viewer.ipynb")
    async with NotebookClient.from_link(s["view_url"], name="v") as viewer:
        with pytest.raises(ClientError) as denied:
            await select(viewer, "gpu")
        assert denied.value.status == 403
        assert viewer.state().get("kernel_choice") is None


async def test_the_gateway_kernel_works_in_the_notebooks_folder(
    ghub: HubProcess, gateway: GatewayProcess
) -> None:
    (gateway.base / "course" / "week1").mkdir(parents=True)  # the gateway's root: its cwd
    for folder in ("course/week1", "elsewhere"):
        (ghub.root / folder).mkdir(parents=True)
    for path, expected in [
        ("course/week1/cwd.ipynb", gateway.base / "course" / "week1"),
        ("elsewhere/cwd.ipynb", gateway.base),  # no such folder on the gateway: its root
    ]:
        s = ghub.create_session(path)
        async with NotebookClient.from_link(s["edit_url"], name="ann") as ann:
            await select(ann, "gpu")
            (where,) = await new_cells(ann, "import os\nprint(os.getcwd())")
            await ann.run(where)
            await wait_finished(ann, where)
            assert ann.output_text(where) == f"{expected.resolve()}\n"


async def test_metrics_are_tracked_on_the_gateway_through_its_hook(
    ghub: HubProcess, gateway: GatewayProcess
) -> None:
    # the capture's request metadata and the hook's payload cross the gateway's websocket
    s = ghub.create_session("tracked.ipynb")
    async with NotebookClient.from_link(s["edit_url"], name="kim") as kim:
        await select(kim, "gpu", by="kim")
        await wait_kernel(kim, "gpu")
        probe = (
            "p = get_ipython().parent_header\n"
            "print(sorted(p['content']['user_expressions']), sorted(p['metadata']))"
        )
        first, second, looked = await new_cells(
            kim, "accuracy = 0.5", "accuracy = 0.75\nraise ValueError('stop')", probe
        )
        for cell in (first, second, looked):
            await kim.run(cell)
            await wait_finished(kim, cell)
        assert kim.output_text(looked) == "[] ['collabd_tracking']\n"
    found = runs(ghub, s)
    assert found[first]["host"] == "gpu" and found[first]["metrics"] == {"accuracy": 0.5}
    # the failed run is captured by the hook, with no second request
    assert found[second]["status"] == "error" and found[second]["metrics"] == {"accuracy": 0.75}
