"""Ctrl-S saves now (not the browser's dialog) and the header says how things stand: syncing
while edits are on their way, "Saved hh:mm" after a save, offline with the changes kept."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser]


def test_ctrl_s_saves_and_the_indicator_says_so(hub: Any, notebook_session: Any, join: Any) -> None:
    session = notebook_session(["x = 1"])
    ada = join(session["edit_url"], "Ada")
    cy = join(session["view_url"], "Cy")
    indicator = ada.page.locator(".save-indicator")
    expect(indicator).to_have_text("All changes synced")

    ada.type_at_end(0, "\nsaved_by_ctrl_s = 2")
    ada.page.keyboard.press("Control+s")
    expect(indicator).to_have_text(re.compile(r"^Saved \d\d:\d\d$"))
    expect(indicator).to_have_attribute("data-tone", "saved")
    on_disk = json.loads((hub.root / "nb.ipynb").read_text())
    assert "".join(on_disk["cells"][0]["source"]) == "x = 1\nsaved_by_ctrl_s = 2"
    ada.screenshot("save-saved")

    # More typing: syncing, then synced (the hub has it; it writes the file by itself).
    ada.page.keyboard.type("3")
    expect(indicator).to_have_text(re.compile("Syncing…|All changes synced"))
    expect(indicator).to_have_text("All changes synced")

    # Offline: the changes are kept, and said to be.
    ada.context.set_offline(True)
    expect(indicator).to_have_text("Offline — changes kept")
    ada.page.keyboard.type("4")
    ada.screenshot("save-offline")
    ada.context.set_offline(False)
    expect(indicator).to_have_text("All changes synced")

    # A viewer has no indicator, and Ctrl-S does nothing (and no dialog either).
    expect(cy.page.locator(".save-indicator")).to_have_count(0)
    cy.page.locator(".cells").click()
    cy.page.keyboard.press("Control+s")
    for who in (ada, cy):
        who.assert_no_page_errors()
