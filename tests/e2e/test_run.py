"""Running on the shared kernel: everyone sees the queue, who it runs for, and the outputs."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import WAIT_MS

pytestmark = [pytest.mark.browser, pytest.mark.kernel]

LONG = 90_000  # the first run starts the kernel


def test_run_queue_and_outputs_are_shared(notebook_session: Any, join: Any) -> None:
    session = notebook_session(
        [
            "import time\ntime.sleep(4)\nprint('slow done')",
            "print(6 * 7)",
            "1 / 0",
            "for i in range(300):\n    print('line', i)",
        ]
    )
    ada = join(session["edit_url"], "Ada")
    bob = join(session["edit_url"], "Bob")

    # Ada runs the slow cell (Shift-Enter moves to the next), then queues the next (Ctrl-Enter).
    ada.cell(0).locator(".cell-editor").click()
    ada.page.keyboard.press("Shift+Enter")
    expect(ada.cell(1)).to_have_class(re.compile(r"\bselected\b"))
    ada.page.keyboard.press("Control+Enter")

    for who in (ada, bob):
        expect(who.cell(0).locator(".cell-status")).to_contain_text("Running for Ada", timeout=LONG)
        expect(who.cell(0).locator(".cell-prompt")).to_have_text("[*]:")
        expect(who.cell(1).locator(".cell-status")).to_contain_text(
            "Queued for Ada", timeout=WAIT_MS
        )
        expect(who.page.locator(".queue-entry")).to_have_count(2)
    expect(bob.page.locator(".queue-entry.queue-running")).to_contain_text("cell 1")
    bob.screenshot("run-queued-bob")

    for who in (ada, bob):
        expect(who.cell(0).locator(".output-stream")).to_have_text("slow done\n", timeout=LONG)
        expect(who.cell(1).locator(".output-stream")).to_have_text("42\n", timeout=LONG)
        expect(who.cell(1).locator(".cell-status")).to_contain_text(
            "Last run by Ada", timeout=WAIT_MS
        )
        expect(who.cell(1).locator(".cell-prompt")).to_have_text(re.compile(r"\[\d+\]:"))
        expect(who.page.locator(".queue-entry")).to_have_count(0, timeout=WAIT_MS)
        expect(who.page.locator(".kernel-panel")).to_have_attribute(
            "data-kernel-status", "idle", timeout=LONG
        )

    # Bob runs the failing cell with the toolbar: a coloured traceback, "error" in the last run.
    bob.cell(2).click()
    bob.cell(2).locator(".tool-run").click()
    for who in (ada, bob):
        error = who.cell(2).locator(".output-error")
        expect(error).to_contain_text("ZeroDivisionError", timeout=LONG)
        expect(error.locator("span[class*='ansi-']").first).to_be_attached()
        expect(who.cell(2).locator(".cell-status")).to_contain_text(
            "Last run by Bob", timeout=WAIT_MS
        )
        expect(who.cell(2).locator(".cell-status")).to_contain_text("error")

    # A long output starts collapsed, with a toggle.
    ada.cell(3).click()
    ada.cell(3).locator(".tool-run").click()
    body = ada.cell(3).locator(".outputs-body")
    expect(body).to_contain_text("line 299", timeout=LONG)
    expect(body).to_have_class(re.compile(r"\bcollapsed\b"))
    ada.cell(3).locator(".outputs-toggle").click()
    expect(ada.cell(3).locator(".outputs-body")).not_to_have_class(re.compile(r"\bcollapsed\b"))
    ada.cell(2).scroll_into_view_if_needed()
    ada.screenshot("run-outputs-ada")
    ada.assert_no_page_errors()
    bob.assert_no_page_errors()


def test_cancel_and_interrupt(notebook_session: Any, join: Any) -> None:
    session = notebook_session(["import time\ntime.sleep(60)", "print('never')"])
    ada = join(session["edit_url"], "Ada")
    bob = join(session["edit_url"], "Bob")
    ada.cell(0).locator(".cell-prompt").click()  # the toolbar shows on the selected cell
    ada.cell(0).locator(".tool-run").click()
    # The next by keys: cell 1's status line appearing moves everything below it.
    ada.page.keyboard.press("j")
    expect(ada.cell(1)).to_have_class(re.compile(r"\bselected\b"))
    ada.page.keyboard.press("Control+Enter")
    expect(bob.cell(0).locator(".cell-status")).to_contain_text("Running for Ada", timeout=LONG)
    expect(bob.cell(1).locator(".cell-status")).to_contain_text("Queued for Ada")

    # Bob cancels Ada's queued run, then interrupts the running one.
    bob.page.locator(".queue-entry.queue-queued .queue-cancel").click()
    for who in (ada, bob):
        expect(who.page.locator(".queue-entry")).to_have_count(1, timeout=WAIT_MS)
        expect(who.cell(1).locator(".cell-status")).not_to_contain_text("Queued", timeout=WAIT_MS)
    bob.page.locator(".kernel-interrupt").click()
    for who in (ada, bob):
        expect(who.cell(0).locator(".output-error")).to_contain_text(
            "KeyboardInterrupt", timeout=LONG
        )
        expect(who.page.locator(".queue-entry")).to_have_count(0, timeout=WAIT_MS)
    assert ada.cell(1).locator(".output-stream").count() == 0
    ada.screenshot("run-interrupted-ada")

    # Restart asks first (a dialog of the page), then everyone sees why the kernel state changed.
    ada.page.locator(".kernel-restart").click()
    ada.page.locator("dialog.confirm-dialog .confirm-ok").click()
    for who in (ada, bob):
        expect(who.page.locator(".kernel-event")).to_contain_text("restarted", timeout=LONG)
        expect(who.page.locator(".kernel-panel")).to_have_attribute(
            "data-kernel-status", "idle", timeout=LONG
        )
    ada.assert_no_page_errors()
    bob.assert_no_page_errors()


def test_input_prompt_goes_to_whoever_ran_the_cell(notebook_session: Any, join: Any) -> None:
    session = notebook_session(["name = input('Your name? ')\nprint('hello', name)"])
    ada = join(session["edit_url"], "Ada")
    bob = join(session["edit_url"], "Bob")
    ada.cell(0).locator(".cell-prompt").click()
    ada.cell(0).locator(".tool-run").click()

    field = ada.cell(0).locator("input.input-field")
    expect(field).to_be_visible(timeout=LONG)
    expect(ada.cell(0).locator(".input-prompt")).to_have_text("Your name? ")
    expect(bob.cell(0).locator(".input-waiting")).to_contain_text(
        "Waiting for Ada", timeout=WAIT_MS
    )
    expect(bob.cell(0).locator("input.input-field")).to_have_count(0)
    ada.screenshot("input-prompt-ada")

    field.fill("Ada Lovelace")
    field.press("Enter")
    for who in (ada, bob):
        expect(who.cell(0).locator(".output-stream")).to_contain_text(
            "hello Ada Lovelace", timeout=LONG
        )
        expect(who.cell(0).locator(".cell-input")).to_be_hidden(timeout=WAIT_MS)
    ada.assert_no_page_errors()
    bob.assert_no_page_errors()


def test_a_cell_typed_and_run_at_once_runs_what_was_typed(notebook_session: Any, join: Any) -> None:
    session = notebook_session([""])
    ada = join(session["edit_url"], "Ada")
    posts: list[str] = []
    ada.page.on("request", lambda r: posts.append(r.url) if "/execute" in r.url else None)
    ada.cell(0).locator(".cell-editor").click()
    ada.page.keyboard.type("print('fresh', 6 * 7)")
    ada.page.keyboard.press("Shift+Enter")  # right after the last keystroke
    expect(ada.cell(0).locator(".output-stream")).to_have_text("fresh 42\n", timeout=LONG)
    assert posts == []  # asked on the websocket behind the keystrokes, not over HTTP
    # Shift-Enter on the last cell adds a new one and moves into it, as in Jupyter.
    expect(ada.page.locator(".cells > .cell")).to_have_count(2)
    ada.assert_no_page_errors()


def test_run_all_runs_every_code_cell_in_order(notebook_session: Any, join: Any) -> None:
    session = notebook_session(["x = 20", "y = x + 1", "print(x + y)"])
    ada = join(session["edit_url"], "Ada")
    bob = join(session["view_url"], "Vera")
    expect(bob.page.locator(".run-all-button")).to_have_count(0)
    ada.page.locator(".run-all-button").click()
    expect(bob.cell(2).locator(".output-stream")).to_have_text("41\n", timeout=LONG)
    expect(bob.cell(0).locator(".cell-prompt")).to_have_text("[1]:")
    expect(bob.cell(2).locator(".cell-prompt")).to_have_text("[3]:")
    ada.assert_no_page_errors()
