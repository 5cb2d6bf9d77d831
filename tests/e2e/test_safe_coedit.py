"""Safe co-editing: a cell taken away while one types in it, cell undo and redo, the cell
selection, and copy / paste / merge of cells (JupyterLab's keys)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import WAIT_MS, Participant, wait_until

pytestmark = [pytest.mark.browser]


def command_mode_on(who: Participant, index: int) -> None:
    who.cell(index).locator(".cell-prompt").click()
    who.page.keyboard.press("Escape")


def test_remote_delete_while_typing(notebook_session: Any, join: Any) -> None:
    session = notebook_session(["first = 1", "second = 2", "third = 3"])
    ada = join(session["edit_url"], "Ada")
    bob = join(session["edit_url"], "Bob")

    ada.type_at_end(1, "  # ada")
    wait_until(lambda: bob.source(1) == "second = 2  # ada", "Ada's text at Bob")
    command_mode_on(bob, 1)
    bob.page.keyboard.press("d")
    bob.page.keyboard.press("d")
    # Ada keeps typing while the delete is on its way: none of these keys may act as a command
    # (A would insert a cell, D D delete one, H open the help).
    ada.page.keyboard.type("add h")
    wait_until(lambda: ada.cell_count() == 2, "the delete at Ada")
    ada.page.keyboard.type("ad dh")

    notice = ada.page.locator(".change-notice")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("Bob deleted the cell you were in (cell 2)")
    # Still in edit mode, in a cell's editor, and no command ran.
    expect(ada.page.locator(".notebook.edit-mode")).to_have_count(1)
    expect(ada.page.locator("dialog.keys-dialog")).to_have_count(0)
    assert ada.cell_count() == 2
    assert bob.cell_count() == 2
    assert ada.page.evaluate("() => !!document.activeElement?.closest('.cm-editor')")
    ada.screenshot("safe-coedit-notice")

    # One click puts the cell back, with its text, for everyone.
    notice.locator(".change-notice-undo").click()
    wait_until(lambda: bob.cell_count() == 3, "the cell back at Bob")
    wait_until(lambda: bob.source(1).startswith("second = 2  # ada"), "its text back at Bob")
    expect(notice).to_be_hidden()
    assert bob.source(2) == "third = 3"
    ada.assert_no_page_errors()
    bob.assert_no_page_errors()


def test_selection_copy_paste_merge_undo(notebook_session: Any, join: Any) -> None:
    session = notebook_session(["a = 1", "b = 2", "c = 3"])
    ada = join(session["edit_url"], "Ada")
    bob = join(session["edit_url"], "Bob")

    # Shift-Down extends the selection (it no longer moves the cell); C copies both.
    command_mode_on(ada, 0)
    ada.page.keyboard.press("Shift+ArrowDown")
    expect(ada.page.locator(".cell.in-selection")).to_have_count(2)
    assert ada.source(0) == "a = 1" and ada.source(1) == "b = 2"
    ada.page.keyboard.press("c")
    ada.screenshot("safe-coedit-selection")

    # Another tab of the same browser pastes them (JupyterLab's own cell clipboard).
    tab = Participant("Ada 2", ada.context, ada.context.new_page())
    tab.page.on("pageerror", lambda e: tab.errors.append(str(e)))
    tab.page.goto(session["edit_url"])
    tab.page.wait_for_selector("body[data-ready=true]", timeout=WAIT_MS)
    command_mode_on(tab, 2)
    tab.page.keyboard.press("v")
    wait_until(lambda: bob.cell_count() == 5, "pasted cells at Bob")
    assert [bob.source(i) for i in range(5)] == ["a = 1", "b = 2", "c = 3", "a = 1", "b = 2"]
    ids = bob.page.evaluate("() => window.collabd.session.notebook.cells.map(c => c.id)")
    assert len(set(ids)) == 5, "pasted cells get new ids"

    # Z undoes one's own cell operation, Shift-Z redoes it.
    tab.page.keyboard.press("z")
    wait_until(lambda: bob.cell_count() == 3, "paste undone at Bob")
    tab.page.keyboard.press("Shift+Z")
    wait_until(lambda: bob.cell_count() == 5, "paste redone at Bob")

    # Ada deletes the first cell and undoes it.
    command_mode_on(ada, 0)
    ada.page.keyboard.press("d")
    ada.page.keyboard.press("d")
    wait_until(lambda: bob.cell_count() == 4, "delete at Bob")
    ada.page.keyboard.press("z")
    wait_until(lambda: bob.cell_count() == 5 and bob.source(0) == "a = 1", "delete undone at Bob")

    # Shift-click selects a range; Shift-M merges it into one cell.
    command_mode_on(ada, 1)
    ada.cell(2).locator(".cell-prompt").click(modifiers=["Shift"])
    expect(ada.page.locator(".cell.in-selection")).to_have_count(2)
    ada.page.keyboard.press("Shift+M")
    wait_until(lambda: bob.cell_count() == 4, "merge at Bob")
    assert bob.source(1) == "b = 2\n\nc = 3"

    # X cuts, Shift-V pastes above.
    command_mode_on(ada, 3)
    ada.page.keyboard.press("x")
    wait_until(lambda: bob.cell_count() == 3, "cut at Bob")
    command_mode_on(ada, 0)
    ada.page.keyboard.press("Shift+V")
    wait_until(lambda: bob.cell_count() == 4 and bob.source(0) == "b = 2", "paste above at Bob")
    for who in (ada, bob, tab):
        who.assert_no_page_errors()


def test_keys_typed_as_a_remote_move_lands_stay_in_the_cell(
    notebook_session: Any, join: Any
) -> None:
    session = notebook_session(["first = 1", "second = 2", "third = 3"])
    ada = join(session["edit_url"], "Ada")
    bob = join(session["edit_url"], "Bob")
    ada.type_at_end(0, "  # ada")
    wait_until(lambda: bob.source(0) == "first = 1  # ada", "Ada's text at Bob")
    # A busy machine: Ada's page draws a frame only every half second, so she types before the
    # page would have redrawn the cell list after the move.
    ada.page.evaluate(
        """() => {
            const raf = window.requestAnimationFrame.bind(window)
            window.requestAnimationFrame = (cb) => setTimeout(() => raf(cb), 500)
        }"""
    )
    command_mode_on(bob, 0)
    bob.page.keyboard.press("Control+Shift+ArrowDown")
    wait_until(lambda: ada.source(1) == "first = 1  # ada", "the move at Ada")
    ada.page.keyboard.type(" kept")
    wait_until(lambda: bob.source(1) == "first = 1  # ada kept", "the keys typed as it landed")
    assert ada.source(1) == "first = 1  # ada kept"
    ada.assert_no_page_errors()
    bob.assert_no_page_errors()


def test_remote_move_is_named_and_undone(notebook_session: Any, join: Any) -> None:
    session = notebook_session(["first = 1", "second = 2", "third = 3"])
    ada = join(session["edit_url"], "Ada")
    bob = join(session["edit_url"], "Bob")
    ada.type_at_end(0, "  # ada")
    wait_until(lambda: bob.source(0) == "first = 1  # ada", "Ada's text at Bob")
    # Bob moves that cell down two places (Ctrl-Shift-Down, JupyterLab 4).
    command_mode_on(bob, 0)
    bob.page.keyboard.press("Control+Shift+ArrowDown")
    bob.page.keyboard.press("Control+Shift+ArrowDown")
    wait_until(lambda: ada.source(2) == "first = 1  # ada", "the move at Ada")
    notice = ada.page.locator(".change-notice")
    expect(notice).to_contain_text("Bob moved the cell you were in")
    # Ada keeps typing where she was.
    ada.page.keyboard.type(" still")
    wait_until(lambda: bob.source(2) == "first = 1  # ada still", "typing after the move")
    notice.locator(".change-notice-undo").click()
    wait_until(lambda: bob.source(0) == "first = 1  # ada still", "moved back at Bob")
    assert [bob.source(i) for i in (1, 2)] == ["second = 2", "third = 3"]
    ada.assert_no_page_errors()
    bob.assert_no_page_errors()
