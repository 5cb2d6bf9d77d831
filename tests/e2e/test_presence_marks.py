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


# What changes a cell: its DOM (a MutationObserver), and its inline style, whose writes restyle
# it even when the value stays the same (and so make no mutation record).
WATCH_CELLS = """() => {
  window.touchedCells = new Set()
  const owners = new WeakMap()
  for (const c of document.querySelectorAll('.cells > .cell')) owners.set(c.style, c.dataset.cellId)
  const setProperty = CSSStyleDeclaration.prototype.setProperty
  CSSStyleDeclaration.prototype.setProperty = function (...args) {
    if (owners.has(this)) window.touchedCells.add(owners.get(this))
    return setProperty.apply(this, args)
  }
  new MutationObserver((records) => {
    for (const r of records) {
      const el = r.target.nodeType === 1 ? r.target : r.target.parentElement
      const cell = el && el.closest('.cell')
      if (cell) window.touchedCells.add(cell.dataset.cellId)
    }
  }).observe(document.querySelector('.cells'), {
    attributes: true, childList: true, characterData: true, subtree: true,
  })
}"""


def test_a_cursor_moving_in_one_cell_leaves_the_other_cells_alone(
    notebook_session: Any, join: Any
) -> None:
    """Every presence change reaches every cell of the page; one that touched each cell anyway
    had the browser restyle the whole notebook at every remote keystroke."""
    session = notebook_session([f"x{i} = {i}" for i in range(30)])
    ada = join(session["edit_url"], "Ada")
    ben = join(session["edit_url"], "Ben")
    ada.type_at_end(1, "  # a")
    wait_until(lambda: ben.source(1) == "x1 = 1  # a", "Ada's text at Ben")
    ids = ben.page.eval_on_selector_all(".cells > .cell", "cs => cs.map(c => c.dataset.cellId)")
    ben.page.evaluate(WATCH_CELLS)
    ben.page.evaluate(
        "() => { window.presenceChanges = 0;"
        " window.collabd.session.awareness.on('change', () => window.presenceChanges++) }"
    )
    for _ in range(5):  # Ada's cursor moves (typing at the end would keep its position)
        ada.page.keyboard.press("ArrowLeft")
        ada.page.wait_for_timeout(80)
    ada.page.keyboard.type("b")
    wait_until(lambda: ben.source(1) == "x1 = 1b  # a", "Ada's typing at Ben")
    wait_until(
        lambda: ben.page.evaluate("() => window.presenceChanges") >= 5,
        "Ada's cursor moves seen at Ben",
    )
    touched = set(ben.page.evaluate("() => [...window.touchedCells]"))
    assert ids[1] in touched  # the watch works: the cell Ada types in changed
    assert touched == {ids[1]}, f"cells touched besides Ada's: {sorted(touched - {ids[1]})}"
    for who in (ada, ben):
        who.assert_no_page_errors()
