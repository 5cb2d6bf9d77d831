"""Edits made offline merge with everyone else's when the connection returns."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import WAIT_MS, wait_until

pytestmark = pytest.mark.browser


def test_offline_edits_merge_on_reconnect(notebook_session: Any, join: Any) -> None:
    session = notebook_session(["a = 1", "b = 2"])
    ada = join(session["edit_url"], "Ada")
    bob = join(session["edit_url"], "Bob")
    status = bob.page.locator(".connection")
    expect(status).to_have_attribute("data-status", "connected")

    bob.context.set_offline(True)
    expect(status).to_have_attribute("data-status", "offline", timeout=WAIT_MS)
    bob.screenshot("offline-bob")

    # Both edit while apart: Bob offline in cell 1, Ada online in cells 1 and 2.
    bob.type_at_end(0, "\nbob_offline = 1")
    ada.type_at_end(0, "  # ada")
    ada.type_at_end(1, "\nada_online = 2")
    ada.page.wait_for_timeout(1000)
    assert "ada_online" not in bob.source(1)
    assert "bob_offline" not in ada.source(0)

    bob.context.set_offline(False)
    expect(status).to_have_attribute("data-status", "connected", timeout=WAIT_MS)
    for who in (ada, bob):
        wait_until(
            lambda who=who: (
                "bob_offline = 1" in who.source(0)
                and "# ada" in who.source(0)
                and who.source(1) == "b = 2\nada_online = 2"
            ),
            f"merged notebook at {who.name}",
        )
    assert ada.source(0) == bob.source(0)
    expect(ada.page.locator(".participant", has_text="Bob")).to_be_visible(timeout=WAIT_MS)
    bob.screenshot("offline-merged-bob")
    ada.assert_no_page_errors()
    bob.assert_no_page_errors()
