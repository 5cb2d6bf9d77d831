"""The shared kernel against a real hub process and a real ipykernel (default settings).

One hub serves the whole module (starting kernels is the slow part); each test makes its own
session, so tests share no notebook and no kernel.
"""

from __future__ import annotations

from typing import Any

import pytest

from collabd.client import ClientError, NotebookClient
from tests.support.hubproc import HubProcess
from tests.support.kernel import (
    WAIT,
    finished,
    kernel_status,
    last_run,
    new_cells,
    queue_cells,
    wait_finished,
)

pytestmark = pytest.mark.kernel


def session(hub: HubProcess, name: str) -> dict[str, Any]:
    return hub.create_session(f"{name}.ipynb")


async def test_dependent_cells_from_two_editors_seen_in_order_by_a_viewer(
    khub: HubProcess,
) -> None:
    s = session(khub, "pair")
    alice = NotebookClient.from_link(s["edit_url"], name="alice")
    bob = NotebookClient.from_link(s["edit_url"], name="bob")
    viewer = NotebookClient.from_link(s["view_url"], name="viewer")
    async with alice, bob, viewer:
        first, second = await new_cells(alice, "import time\ntime.sleep(3)\ny = 41", "print(y + 1)")
        await bob.wait_for(lambda: second in bob.cell_ids(), WAIT)
        await alice.run(first)
        await bob.run(second)
        for nb in (alice, bob, viewer):  # everyone sees who is running and who waits
            await nb.wait_for(
                lambda nb=nb: queue_cells(nb) == [(first, "running"), (second, "queued")], WAIT
            )
            await nb.wait_for(lambda nb=nb: nb.cell(second)["execution_state"] == "queued", WAIT)
            assert nb.cell(first)["execution_state"] == "running"
            assert [q["by"]["name"] for q in nb.state()["queue"]] == ["alice", "bob"]
        await viewer.wait_for(lambda: finished(viewer, second), WAIT)
        assert viewer.output_text(second) == "42\n"
        one, two = last_run(viewer, first), last_run(viewer, second)
        assert one and two and one["status"] == two["status"] == "ok"
        assert one["by"]["name"] == "alice" and two["by"]["name"] == "bob"
        assert int(two["by"]["client_id"]) == bob.client_id
        assert one["ended"] <= two["started"]
        assert viewer.cell(second)["execution_count"] == viewer.cell(first)["execution_count"] + 1
        await viewer.wait_for(lambda: not queue_cells(viewer) and kernel_status(viewer) == "idle")


async def test_outputs_land_after_the_runner_disconnects(khub: HubProcess) -> None:
    s = session(khub, "leave")
    runner = NotebookClient.from_link(s["edit_url"], name="runner")
    async with NotebookClient.from_link(s["edit_url"], name="stays") as stays:
        async with runner:
            (cell,) = await new_cells(
                runner,
                "import time\nfor i in range(3):\n    print(i, flush=True)\n    time.sleep(1)",
            )
            await runner.run(cell)
            await runner.wait_for(lambda: runner.cell(cell)["execution_state"] == "running", WAIT)
        assert not runner.connected
        await wait_finished(stays, cell)
        assert stays.output_text(cell) == "0\n1\n2\n"
        assert (last_run(stays, cell) or {})["by"]["name"] == "runner"
    async with NotebookClient.from_link(s["edit_url"], name="back") as back:
        assert back.output_text(cell) == "0\n1\n2\n"
    status, nb = khub.api("GET", f"/api/sessions/{s['id']}/notebook", token=s["view_token"])
    assert status == 200
    saved = next(c for c in nb["cells"] if c["id"] == cell)
    assert "".join(saved["outputs"][0]["text"]) == "0\n1\n2\n"


async def test_the_code_run_is_the_source_when_run_was_pressed(khub: HubProcess) -> None:
    s = session(khub, "source")
    async with NotebookClient.from_link(s["edit_url"], name="ed") as ed:
        blocker, cell = await new_cells(ed, "import time\ntime.sleep(2)", "print('as requested')")
        await ed.run(blocker)
        await ed.run(cell)
        await ed.wait_for(lambda: ed.cell(cell)["execution_state"] == "queued", WAIT)
        ed.set_source(cell, "print('edited while waiting')")
        await ed.wait_for(lambda: finished(ed, cell), WAIT)
        assert ed.output_text(cell) == "as requested\n"
        assert ed.source(cell) == "print('edited while waiting')"


async def test_an_error_cancels_the_rest_of_its_batch_only(khub: HubProcess) -> None:
    s = session(khub, "batch")
    async with (
        NotebookClient.from_link(s["edit_url"], name="ann") as ann,
        NotebookClient.from_link(s["edit_url"], name="ben") as ben,
    ):
        a, b, c = await new_cells(
            ann, "import time; time.sleep(1); print('a')", "1/0", "print('c')"
        )
        (d,) = await new_cells(ben, "print('d')")
        reply = await ann.run(a, b, c)
        assert len(reply["request_ids"]) == 3 and reply["batch_id"]
        await ben.run(d)
        await ann.wait_for(lambda: finished(ann, d), WAIT)
        assert ann.output_text(a) == "a\n"
        assert (last_run(ann, b) or {})["status"] == "error"
        assert "ZeroDivisionError" in ann.output_text(b)
        assert (last_run(ann, c) or {})["status"] == "cancelled"
        assert ann.outputs(c) == [] and ann.cell(c)["execution_state"] == "idle"
        assert (last_run(ann, d) or {})["status"] == "ok" and ann.output_text(d) == "d\n"
        event = ann.state()["last_event"]
        assert event["kind"] == "cancelled" and "batch" in event["detail"]


async def test_a_queued_request_is_cancelled_by_another_editor(khub: HubProcess) -> None:
    s = session(khub, "cancel")
    async with (
        NotebookClient.from_link(s["edit_url"], name="ann") as ann,
        NotebookClient.from_link(s["edit_url"], name="ben") as ben,
    ):
        blocker, cell = await new_cells(ann, "import time; time.sleep(2)", "print('never')")
        await ann.run(blocker)
        request_id = (await ann.run(cell))["request_id"]
        await ben.wait_for(
            lambda: queue_cells(ben) == [(blocker, "running"), (cell, "queued")], WAIT
        )
        with pytest.raises(ClientError) as running:
            await ben.request("DELETE", f"/queue/{ben.state()['queue'][0]['request_id']}")
        assert running.value.status == 409 and running.value.error == "running"
        await ben.request("DELETE", f"/queue/{request_id}", {"by": {"name": "ben"}})
        await ann.wait_for(lambda: finished(ann, blocker), WAIT)
        assert (last_run(ann, cell) or {})["status"] == "cancelled"
        assert ann.outputs(cell) == [] and ann.cell(cell)["execution_state"] == "idle"
        assert "ben" in ann.state()["last_event"]["detail"]
        with pytest.raises(ClientError) as again:
            await ben.request("DELETE", f"/queue/{request_id}")
        assert again.value.status == 409 and again.value.error == "finished"
        with pytest.raises(ClientError) as unknown:
            await ben.request("DELETE", "/queue/nope")
        assert unknown.value.status == 404


async def test_interrupt_stops_an_endless_loop_and_the_kernel_keeps_its_state(
    khub: HubProcess,
) -> None:
    s = session(khub, "interrupt")
    async with NotebookClient.from_link(s["edit_url"], name="ann") as ann:
        setup, loop, after = await new_cells(ann, "kept = 'still here'", "while True: pass", "kept")
        await ann.run(setup)
        await ann.run(loop)
        await ann.wait_for(lambda: ann.cell(loop)["execution_state"] == "running", WAIT)
        await ann.request("POST", "/kernel/interrupt", {"by": {"name": "ann"}})
        run = await wait_finished(ann, loop)
        assert run["status"] == "error" and "KeyboardInterrupt" in ann.output_text(loop)
        assert ann.state()["last_event"]["kind"] == "interrupted"
        await ann.run(after)
        await wait_finished(ann, after)
        assert ann.output_text(after) == "'still here'"


async def test_restart_cancels_the_queue_and_everyone_sees_why(khub: HubProcess) -> None:
    s = session(khub, "restart")
    ann = NotebookClient.from_link(s["edit_url"], name="ann")
    viewer = NotebookClient.from_link(s["view_url"], name="viewer")
    async with ann, viewer:
        setup, slow, queued, check = await new_cells(
            ann, "x = 1", "import time; time.sleep(30)", "print('never')", "print('x' in dir())"
        )
        await ann.run(setup)
        await ann.run(slow)
        await ann.run(queued)
        await ann.wait_for(lambda: ann.cell(slow)["execution_state"] == "running", WAIT)
        await ann.request("POST", "/kernel/restart", {"by": {"name": "ann"}})
        await viewer.wait_for(lambda: kernel_status(viewer) == "idle", WAIT)
        event = viewer.state()["last_event"]
        assert event["kind"] == "restart" and "ann" in event["detail"]
        assert not queue_cells(viewer)
        assert (last_run(viewer, slow) or {})["status"] == "cancelled"
        assert (last_run(viewer, queued) or {})["status"] == "cancelled"
        assert viewer.cell(queued)["execution_state"] == "idle"
        await ann.run(check)
        await wait_finished(ann, check)
        assert ann.output_text(check) == "False\n"  # a fresh kernel


async def test_kernel_death_is_reported_and_the_kernel_comes_back(khub: HubProcess) -> None:
    other = session(khub, "bystander")
    s = session(khub, "dies")
    async with NotebookClient.from_link(other["edit_url"], name="by") as by:
        (keep,) = await new_cells(by, "survivor = 7")
        await by.run(keep)
        await wait_finished(by, keep)
        async with NotebookClient.from_link(s["edit_url"], name="ann") as ann:
            die, queued, after = await new_cells(
                ann, "import os, time; time.sleep(1); os._exit(1)", "print('never')", "print(1+1)"
            )
            await ann.run(die)
            await ann.run(queued)
            run = await wait_finished(ann, die)
            assert run["status"] == "error"
            errors = [o for o in ann.outputs(die) if o["output_type"] == "error"]
            assert errors and errors[-1]["ename"] == "KernelDied"
            assert "died" in errors[-1]["evalue"]
            cancelled = await wait_finished(ann, queued)
            assert cancelled["status"] == "cancelled"
            assert "died" in ann.state()["last_event"]["detail"]
            await ann.wait_for(lambda: kernel_status(ann) == "idle", WAIT)
            await ann.run(after)
            await wait_finished(ann, after)
            assert ann.output_text(after) == "2\n"
        (check,) = await new_cells(by, "print(survivor)")
        await by.run(check)
        await wait_finished(by, check)
        assert by.output_text(check) == "7\n"


async def test_input_is_asked_in_the_document_and_answered(khub: HubProcess) -> None:
    s = session(khub, "input")
    ann = NotebookClient.from_link(s["edit_url"], name="ann")
    viewer = NotebookClient.from_link(s["view_url"], name="viewer")
    async with ann, viewer:
        (cell,) = await new_cells(ann, "name = input('Your name? ')\nprint('hello', name)")
        request_id = (await ann.run(cell))["request_id"]
        asked = await viewer.wait_for(lambda: viewer.state().get("input_request"), WAIT)
        assert asked["prompt"] == "Your name? " and asked["request_id"] == request_id
        assert asked["cell_id"] == cell and asked["by"]["name"] == "ann"
        assert asked["password"] is False
        with pytest.raises(ClientError) as denied:
            await viewer.request("POST", "/input", {"request_id": request_id, "value": "eve"})
        assert denied.value.status == 403
        with pytest.raises(ClientError) as wrong:
            await ann.request("POST", "/input", {"request_id": "other", "value": "x"})
        assert wrong.value.status == 409
        await ann.request("POST", "/input", {"request_id": request_id, "value": "Ada"})
        await viewer.wait_for(lambda: finished(viewer, cell), WAIT)
        assert viewer.output_text(cell) == "Your name? Ada\nhello Ada\n"
        assert viewer.state().get("input_request") is None


async def test_a_million_lines_stay_bounded_and_edits_keep_flowing(khub: HubProcess) -> None:
    s = session(khub, "flood")
    runner = NotebookClient.from_link(s["edit_url"], name="runner")
    typist = NotebookClient.from_link(s["edit_url"], name="typist")
    watcher = NotebookClient.from_link(s["view_url"], name="watcher")
    async with runner, typist, watcher:
        flood, notes = await new_cells(runner, "for i in range(1_000_000):\n    print(i)", "")
        await typist.wait_for(lambda: notes in typist.cell_ids(), WAIT)
        updates: list[int] = []
        watcher.doc.observe(lambda event: updates.append(len(event.update)))
        await runner.run(flood)
        await watcher.wait_for(lambda: watcher.output_text(flood), WAIT)
        seen_while_running = 0
        for n in range(20):
            typist.insert_text(notes, len(typist.source(notes)), f"{n};")
            await watcher.wait_for(lambda n=n: f"{n};" in watcher.source(notes), WAIT)
            if watcher.cell(flood)["execution_state"] == "running":
                seen_while_running += 1
        await watcher.wait_for(lambda: finished(watcher, flood), 180)
        assert seen_while_running > 0  # typing reached others while the flood ran
        text = watcher.output_text(flood)
        limit = 1024 * 1024
        assert text.startswith("0\n1\n2\n") and len(text.encode()) <= limit + 1000
        notices = [o for o in watcher.outputs(flood) if o.get("metadata", {}).get("collabd")]
        assert len(notices) == 1 and "truncated" in notices[0]["data"]["text/plain"]
        assert sum(updates) < 3 * limit  # the document did not grow with the flood
        assert len(updates) < 2000  # chunks were coalesced, not one update per line
        assert watcher.source(notes) == "".join(f"{n};" for n in range(20))


async def test_displays_update_and_clear_as_in_jupyter(khub: HubProcess) -> None:
    s = session(khub, "displays")
    async with NotebookClient.from_link(s["edit_url"], name="ann") as ann:
        shown, progress = await new_cells(
            ann,
            "from IPython.display import display\n"
            "h = display('loading', display_id=True)\nprint('between')\nh.update('loaded')",
            "from IPython.display import clear_output\n"
            "for i in range(50):\n    clear_output(wait=True)\n    print(f'{i} of 49')",
        )
        await ann.run(shown, progress)
        await ann.wait_for(lambda: finished(ann, progress), WAIT)
        outputs = ann.outputs(shown)
        assert [o["output_type"] for o in outputs] == ["display_data", "stream"]
        assert outputs[0]["data"]["text/plain"] == "'loaded'"
        assert ann.output_text(progress) == "49 of 49\n"
    status, nb = khub.api("GET", f"/api/sessions/{s['id']}/notebook", token=s["view_token"])
    assert status == 200 and len(nb["cells"]) == 3  # the hub's outputs make a valid nbformat


async def test_runs_and_kernel_changes_are_recorded(khub: HubProcess) -> None:
    s = session(khub, "recorded")
    async with NotebookClient.from_link(s["edit_url"], name="ann") as ann:
        ok, bad = await new_cells(ann, "print('fine')", "raise ValueError('nope')")
        reply = await ann.run(ok, bad)
        await ann.wait_for(lambda: finished(ann, bad), WAIT)
        status, body = khub.api(
            "GET", f"/api/sessions/{s['id']}/recording/events", token=s["view_token"]
        )
    assert status == 200, body
    events = [
        {"type": e["kind"], **e["data"]}
        for e in body["events"]
        if e["kind"] in ("run_queued", "run", "kernel")
    ]
    queued = [e for e in events if e["type"] == "run_queued"]
    assert [e["request_id"] for e in queued] == reply["request_ids"]
    assert queued[0]["code"] == "print('fine')" and queued[0]["by"]["name"] == "ann"
    runs = {e["cell_id"]: e for e in events if e["type"] == "run"}
    assert runs[ok]["status"] == "ok" and runs[ok]["outputs"] == "fine\n"
    assert runs[bad]["status"] == "error" and "ValueError: nope" in runs[bad]["outputs"]
    assert runs[bad]["batch_id"] == reply["batch_id"] and runs[bad]["execution_count"] == 2
    assert runs[ok]["started"] <= runs[ok]["ended"] <= runs[bad]["started"]
    statuses = [e["status"] for e in events if e["type"] == "kernel"]
    assert statuses[:2] == ["starting", "idle"]
