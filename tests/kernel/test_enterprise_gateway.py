"""Sessions whose kernel runs on a real Jupyter Enterprise Gateway (`jupyter enterprisegateway`
with its local process proxy: kernels beside it, no cluster), through the same GatewayKernel as
Kernel Gateway's: select, run in the notebook's folder, input(), interrupt, restart, and re-attach
after the hub was killed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from collabd.client import NotebookClient
from tests.support.gateway import (
    EnterpriseGatewayProcess,
    GatewayProcess,
    hosts_env,
    running_gateway,
    select,
    wait_kernel,
)
from tests.support.kernel import WAIT, finished, new_cells, running_hub, wait_finished

pytestmark = [pytest.mark.kernel, pytest.mark.slow]


async def run_again(nb: NotebookClient, cell: str) -> dict[str, Any]:
    """Run a cell that ran before, and wait for this run's end."""
    before = (finished(nb, cell) or {}).get("ended")
    await nb.run(cell)
    run = await nb.wait_for(lambda: (r := finished(nb, cell)) and r["ended"] != before and r, WAIT)
    return dict(run)


@pytest.fixture(scope="module")
def gateway() -> Iterator[GatewayProcess]:
    with running_gateway(EnterpriseGatewayProcess) as gateway:
        yield gateway


async def test_a_session_runs_its_kernel_on_enterprise_gateway(gateway: GatewayProcess) -> None:
    (gateway.base / "proj").mkdir()  # the gateway's root is the folder it was started in
    with running_hub(hosts_env(gateway)) as hub:
        (hub.root / "proj").mkdir()
        s = hub.create_session("proj/eg.ipynb")
        async with NotebookClient.from_link(s["edit_url"], name="ann") as ann:
            reply = await select(ann, "gpu")
            assert reply["host"] == "gpu" and reply["status"] == "idle"
            where, loop, kept, asks = await new_cells(
                ann,
                "import os\nx = 'still here'\nprint(os.getpid(), os.getcwd())",
                "while True: pass",
                "print(x)",
                "name = input('Your name? ')\nprint('hello', name)",
            )
            await ann.run(where)
            await wait_finished(ann, where)
            pid, cwd = ann.output_text(where).split()
            assert int(pid) in gateway.kernel_pids()  # it runs under the Enterprise Gateway
            assert cwd == str((gateway.base / "proj").resolve())  # the notebook's folder

            await ann.run(loop)
            await ann.wait_for(lambda: ann.cell(loop)["execution_state"] == "running", WAIT)
            await ann.request("POST", "/kernel/interrupt", {"by": {"name": "ann"}})
            run = await wait_finished(ann, loop)
            assert run["status"] == "error" and "KeyboardInterrupt" in ann.output_text(loop)
            await run_again(ann, kept)
            assert ann.output_text(kept) == "still here\n"

            request_id = (await ann.run(asks))["request_id"]
            await ann.wait_for(lambda: ann.state().get("input_request"), WAIT)
            await ann.request("POST", "/input", {"request_id": request_id, "value": "Ada"})
            await wait_finished(ann, asks)
            assert ann.output_text(asks) == "Your name? Ada\nhello Ada\n"

            kernel_id = ann.state()["kernel_choice"]["kernel_id"]
            hub.kill9()
            assert kernel_id in gateway.kernel_ids()  # it outlives the hub
            hub.start()
        async with NotebookClient.from_link(s["edit_url"], name="ann") as ann:
            assert (await run_again(ann, kept))["execution_count"] == 5
            assert ann.output_text(kept) == "still here\n"  # the same kernel, re-attached
            assert ann.state()["kernel_choice"]["kernel_id"] == kernel_id

            await ann.request("POST", "/kernel/restart", {"by": {"name": "ann"}})
            await wait_kernel(ann, "gpu")
            assert (await run_again(ann, kept))["execution_count"] == 1
            assert "NameError" in ann.output_text(kept)  # a fresh kernel, still on the gateway
            fresh = ann.state()["kernel_choice"]["kernel_id"]
            assert fresh != kernel_id and gateway.kernel_ids() == [fresh]
        status, events = hub.api(
            "GET", f"/api/sessions/{s['id']}/recording/events", token=s["view_token"]
        )
        assert status == 200 and gateway.token not in json.dumps(events)
        hub.stop()
        assert gateway.kernel_ids() == []  # a graceful stop shuts the remote kernel down
        assert gateway.token not in hub.log()
