"""Clear outputs (one cell, all: through the document, for everyone), find and replace across
cells, and a table of contents from the markdown headings."""

from __future__ import annotations

from typing import Any

import nbformat
import pytest
from playwright.sync_api import expect

from .conftest import code, markdown, wait_until

pytestmark = [pytest.mark.browser]


def out(text: str) -> Any:
    return nbformat.v4.new_output("stream", name="stdout", text=text)


def test_clear_find_replace_contents(notebook_session: Any, join: Any) -> None:
    session = notebook_session(
        [
            markdown("# Intro\n\n## Part A"),
            code("x = 1\nprint(x)", outputs=[out("1\n")], execution_count=1),
            markdown("## Part B"),
            code("y = x + 1\nprint(y)", outputs=[out("2\n")], execution_count=2),
        ]
    )
    ada = join(session["edit_url"], "Ada")
    bob = join(session["edit_url"], "Bob")
    cy = join(session["view_url"], "Cy")

    # Contents: the headings, in order; a click goes to the cell.
    links = ada.page.locator(".toc-panel .toc-link")
    expect(links).to_have_text(["Intro", "Part A", "Part B"])
    links.nth(2).click()
    expect(ada.cell(2)).to_have_class("cell cell-markdown selected")
    expect(cy.page.locator(".toc-panel .toc-link")).to_have_count(3)

    # Find and replace across cells (Ctrl-F in command mode).
    ada.page.keyboard.press("Escape")
    ada.page.keyboard.press("Control+f")
    query = ada.page.locator(".find-query")
    expect(query).to_be_focused()
    query.fill("x")
    expect(ada.page.locator(".find-count")).to_have_text("3 found")
    query.press("Enter")
    # The next match after the active cell (Part B): the one in cell 4.
    expect(ada.page.locator(".find-count")).to_have_text("3 of 3")
    expect(ada.cell(3)).to_have_class("cell cell-code selected")
    ada.screenshot("tools-find")
    ada.page.locator(".find-replacement").fill("value")
    ada.page.locator(".find-replace-all").click()
    expect(ada.page.locator(".find-count")).to_have_text("Replaced 3")
    wait_until(lambda: bob.source(1) == "value = 1\nprint(value)", "replaced at Bob")
    assert bob.source(3) == "y = value + 1\nprint(y)"
    # Viewers can find, not replace.
    cy.page.locator(".find-button").click()
    expect(cy.page.locator(".find-query")).to_be_visible()
    expect(cy.page.locator(".find-replacement")).to_have_count(0)

    # Clear one cell's outputs from its toolbar, then all from the header: everyone sees it.
    expect(bob.cell(1).locator(".cell-outputs")).to_contain_text("1")
    ada.cell(1).locator(".cell-prompt").click()
    ada.cell(1).locator(".tool-clear-outputs").click()
    expect(bob.cell(1).locator(".cell-outputs")).to_be_hidden()
    expect(bob.cell(3).locator(".cell-outputs")).to_contain_text("2")
    expect(bob.cell(1).locator(".cell-prompt")).to_have_text("[ ]:")
    ada.page.locator(".clear-all-button").click()
    expect(cy.page.locator(".cell-outputs:visible")).to_have_count(0)
    expect(cy.page.locator(".clear-all-button")).to_have_count(0)
    ada.screenshot("tools-cleared")
    for who in (ada, bob, cy):
        who.assert_no_page_errors()
