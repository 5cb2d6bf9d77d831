"""The page from a 360 px phone to a wide screen: nothing scrolls sideways, the panels sit in a
drawer, the header fits; dark mode follows the system."""

from __future__ import annotations

from typing import Any

import nbformat
import pytest
from playwright.sync_api import expect

from tests.conftest import HubProcess

from .conftest import code, markdown

pytestmark = [pytest.mark.browser]

LONG_LINE = "values = [" + ", ".join(str(i * 1000) for i in range(60)) + "]"
TABLE = "| " + " | ".join(f"column {i}" for i in range(12)) + " |\n|" + "---|" * 12 + "\n"


def no_sideways_scroll(who: Any) -> bool:
    return bool(
        who.page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    )


def test_phone_layout_and_dark_mode(hub: HubProcess, notebook_session: Any, join: Any) -> None:
    wide = nbformat.v4.new_output("stream", name="stdout", text="x" * 400 + "\n")
    session = notebook_session(
        [
            markdown("# A title\n\n" + TABLE + "\n$$\\sum_{i=0}^{n} i^2$$"),
            code(LONG_LINE, outputs=[wide]),
        ]
    )
    ada = join(session["edit_url"], "Ada", width=360, height=740)
    bob = join(session["edit_url"], "Bob")
    expect(ada.page.locator(".participants-panel")).to_be_hidden()
    assert no_sideways_scroll(ada)
    # Every header control is on screen.
    for button in ada.page.locator(".topbar button:visible").all():
        box = button.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360, box
    ada.screenshot("layout-360")

    # The panels open as a drawer, and close again.
    ada.page.locator(".drawer-toggle").click()
    expect(ada.page.locator(".participants-panel")).to_be_visible()
    expect(ada.page.locator(".participant", has_text="Bob")).to_be_visible()
    assert no_sideways_scroll(ada)
    ada.screenshot("layout-360-drawer")
    ada.page.locator(".drawer-close").click()
    expect(ada.page.locator(".participants-panel")).to_be_hidden()

    # Editing works at that width: type into the cell.
    ada.type_at_end(1, "  # phone")
    expect(bob.editor(1)).to_contain_text("# phone")
    assert no_sideways_scroll(ada)

    # Dark mode from the system setting.
    ada.page.emulate_media(color_scheme="dark")
    background = ada.page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(21, 24, 29)", background
    ada.screenshot("layout-360-dark")
    bob.page.emulate_media(color_scheme="dark")
    bob.screenshot("layout-wide-dark")

    # The playback page fits too.
    replay = join(
        f"{hub.base}/s/{session['id']}/replay#token={session['view_token']}", None, width=360
    )
    assert no_sideways_scroll(replay)
    replay.screenshot("layout-360-replay")
    for who in (ada, bob, replay):
        who.assert_no_page_errors()
