"""A view link shows everything live but changes nothing, and says so."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import WAIT_MS, wait_until

pytestmark = pytest.mark.browser


def test_viewer_sees_live_edits_but_cannot_type(notebook_session: Any, join: Any, hub: Any) -> None:
    session = notebook_session(["x = 1", "y = 2"])
    ada = join(session["edit_url"], "Ada")
    viewer = join(session["view_url"], "Vera")

    expect(viewer.page.locator(".badge.view-only")).to_have_text("View only")
    expect(ada.page.locator(".badge.view-only")).to_have_count(0)
    # No run or cell controls for the viewer.
    expect(viewer.page.locator(".cell-tools")).to_have_count(0)
    expect(viewer.page.locator(".kernel-interrupt")).to_have_count(0)
    expect(viewer.page.locator(".add-cell-bar")).to_have_count(0)

    # Editors are read-only: typing changes nothing, locally or on the hub.
    editor = viewer.editor(0)
    expect(editor).to_have_attribute("contenteditable", "false", timeout=WAIT_MS)
    viewer.cell(0).locator(".cell-editor").click()
    viewer.page.keyboard.press("Control+End")
    viewer.page.keyboard.type("hacked = True")
    # Command-mode keys that would change the notebook do nothing either.
    viewer.page.keyboard.press("Escape")
    viewer.page.keyboard.press("b")
    viewer.page.keyboard.press("d")
    viewer.page.keyboard.press("d")
    assert viewer.source(0) == "x = 1"
    assert viewer.cell_count() == 2

    # ... while the editor's changes arrive live.
    ada.type_at_end(1, "\nz = 3")
    expect(viewer.editor(1)).to_contain_text("z = 3", timeout=WAIT_MS)
    expect(ada.page.locator(".participant", has_text="Vera")).to_be_visible(timeout=WAIT_MS)
    viewer.screenshot("view-only")

    status, _nb = hub.api(
        "GET", f"/api/sessions/{session['id']}/notebook", token=session["view_token"]
    )
    assert status == 200

    def hub_sources() -> list[str]:
        cells = hub.api("GET", f"/api/sessions/{session['id']}/notebook")[1]["cells"]
        return ["".join(c["source"]) for c in cells]  # nbformat may split source into lines

    wait_until(lambda: hub_sources() == ["x = 1", "y = 2\nz = 3"], "edit on the hub, and only that")
    viewer.assert_no_page_errors()
