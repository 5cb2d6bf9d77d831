"""A stop asked by SIGTERM or SIGINT: the hub hands over first, then exits 0."""

from __future__ import annotations

import json
import signal

import pytest

from collabd.client import NotebookClient
from tests.support.hubproc import HubFactory

pytestmark = [pytest.mark.slow]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_a_stop_stores_everything_tells_clients_and_exits_0(
    hub_factory: HubFactory, sig: signal.Signals
) -> None:
    hub = hub_factory({"COLLABD_SAVE_DELAY_S": "60", "COLLABD_SAVE_MAX_DELAY_S": "120"})
    s = hub.create_session("stop.ipynb")
    async with NotebookClient(hub.base, s["id"], s["edit_token"], name="ann") as ann:
        ann.insert_cell(0, "typed just before the stop")
        await ann.flush()
        assert hub.proc is not None
        hub.proc.send_signal(sig)
        await ann.wait_for(lambda: not ann.connected, 30)
        # the hub's own goodbye (1001, its reason), not the server's bare 1012
        assert ann.close_code == 1001 and ann.close_reason, ann.closed_because
        assert hub.proc.wait(30) == 0
    saved = json.loads((hub.root / "stop.ipynb").read_text(encoding="utf-8"))
    assert any("".join(c["source"]) == "typed just before the stop" for c in saved["cells"])
