"""Searching the recording finds runs and chat messages together, by time (a real hub process
and a real ipykernel)."""

from __future__ import annotations

import pytest

from collabd.client import NotebookClient
from tests.support.hubproc import HubProcess
from tests.support.kernel import new_cells, wait_finished

pytestmark = pytest.mark.kernel


async def test_search_finds_runs_and_messages_in_time_order(khub: HubProcess) -> None:
    s = khub.create_session("search.ipynb")
    base = f"/api/sessions/{s['id']}"
    ann = NotebookClient.from_link(s["edit_url"], name="Ann")
    async with ann:
        said = await ann.request("POST", "/chat", {"text": "where is the Needle defined?"})
        (cell,) = await new_cells(ann, "needle = 42\nprint('found it')")
        await ann.run(cell)
        assert (await wait_finished(ann, cell))["status"] == "ok"
        answer = await ann.request("POST", "/chat", {"text": "cell 1 sets needle", "name": "Bo"})
        hidden = await ann.request("POST", "/chat", {"text": "needle rude words"})
        await ann.request("POST", "/chat", {"text": "unrelated"})
    khub.api("POST", f"{base}/chat/{hidden['message']['id']}/hide", {}, s["edit_token"])

    status, found = khub.api("GET", f"{base}/recording/search?q=NEEDLE", token=s["view_token"])
    assert status == 200, found
    assert [r["kind"] for r in found["results"]] == ["message", "run", "message"]
    assert found["results"][0]["message"]["id"] == said["message"]["id"]
    assert found["results"][1]["run"]["cell_id"] == cell
    assert found["results"][1]["t"] == found["results"][1]["run"]["started"]
    assert found["results"][2]["message"]["id"] == answer["message"]["id"]
    assert found["results"][2]["t"] == answer["message"]["at"]

    status, by_name = khub.api("GET", f"{base}/recording/search?q=bo", token=s["view_token"])
    assert [r["message"]["text"] for r in by_name["results"]] == ["cell 1 sets needle"]
    status, error = khub.api("GET", f"{base}/recording/search?q=", token=s["view_token"])
    assert (status, error["error"]) == (400, "bad_request")
