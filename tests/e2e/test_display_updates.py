"""HTML output updated through a display handle several times a second shows for everyone,
updated in place in the same frame, never an empty one."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import WAIT_MS, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.kernel]

LONG = 90_000  # the first run starts the kernel

SOURCE = """\
import time
from IPython.display import HTML, display
h = display(HTML('<b id="n">0</b>'), display_id=True)
for i in range(1, 151):
    time.sleep(0.2)
    h.update(HTML(f'<b id="n">{i}</b>'))
"""


def shown_number(who: Any) -> int | None:
    text = who.page.frame_locator("iframe.output-html").locator("#n").text_content(timeout=WAIT_MS)
    return int(text) if text and text.strip().isdigit() else None


def test_display_updates_render_for_everyone(notebook_session: Any, join: Any) -> None:
    session = notebook_session([SOURCE])
    ada = join(session["edit_url"], "Ada")
    bob = join(session["view_url"], "Bob")
    ada.cell(0).locator(".tool-run").click()

    for who in (ada, bob):
        expect(who.cell(0).locator("iframe.output-html")).to_have_count(1, timeout=LONG)
        # Mark the frame: an update must reach this very frame, not a new one loading blank.
        who.cell(0).locator("iframe.output-html").evaluate("f => { f.dataset.mark = 'first' }")
    for who in (ada, bob):
        first = wait_until(lambda who=who: (shown_number(who) or 0) >= 3, "a number", timeout=60)
        assert first
        seen = shown_number(who)
        assert seen is not None
        # Later numbers arrive, into the same frame, while the loop still runs.
        wait_until(
            lambda who=who, seen=seen: (shown_number(who) or 0) > seen, "a later number", timeout=60
        )
        frame = who.cell(0).locator("iframe.output-html")
        expect(frame).to_have_count(1)
        expect(frame).to_have_attribute("data-mark", "first")
        assert who.cell(0).get_attribute("data-execution-state") == "running"
        height = frame.evaluate("f => f.getBoundingClientRect().height")
        assert height >= 16, height
    ada.screenshot("display-updates-ada")
    bob.screenshot("display-updates-bob")
    ada.page.keyboard.press("Escape")
    for who in (ada, bob):
        who.assert_no_page_errors()
