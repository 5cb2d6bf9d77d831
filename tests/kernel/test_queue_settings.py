"""Session settings of the shared kernel: `fair` queue order and the input() timeout."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from collabd.client import ClientError, NotebookClient
from tests.support.hubproc import HubFactory, HubProcess
from tests.support.kernel import WAIT, finished, last_run, module_hub, new_cells, queue_cells

pytestmark = pytest.mark.kernel
INPUT_TIMEOUT_S = 3


@pytest.fixture(scope="module")
def fair_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    env = {"COLLABD_QUEUE_ORDER": "fair", "COLLABD_INPUT_TIMEOUT_S": str(INPUT_TIMEOUT_S)}
    with module_hub(tmp_path_factory, env) as hub:
        yield hub


async def test_fair_order_takes_turns_across_participants(fair_hub: HubProcess) -> None:
    s = fair_hub.create_session("fair.ipynb")
    carol = NotebookClient.from_link(s["edit_url"], name="carol")
    alice = NotebookClient.from_link(s["edit_url"], name="alice")
    bob = NotebookClient.from_link(s["edit_url"], name="bob")
    async with carol, alice, bob:
        blocker, a1, a2, a3, b1, show = await new_cells(
            carol,
            "import time; time.sleep(3); order = []",
            "order.append('a1')",
            "order.append('a2')",
            "order.append('a3')",
            "order.append('b1')",
            "print(order)",
        )
        await alice.wait_for(lambda: show in alice.cell_ids(), WAIT)
        await bob.wait_for(lambda: show in bob.cell_ids(), WAIT)
        await carol.run(blocker)
        await carol.wait_for(lambda: queue_cells(carol) == [(blocker, "running")], WAIT)
        await alice.run(a1, a2, a3)  # "run all" first ...
        await bob.run(b1)  # ... yet bob's single cell does not wait for all of it
        expected = [(a1, "queued"), (b1, "queued"), (a2, "queued"), (a3, "queued")]
        await bob.wait_for(lambda: queue_cells(bob) == [(blocker, "running"), *expected], WAIT)
        await carol.wait_for(lambda: all(finished(carol, c) for c in (a1, a2, a3, b1)), WAIT)
        await carol.run(show)
        await carol.wait_for(lambda: finished(carol, show), WAIT)
        assert carol.output_text(show) == "['a1', 'b1', 'a2', 'a3']\n"


async def test_unanswered_input_times_out_with_a_clear_error(fair_hub: HubProcess) -> None:
    s = fair_hub.create_session("timeout.ipynb")
    async with NotebookClient.from_link(s["edit_url"], name="ann") as ann:
        asks, after = await new_cells(ann, "answer = input('Anyone? ')", "print('still works')")
        request_id = (await ann.run(asks))["request_id"]
        await ann.wait_for(lambda: ann.state().get("input_request"), WAIT)
        await ann.wait_for(lambda: finished(ann, asks), WAIT)
        assert (last_run(ann, asks) or {})["status"] == "error"
        errors = [o for o in ann.outputs(asks) if o["output_type"] == "error"]
        assert [e["ename"] for e in errors] == ["InputTimeout"]
        assert f"{INPUT_TIMEOUT_S} s" in errors[0]["evalue"]
        assert ann.state().get("input_request") is None
        with pytest.raises(ClientError) as late:
            await ann.request("POST", "/input", {"request_id": request_id, "value": "me"})
        assert late.value.status == 409
        await ann.run(after)
        await ann.wait_for(lambda: finished(ann, after), WAIT)
        assert ann.output_text(after) == "still works\n"


async def test_a_password_answer_is_not_shown(fair_hub: HubProcess) -> None:
    s = fair_hub.create_session("password.ipynb")
    async with NotebookClient.from_link(s["edit_url"], name="ann") as ann:
        (cell,) = await new_cells(
            ann, "import getpass\nsecret = getpass.getpass('Password: ')\nprint(len(secret))"
        )
        request_id = (await ann.run(cell))["request_id"]
        asked = await ann.wait_for(lambda: ann.state().get("input_request"), WAIT)
        assert asked["password"] is True
        await ann.request("POST", "/input", {"request_id": request_id, "value": "hunter2"})
        await ann.wait_for(lambda: finished(ann, cell), WAIT)
        assert "hunter2" not in ann.output_text(cell)
        assert ann.output_text(cell).endswith("7\n")


async def test_a_full_queue_refuses_more_with_429(hub_factory: HubFactory) -> None:
    hub = hub_factory(env={"COLLABD_MAX_QUEUE_LENGTH": "2"})
    s = hub.create_session("full.ipynb")
    async with NotebookClient.from_link(s["edit_url"], name="eve") as eve:
        slow, quick = await new_cells(eve, "import time; time.sleep(2)", "1 + 1")
        await eve.run(slow, quick)
        with pytest.raises(ClientError) as refused:
            await eve.run(quick)
        assert refused.value.status == 429 and refused.value.error == "queue_full"
        await eve.wait_for(lambda: finished(eve, quick), WAIT)
        await eve.run(quick)  # room again once the queue drained
