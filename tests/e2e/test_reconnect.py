"""The hub goes away and comes back: the page says so, keeps edits, and merges them on return."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import WAIT_MS, wait_until

pytestmark = pytest.mark.browser


def test_edits_during_a_hub_restart_are_kept(notebook_session: Any, join: Any, hub: Any) -> None:
    session = notebook_session(["a = 1"])
    ada = join(session["edit_url"], "Ada")
    status = ada.page.locator(".connection")
    expect(status).to_have_attribute("data-status", "connected")

    hub.stop()
    expect(status).to_have_attribute("data-status", "reconnecting", timeout=WAIT_MS)
    expect(status).to_contain_text("Reconnecting")
    ada.type_at_end(0, "\nwhile_away = 2")
    ada.screenshot("reconnecting-ada")

    hub.start()
    expect(status).to_have_attribute("data-status", "connected", timeout=WAIT_MS * 2)

    def hub_source() -> str:
        status_code, nb = hub.api("GET", f"/api/sessions/{session['id']}/notebook")
        return "".join(nb["cells"][0]["source"]) if status_code == 200 else ""

    wait_until(lambda: hub_source() == "a = 1\nwhile_away = 2", "the edit on the restarted hub")
    bob = join(session["edit_url"], "Bob")
    wait_until(lambda: bob.source(0) == "a = 1\nwhile_away = 2", "the edit at a newcomer")
    assert ada.cell_count() == 1, "no duplicated content after the reconnect"
    ada.assert_no_page_errors()
