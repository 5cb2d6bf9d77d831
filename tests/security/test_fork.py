"""Finding 5: a fork always creates a new session, even where its name has one already."""

from __future__ import annotations

import time

import pytest

from collabd.api.recording import moment_name
from collabd.client import NotebookClient
from tests.support.hubproc import HubProcess

pytestmark = [pytest.mark.slow]


async def test_fork_never_returns_another_sessions_tokens(hub: HubProcess) -> None:
    s = hub.create_session("fork.ipynb")
    async with NotebookClient(hub.base, s["id"], s["edit_token"]) as nb:
        nb.insert_cell(0, "x = 1")
        await nb.notebook_json()  # the hub has the edit
    t = time.time()
    # another session already owns the name the fork would take; its file is gone
    victim = hub.create_session(moment_name("fork.ipynb", t))
    (hub.root / victim["path"]).unlink()
    status, forked = hub.api("POST", f"/api/sessions/{s['id']}/fork", {"t": t}, s["edit_token"])
    assert status == 201, forked
    assert forked["id"] not in (victim["id"], s["id"])
    assert victim["edit_token"] not in str(forked) and victim["view_token"] not in str(forked)
    assert forked["path"] != victim["path"]
    assert (hub.root / forked["path"]).is_file()
