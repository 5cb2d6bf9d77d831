"""Completion (Tab) and inspection (Shift-Tab) from the shared kernel, beside the run queue."""

from __future__ import annotations

from typing import Any

import pytest

from collabd.client import NotebookClient
from tests.support.hubproc import HubProcess

pytestmark = [pytest.mark.kernel]
WAIT = 60.0


def ask(hub: HubProcess, s: dict[str, Any], what: str, body: Any, token: str) -> tuple[int, Any]:
    return hub.api("POST", f"/api/sessions/{s['id']}/{what}", body, token=s[f"{token}_token"])


def idle(nb: NotebookClient, cell: str) -> bool:
    kernel = nb.state().get("kernel") or {}
    return nb.cell(cell).get("execution_state") == "idle" and kernel.get("status") == "idle"


async def test_completion_and_inspection_come_from_the_shared_kernel(hub: HubProcess) -> None:
    s = hub.create_session("complete.ipynb")
    status, body = ask(hub, s, "complete", {"code": "pri", "cursor_pos": 3}, "edit")
    assert status == 409 and body["error"] == "no_kernel"  # never starts a kernel by itself
    async with NotebookClient.from_link(s["edit_url"], name="ann") as ann:
        cell = ann.cell_ids()[0]
        ann.set_source(cell, "import os\nshared_value_xyz = 41")
        await ann.run(cell)
        await ann.wait_for(lambda: idle(ann, cell), WAIT)
        before = await ann.notebook_json()

        status, body = ask(hub, s, "complete", {"code": "shared_val"}, "edit")
        assert status == 200 and "shared_value_xyz" in body["matches"]
        assert (body["cursor_start"], body["cursor_end"]) == (0, len("shared_val"))
        status, body = ask(hub, s, "complete", {"code": "os.pa", "cursor_pos": 5}, "edit")
        assert status == 200 and {"os.path", "path"} & set(body["matches"])
        status, body = ask(hub, s, "inspect", {"code": "len(", "cursor_pos": 3}, "edit")
        assert status == 200 and body["found"] and "text/plain" in body["data"]

        # a viewer cannot use the kernel, even to complete
        status, body = ask(hub, s, "complete", {"code": "pri"}, "view")
        assert status == 403
        status, body = ask(hub, s, "complete", {"code": "abc", "cursor_pos": 9}, "edit")
        assert status == 422
        # nothing of it reached the document
        assert await ann.notebook_json() == before

        # while a cell runs the kernel cannot answer: a clear refusal at once, not a hang
        ann.set_source(cell, "import time\ntime.sleep(3)\nprint('slept')")
        await ann.run(cell)
        await ann.wait_for(lambda: ann.cell(cell).get("execution_state") == "running", WAIT)
        status, body = ask(hub, s, "complete", {"code": "shared_val"}, "edit")
        assert status == 409 and body["error"] == "kernel_busy"
        await ann.wait_for(lambda: "slept" in ann.output_text(cell), WAIT)
        # and the side requests left nothing behind that a later run could mistake for its own
        ann.set_source(cell, "print(shared_value_xyz + 1)")
        await ann.run(cell)
        await ann.wait_for(lambda: ann.output_text(cell) == "42\n", WAIT)
