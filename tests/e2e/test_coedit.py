"""Two people type in the same cell and see each other's text and named cursor."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import WAIT_MS, markdown, wait_until

pytestmark = pytest.mark.browser


def test_two_participants_coedit_one_cell(notebook_session: Any, join: Any) -> None:
    session = notebook_session([markdown("# Shared"), "x = 1\n", "y = 2\n"])
    ada = join(session["edit_url"], "Ada")
    bob = join(session["edit_url"], "Bob")

    ada.type_at_end(1, "ada_was_here = 3\n")
    expect(bob.editor(1)).to_contain_text("ada_was_here = 3", timeout=WAIT_MS)
    bob.type_at_end(1, "bob_too = 4")
    expect(ada.editor(1)).to_contain_text("bob_too = 4", timeout=WAIT_MS)

    for who in (ada, bob):
        wait_until(
            lambda who=who: who.source(1) == "x = 1\nada_was_here = 3\nbob_too = 4", "merged text"
        )

    # Each sees the other's cursor in that cell, labelled with the other's name.
    expect(ada.cell(1).locator(".cm-ySelectionInfo", has_text="Bob")).to_be_visible(timeout=WAIT_MS)
    expect(bob.cell(1).locator(".cm-ySelectionInfo", has_text="Ada")).to_be_visible(timeout=WAIT_MS)
    # ... and in the participants list, with the cell each is in.
    expect(ada.page.locator(".participant", has_text="Bob")).to_contain_text(
        "cell 2", timeout=WAIT_MS
    )
    expect(bob.page.locator(".participant", has_text="Ada (you)")).to_have_count(0)
    expect(bob.page.locator(".participant", has_text="Bob (you)")).to_be_visible()
    expect(ada.page.locator(".connection")).to_have_attribute("data-status", "connected")
    ada.screenshot("coedit-ada")
    bob.screenshot("coedit-bob")

    # The edit reached the hub, so a fresh reader sees it too.
    carol = join(session["view_url"], "Carol")
    wait_until(
        lambda: carol.source(1) == "x = 1\nada_was_here = 3\nbob_too = 4", "text at a new reader"
    )
    for who in (ada, bob, carol):
        who.assert_no_page_errors()


def test_cell_structure_edits_are_shared(notebook_session: Any, join: Any) -> None:
    session = notebook_session(["a = 1", "b = 2"])
    ada = join(session["edit_url"], "Ada")
    bob = join(session["edit_url"], "Bob")

    # Command mode keys: select the first cell, B inserts below, M makes it markdown.
    ada.cell(0).locator(".cell-prompt").click()
    ada.page.keyboard.press("Escape")
    ada.page.keyboard.press("b")
    wait_until(lambda: bob.cell_count() == 3, "inserted cell at Bob")
    ada.page.keyboard.press("m")
    wait_until(
        lambda: (
            bob.page.evaluate("() => window.collabd.session.notebook.cells[1].cell_type")
            == "markdown"
        ),
        "type change at Bob",
    )
    # Enter edits, Shift-Enter renders the markdown and moves on.
    ada.page.keyboard.press("Enter")
    ada.page.keyboard.type("## Notes from Ada")
    ada.page.keyboard.press("Shift+Enter")
    expect(bob.cell(1).locator(".cell-rendered h2")).to_have_text("Notes from Ada", timeout=WAIT_MS)
    expect(ada.cell(1).locator(".cell-rendered h2")).to_have_text("Notes from Ada", timeout=WAIT_MS)

    # Moving and deleting from the toolbar.
    bob.cell(2).click()
    bob.cell(2).locator(".tool-move-up").click()
    wait_until(lambda: ada.source(1) == "b = 2", "moved cell at Ada")
    ada.cell(0).locator(".cell-prompt").click()
    ada.page.keyboard.press("Escape")
    ada.page.keyboard.press("d")
    ada.page.keyboard.press("d")
    wait_until(lambda: bob.cell_count() == 2 and bob.source(0) == "b = 2", "deleted cell at Bob")
    ada.screenshot("structure-ada")
    ada.page.keyboard.press("h")
    expect(ada.page.locator("dialog.keys-dialog")).to_contain_text("D D")
    ada.screenshot("keys-help")
    ada.page.keyboard.press("Escape")
    expect(ada.page.locator("dialog.keys-dialog")).to_have_count(0)
    ada.assert_no_page_errors()
    bob.assert_no_page_errors()


def test_typing_continues_in_a_cell_someone_else_moves(notebook_session: Any, join: Any) -> None:
    session = notebook_session(["first = 1", "second = 2"])
    ada = join(session["edit_url"], "Ada")
    bob = join(session["edit_url"], "Bob")
    ada.type_at_end(1, "  # ada")
    # (A move re-inserts a copy of the cell: keystrokes still in flight to the mover would be
    # lost with the old copy, a limit of the YNotebook schema. Let them arrive first.)
    wait_until(lambda: bob.source(1) == "second = 2  # ada", "Ada's text at Bob")
    bob.cell(1).locator(".cell-prompt").click()
    bob.cell(1).locator(".tool-move-up").click()
    wait_until(lambda: ada.source(0).startswith("second = 2"), "the move at Ada")
    # her editor follows the moved cell (the page re-creates it): typing goes on there
    wait_until(
        lambda: ada.page.evaluate(
            "document.activeElement?.closest('.cell') === document.querySelector('.cells > .cell')"
        ),
        "Ada's focus in the moved cell",
    )
    ada.page.keyboard.type(" still typing")
    wait_until(
        lambda: bob.source(0) == "second = 2  # ada still typing", "Ada's typing after the move"
    )
    assert bob.source(1) == "first = 1"
    ada.assert_no_page_errors()
