"""Follow mode: the follower's view moves with the person they follow, until they act."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import WAIT_MS, Participant, wait_until

pytestmark = pytest.mark.browser


def in_view(who: Participant, index: int) -> bool:
    return bool(
        who.cell(index).evaluate(
            "el => el.getBoundingClientRect().bottom > 60"
            " && el.getBoundingClientRect().top < innerHeight"
        )
    )


def test_follow_mode_moves_the_followers_view(notebook_session: Any, join: Any) -> None:
    cells = [f"# cell {i}\n" + "\n".join(f"v{i}_{k} = {k}" for k in range(6)) for i in range(60)]
    session = notebook_session(cells)
    ada = join(session["edit_url"], "Ada")
    bob = join(session["edit_url"], "Bob")
    assert in_view(bob, 0) and not in_view(bob, 45)

    # Nobody follows Ada yet: her scrolling is not broadcast.
    own_scroll = "() => window.collabd.session.awareness.getLocalState().scroll ?? null"
    ada.page.mouse.wheel(0, 300)
    ada.page.wait_for_timeout(500)
    assert ada.page.evaluate(own_scroll) is None
    ada.page.evaluate("() => window.scrollTo(0, 0)")

    bob.page.locator(".participant", has_text="Ada").click()
    wait_until(lambda: ada.page.evaluate(own_scroll) is not None, "Ada publishing her scroll")
    expect(bob.page.locator(".follow-banner")).to_contain_text("Following Ada")
    expect(bob.page.locator(".participant.following")).to_contain_text("Ada")

    # Ada goes to cell 46 (scrolls there and works in it); Bob's view follows.
    ada.cell(45).scroll_into_view_if_needed()
    ada.cell(45).locator(".cell-prompt").click()
    expect(ada.cell(45)).to_have_class(re.compile(r"\bselected\b"))
    wait_until(lambda: in_view(bob, 45), "Bob's view at Ada's cell")
    expect(bob.page.locator(".participant", has_text="Ada")).to_contain_text("cell 46")
    expect(bob.cell(45).locator(".presence-chip", has_text="Ada")).to_be_visible(timeout=WAIT_MS)
    bob.screenshot("follow-bob")

    # Ada scrolls back up; Bob follows again.
    ada.page.evaluate("() => window.scrollTo(0, 0)")
    wait_until(lambda: in_view(bob, 0), "Bob's view back at the top")

    # Bob acts on his own: following stops, and Ada's moves no longer move him.
    bob.page.mouse.move(400, 400)
    bob.page.mouse.wheel(0, 200)
    expect(bob.page.locator(".follow-banner")).to_be_hidden()
    y = bob.page.evaluate("() => scrollY")
    ada.cell(30).scroll_into_view_if_needed()
    ada.cell(30).locator(".cell-prompt").click()
    ada.page.wait_for_timeout(1500)
    assert abs(bob.page.evaluate("() => scrollY") - y) < 5
    ada.assert_no_page_errors()
    bob.assert_no_page_errors()
