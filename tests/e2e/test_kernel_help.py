"""The shared kernel's help in a code cell: Tab lists completions from the kernel (Enter takes
one), Shift-Tab shows what it says of the name at the cursor; before any run a hint says to run
a cell first; viewers get nothing; Tab elsewhere still indents."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.kernel]

LONG = 90_000  # the first run starts the kernel


def test_complete_and_inspect(notebook_session: Any, join: Any) -> None:
    session = notebook_session(["import os\nshared_value_xyz = 1", "", ""])
    ada = join(session["edit_url"], "Ada")
    cy = join(session["view_url"], "Cy")
    page = ada.page

    # Before the kernel runs anything, Tab after a name says how to start it.
    ada.type_at_end(1, "shared_val")
    page.keyboard.press("Tab")
    expect(ada.cell(1).locator(".kernel-hint")).to_contain_text(
        "run a cell first to start the kernel"
    )
    ada.screenshot("kernel-help-no-kernel")

    # Run the first cell, then complete in the second.
    ada.cell(0).locator(".cell-editor").click()
    page.keyboard.press("Control+Enter")
    expect(ada.cell(0).locator(".cell-prompt")).to_have_text("[1]:", timeout=LONG)
    ada.type_at_end(1, "")
    page.keyboard.press("Tab")
    options = page.locator(".cm-tooltip-autocomplete li")
    expect(options.filter(has_text="shared_value_xyz")).to_have_count(1)
    ada.screenshot("kernel-help-completions")
    # CodeMirror ignores Enter for 75 ms after a list opens (`interactionDelay`: a fast typist's
    # Enter makes a new line); a person reads the list first. A quick screenshot left less.
    page.wait_for_timeout(200)
    page.keyboard.press("Enter")
    wait_until(lambda: ada.source(1) == "shared_value_xyz", "the completion inserted")
    expect(page.locator(".cm-tooltip-autocomplete")).to_have_count(0)

    # After a dot: the module's names.
    page.keyboard.press("Enter")
    page.keyboard.type("os.pat")
    page.keyboard.press("Tab")
    expect(options.filter(has_text=re.compile(r"^path"))).not_to_have_count(0)
    page.keyboard.press("Escape")
    expect(page.locator(".cm-tooltip-autocomplete")).to_have_count(0)

    # Shift-Tab on len( shows its docstring; Escape closes it and stays in the cell.
    ada.type_at_end(2, "len(")
    page.keyboard.press("Shift+Tab")
    doc = ada.cell(2).locator(".kernel-doc")
    expect(doc).to_contain_text("Return the number of items in a container")
    ada.screenshot("kernel-help-inspect")
    page.keyboard.press("Escape")
    expect(doc).to_have_count(0)
    expect(ada.editor(2)).to_be_focused()

    # Tab after nothing but spaces still indents.
    page.keyboard.press("Enter")
    before = ada.source(2)
    assert before.startswith("len(\n") and before.split("\n")[-1].strip() == ""
    page.keyboard.press("Tab")
    wait_until(lambda: len(ada.source(2)) > len(before), "an indent")
    assert ada.source(2).split("\n")[-1].strip() == ""

    # A viewer's Tab asks nothing and shows nothing.
    cy.cell(1).locator(".cell-editor").click()
    cy.page.keyboard.press("End")
    cy.page.keyboard.press("Tab")
    cy.page.keyboard.press("Shift+Tab")
    expect(cy.page.locator(".cm-tooltip-autocomplete, .kernel-doc, .kernel-hint")).to_have_count(0)
    for who in (ada, cy):
        who.assert_no_page_errors()
