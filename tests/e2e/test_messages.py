"""Messages in people's words: a failed batch names the cell by number, outputs kept from an
earlier run say so, running while offline says "you are offline", restart asks in a dialog."""

from __future__ import annotations

from typing import Any

import nbformat
import pytest
from playwright.sync_api import expect

from .conftest import code

pytestmark = [pytest.mark.browser, pytest.mark.kernel]

LONG = 90_000  # the first run starts the kernel


def test_batch_failure_offline_and_restart_dialog(notebook_session: Any, join: Any) -> None:
    old = nbformat.v4.new_output("stream", name="stdout", text="from yesterday\n")
    session = notebook_session(["x = 1", "1 / 0", code("print('never')", outputs=[old])])
    ada = join(session["edit_url"], "Ada")
    bob = join(session["view_url"], "Bob")

    ada.page.locator(".run-all-button").click()
    # The batch stops at cell 2: the reason names it by number, for everyone.
    for who in (ada, bob):
        expect(who.page.locator(".kernel-event")).to_contain_text(
            "cell 2 failed earlier in the same run", timeout=LONG
        )
        failed_id = who.page.evaluate("() => window.collabd.session.notebook.cells[1].id")
        expect(who.page.locator(".kernel-event")).not_to_contain_text(failed_id)
        # Cell 3 never ran: its old output stays, marked as from an earlier run.
        outputs = who.cell(2).locator(".cell-outputs")
        expect(outputs).to_have_class("cell-outputs from-earlier-run")
        expect(outputs).to_contain_text("from yesterday")
    ada.screenshot("messages-batch")

    # Restart asks in a real dialog; Cancel leaves the kernel alone.
    ada.page.locator(".kernel-restart").click()
    dialog = ada.page.locator("dialog.confirm-dialog")
    expect(dialog).to_contain_text("Restart the shared kernel?")
    ada.screenshot("messages-restart-dialog")
    dialog.locator(".confirm-cancel").click()
    expect(dialog).to_have_count(0)
    expect(ada.page.locator(".kernel-event")).not_to_contain_text("restarted")
    ada.page.locator(".kernel-restart").click()
    ada.page.locator("dialog.confirm-dialog .confirm-ok").click()
    expect(bob.page.locator(".kernel-event")).to_contain_text("Kernel restarted", timeout=LONG)

    # Offline: the run buttons are disabled and running says why, in words.
    ada.context.set_offline(True)
    expect(ada.page.locator(".connection")).to_have_attribute("data-status", "offline")
    expect(ada.page.locator(".run-all-button")).to_be_disabled()
    expect(ada.page.locator(".kernel-restart")).to_be_disabled()
    ada.type_at_end(0, "  # offline")
    ada.page.keyboard.press("Control+Enter")
    toast = ada.page.locator(".toast", has_text="You are offline")
    expect(toast).to_contain_text("running the cell will work again once the connection is back")
    expect(ada.page.locator(".toast", has_text="Failed to fetch")).to_have_count(0)
    ada.screenshot("messages-offline")
    ada.context.set_offline(False)
    expect(ada.page.locator(".run-all-button")).to_be_enabled()
    for who in (ada, bob):
        who.assert_no_page_errors()
