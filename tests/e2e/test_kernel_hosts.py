"""Where the kernel runs: the kernel panel names the host; an editor's "Change…" lists the hosts
and their kernel specs, asks for a real confirmation (everyone's kernel restarts, the queue is
cancelled), and everyone sees the switch. A viewer cannot change it."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.kernel]

LONG = 90_000  # the first run starts the kernel


def test_choose_the_kernel_host(notebook_session: Any, join: Any) -> None:
    session = notebook_session(["kept = 41\nprint(kept + 1)", "print('kept' in dir())"])
    ada = join(session["edit_url"], "Ada")
    cy = join(session["view_url"], "Cy")
    panel = ada.page.locator(".kernel-panel")
    expect(panel.locator(".kernel-label")).to_have_text("python3 on local: not started")

    ada.cell(0).locator(".cell-editor").click()
    ada.page.keyboard.press("Control+Enter")
    expect(ada.cell(0).locator(".output-stream")).to_have_text("42\n", timeout=LONG)
    expect(panel.locator(".kernel-label")).to_have_text("python3 on local: idle", timeout=LONG)

    # Change…: the hosts and their specs, the current one chosen.
    panel.locator(".kernel-change").click()
    dialog = ada.page.locator(".kernel-choice-dialog")
    local = dialog.locator(".kernel-host[data-host='local']")
    expect(local).to_contain_text("local")
    current = local.locator("input[type=radio]:checked")
    expect(current).to_have_count(1)
    ada.screenshot("kernel-hosts-dialog")

    # Cancelling the confirmation changes nothing.
    dialog.locator(".kernel-choose").click()
    confirm = ada.page.locator(".confirm-dialog")
    expect(confirm).to_contain_text("restarts the shared kernel for everyone")
    ada.screenshot("kernel-hosts-confirm")
    confirm.locator(".confirm-cancel").click()
    expect(ada.page.locator("dialog")).to_have_count(0)

    # Confirmed: the kernel restarts on local, everyone is told, the variables are gone.
    panel.locator(".kernel-change").click()
    dialog.locator(".kernel-host[data-host='local'] input[type=radio]").first.check()
    dialog.locator(".kernel-choose").click()
    confirm.locator(".confirm-ok").click()
    for who in (ada, cy):
        expect(who.page.locator(".kernel-event")).to_contain_text("Kernel switched", timeout=LONG)
        expect(who.page.locator(".kernel-panel")).to_have_attribute("data-kernel-host", "local")
        expect(who.page.locator(".kernel-label")).to_contain_text("on local")
    ada.cell(1).locator(".cell-editor").click()
    ada.page.keyboard.press("Control+Enter")
    expect(ada.cell(1).locator(".output-stream")).to_have_text("False\n", timeout=LONG)
    ada.screenshot("kernel-hosts-switched")

    # A viewer sees where it runs, and has no way to change it.
    expect(cy.page.locator(".kernel-change")).to_have_count(0)
    for who in (ada, cy):
        who.assert_no_page_errors()
