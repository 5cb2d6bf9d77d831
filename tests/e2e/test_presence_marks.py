"""Presence that helps rather than hides: distinct colours per person, viewers marked, the
followed one told, remote names shown on hover or briefly after a move, brackets not closed."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import wait_until

pytestmark = [pytest.mark.browser]

# Two names whose preferred colour is the same slot: the second to arrive must get another.
SAME_SLOT = ("Ada 1", "Ada 10")


def colours(who: Any) -> list[str]:
    return list(
        who.page.eval_on_selector_all(
            ".participants-panel .participant-dot",
            "ds => ds.map(d => getComputedStyle(d).backgroundColor)",
        )
    )


def row(who: Any, name: str) -> Any:
    return who.page.locator(".participant").filter(
        has=who.page.locator(".participant-name").get_by_text(name, exact=True)
    )


def test_presence_marks(notebook_session: Any, join: Any) -> None:
    session = notebook_session(["x = 1", "y = 2"])
    ada = join(session["edit_url"], SAME_SLOT[0])
    ben = join(session["edit_url"], SAME_SLOT[1])
    cy = join(session["view_url"], "Cy")

    # Three people, three colours, the same in everyone's list.
    for who in (ada, ben, cy):
        wait_until(lambda who=who: len(set(colours(who))) == 3, "three distinct colours")
    mine = ada.page.locator(".participant.self .participant-dot").evaluate(
        "d => getComputedStyle(d).backgroundColor"
    )
    at_ben = row(ben, SAME_SLOT[0]).locator(".participant-dot")
    expect(at_ben).to_have_css("background-color", mine)

    # The viewer is marked as one.
    expect(row(ada, "Cy").locator(".participant-viewer")).to_have_text("viewer")
    expect(row(ada, SAME_SLOT[1]).locator(".participant-viewer")).to_have_count(0)

    # Cy follows Ada: Ada is told.
    row(cy, SAME_SLOT[0]).click()
    expect(ada.page.locator(".followed-banner")).to_have_text("Cy is following you")
    ada.screenshot("presence-followed")

    # Brackets do not close themselves.
    ada.type_at_end(1, "print(")
    wait_until(lambda: ben.source(1) == "y = 2print(", "typed text at Ben")

    # Ada's name over her cursor shows at Ben right after she moves, then hides, and shows on hover.
    info = ben.cell(1).locator(".cm-ySelectionInfo", has_text=SAME_SLOT[0])
    expect(info).to_have_count(1)
    wait_until(lambda: info.evaluate("e => getComputedStyle(e).opacity") == "0", "name tag hidden")
    ben.screenshot("presence-tag-hidden")
    ben.cell(1).locator(".cm-ySelectionCaret").hover()
    wait_until(
        lambda: info.evaluate("e => getComputedStyle(e).opacity") == "1", "name tag on hover"
    )
    for who in (ada, ben, cy):
        who.assert_no_page_errors()
