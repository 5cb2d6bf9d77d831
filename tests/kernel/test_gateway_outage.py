"""A kernel host that goes away, and a hub that comes back: each with its own gateway and hub."""

from __future__ import annotations

import pytest

from collabd.client import NotebookClient
from tests.support.gateway import hosts_env, running_gateway, select, wait_kernel
from tests.support.kernel import WAIT, last_run, new_cells, running_hub, wait_finished

pytestmark = [pytest.mark.kernel, pytest.mark.slow]


async def test_a_gateway_killed_mid_run_is_reported_and_recovered_from() -> None:
    with running_gateway() as gateway:
        env = hosts_env(gateway, COLLABD_KERNEL_HOST_GRACE_S="3")
        with running_hub(env) as hub:
            s = hub.create_session("outage.ipynb")
            async with NotebookClient.from_link(s["edit_url"], name="ann") as ann:
                await select(ann, "gpu")
                slow, queued, after = await new_cells(
                    ann, "import time\ntime.sleep(60)", "print('never')", "print(6 * 7)"
                )
                await ann.run(slow)
                await ann.run(queued)
                await ann.wait_for(lambda: ann.cell(slow)["execution_state"] == "running", WAIT)
                gateway.kill9()
                run = await wait_finished(ann, slow)
                assert run["status"] == "error"
                errors = [o for o in ann.outputs(slow) if o["output_type"] == "error"]
                assert errors and errors[-1]["ename"] == "KernelDied"
                evalue = errors[-1]["evalue"]
                assert "'gpu' cannot be reached" in evalue and "more than 3 s" in evalue
                assert (await wait_finished(ann, queued))["status"] == "cancelled"
                info = await wait_kernel(ann, "gpu", "dead")
                assert "'gpu' cannot be reached" in info["reason"]
                assert str(gateway.port) not in info["reason"]

                gateway.start()  # the host is back, on the same address
                await ann.run(after)
                await wait_finished(ann, after)
                assert ann.output_text(after) == "42\n"
                assert (await wait_kernel(ann, "gpu"))["status"] == "idle"
            hub.stop()
            assert gateway.token not in hub.log()


async def test_after_a_hub_is_killed_its_gateway_kernel_is_reattached() -> None:
    with running_gateway() as gateway, running_hub(hosts_env(gateway)) as hub:
        s = hub.create_session("reattach.ipynb")
        async with NotebookClient.from_link(s["edit_url"], name="ann") as ann:
            await select(ann, "gpu")
            define, use = await new_cells(ann, "kept = 'defined before the kill'", "print(kept)")
            await ann.run(define)
            await wait_finished(ann, define)
            kernel_id = ann.state()["kernel_choice"]["kernel_id"]
            hub.kill9()
        assert kernel_id in gateway.kernel_ids()  # the remote kernel outlives the hub
        hub.start()
        async with NotebookClient.from_link(s["edit_url"], name="ann") as ann:
            await ann.run(use)
            await wait_finished(ann, use)
            assert ann.output_text(use) == "defined before the kill\n"
            assert ann.state()["kernel_choice"]["kernel_id"] == kernel_id
            assert (await wait_kernel(ann, "gpu"))["status"] == "idle"
        hub.stop()  # a graceful stop shuts the remote kernel down
        assert kernel_id not in gateway.kernel_ids()


TICKS = """import time
for i in range(16):
    print('tick', i, flush=True)
    time.sleep(0.5)
print('done')"""


async def test_a_run_in_flight_when_the_hub_is_killed_goes_on_after_the_restart() -> None:
    with running_gateway() as gateway, running_hub(hosts_env(gateway)) as hub:
        s = hub.create_session("inflight.ipynb")
        async with NotebookClient.from_link(s["edit_url"], name="ann") as ann:
            await select(ann, "gpu")
            ticks, after = await new_cells(ann, TICKS, "print('after')")
            await ann.run(ticks)
            await ann.wait_for(lambda: "tick 1\n" in ann.output_text(ticks), WAIT)
            kernel_id = ann.state()["kernel_choice"]["kernel_id"]
            assert ann.state()["kernel_choice"]["running"]["cell_id"] == ticks
            hub.kill9()
        hub.start()
        async with NotebookClient.from_link(s["edit_url"], name="bob") as bob:
            assert "done" not in bob.output_text(ticks)  # it was still running in the kernel
            await bob.run(after)  # queued behind the run that goes on
            run = await wait_finished(bob, ticks)
            assert run["status"] == "ok" and run["by"]["name"] == "ann"
            assert run["execution_count"] == 1  # the kernel's own answer to that request
            stdout = [o["text"] for o in bob.outputs(ticks) if o.get("name") == "stdout"]
            # what the kernel printed while no hub listened: the gateway buffered and replayed it
            assert "".join(stdout) == "".join(f"tick {i}\n" for i in range(16)) + "done\n"
            notes = [o for o in bob.outputs(ticks) if o.get("name") == "stderr"]
            assert len(notes) == 1 and "the hub restarted while this cell ran" in notes[0]["text"]
            assert (await wait_finished(bob, after))["status"] == "ok"
            assert bob.output_text(after) == "after\n"
            assert last_run(bob, after)["started"] >= run["ended"]  # type: ignore[index]
            choice = bob.state()["kernel_choice"]
            assert choice["kernel_id"] == kernel_id and "running" not in choice
        hub.stop()


async def test_a_run_in_flight_whose_kernel_is_gone_after_the_restart_is_cancelled() -> None:
    with running_gateway() as gateway, running_hub(hosts_env(gateway)) as hub:
        s = hub.create_session("gone.ipynb")
        async with NotebookClient.from_link(s["edit_url"], name="ann") as ann:
            await select(ann, "gpu")
            (ticks,) = await new_cells(ann, TICKS)
            await ann.run(ticks)
            await ann.wait_for(lambda: "tick 1\n" in ann.output_text(ticks), WAIT)
            kernel_id = ann.state()["kernel_choice"]["kernel_id"]
            hub.kill9()
        assert gateway.api("DELETE", f"/api/kernels/{kernel_id}")[0] == 204
        hub.start()
        async with NotebookClient.from_link(s["edit_url"], name="bob") as bob:
            run = await wait_finished(bob, ticks)
            assert run["status"] == "cancelled"
            assert "done" not in bob.output_text(ticks)
            await wait_kernel(bob, "gpu")  # a fresh kernel on the same host
            choice = bob.state()["kernel_choice"]
            assert choice["kernel_id"] != kernel_id and "running" not in choice
            await bob.run(ticks)
            await bob.wait_for(lambda: "done" in bob.output_text(ticks), WAIT)
            assert (await wait_finished(bob, ticks))["status"] == "ok"
        hub.stop()
