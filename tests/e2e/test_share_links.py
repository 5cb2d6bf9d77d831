"""The share dialog's links: an owner makes a named link (shown once), its holder joins verified,
the owner revokes it and its holder is shut out; replacing the view link cuts its viewers off;
a viewer sees the view link only."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser]


def test_named_link_made_joined_and_revoked(notebook_session: Any, join: Any) -> None:
    session = notebook_session(["x = 1"])
    olga = join(session["edit_url"], "Olga")
    vera = join(session["view_url"], "Vera")
    page = olga.page

    page.locator(".share-button").click()
    dialog = page.locator(".share-dialog")
    expect(dialog.locator("input.share-edit")).to_have_value(session["edit_url"])
    expect(dialog.locator("input.share-view")).to_have_value(session["view_url"])
    expect(dialog.locator(".links-table")).to_contain_text("No named links yet.")

    # A name is needed: the refusal shows in the dialog.
    dialog.locator(".new-link-create").click()
    expect(dialog.locator(".share-error")).to_contain_text("Give the name")

    # The link for Ada, shown once, with the warning.
    dialog.locator(".new-link-name").fill("Ada")
    dialog.locator(".new-link-role").select_option("edit")
    dialog.locator(".new-link-expiry").select_option(label="expires in 7 days")
    dialog.locator(".new-link-create").click()
    made = dialog.locator(".new-link-url")
    expect(made).to_have_value(re.compile(rf"/s/{session['id']}#token=.+"))
    ada_url = made.input_value()
    assert ada_url not in (session["edit_url"], session["view_url"])
    expect(dialog.locator(".new-link-warning")).to_contain_text("shown only this once")
    expect(dialog.locator(".share-error")).to_be_hidden()
    row = dialog.locator(".link-row", has_text="Ada")
    expect(row).to_contain_text("active")
    expect(row).to_contain_text("in 7 d")
    expect(row).to_contain_text("an owner")
    olga.screenshot("share-named-link-made")
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)

    # Ada joins with it: not asked for a name, and shown verified to the others.
    ada = join(ada_url, None)
    ada_row = page.locator(".participants-panel .participant", has_text="Ada")
    expect(ada_row.locator(".participant-verified")).to_be_visible()
    expect(page.locator(".participants-panel .participant", has_text="Vera")).to_be_visible()
    expect(
        page.locator(".participants-panel .participant", has_text="Vera").locator(
            ".participant-verified"
        )
    ).to_have_count(0)
    olga.screenshot("share-ada-verified")

    # Ada's own share dialog: her own link, never the anonymous edit link.
    ada.page.locator(".share-button").click()
    expect(ada.page.locator(".share-you")).to_contain_text("Ada's own link")
    expect(ada.page.locator("input.share-edit")).to_have_count(0)
    expect(ada.page.locator("input.share-view")).to_have_value(session["view_url"])
    ada.page.keyboard.press("Escape")

    # Olga revokes it (after a confirmation): Ada is shut out at once.
    page.locator(".share-button").click()
    row = dialog.locator(".link-row", has_text="Ada")
    expect(row).not_to_contain_text("never")  # last seen: when Ada joined
    row.locator(".link-revoke").click()
    confirm = page.locator(".confirm-dialog")
    expect(confirm).to_contain_text("Ada is disconnected at once")
    confirm.locator(".confirm-ok").click()
    expect(row).to_contain_text("revoked")
    expect(row.locator(".link-revoke")).to_have_count(0)
    status = ada.page.locator(".connection")
    expect(status).to_have_attribute("data-status", "closed")
    expect(status).to_contain_text("This link was revoked")
    # nothing was left unsent: the save indicator does not claim changes are "kept" for later
    expect(ada.page.locator(".save-indicator")).to_be_hidden()
    ada.type_at_end(0, " + 1")  # an edit after the cut goes nowhere, and is said not sent
    expect(ada.page.locator(".save-indicator")).to_have_text(
        "Not sent: changes since the connection closed"
    )
    ada.screenshot("share-ada-revoked")

    # Replacing the view link cuts off who watches with it; the dialog shows the new one.
    page.locator(".replace-view").click()
    page.locator(".confirm-dialog .confirm-ok").click()
    expect(dialog.locator("input.share-view")).not_to_have_value(session["view_url"])
    expect(dialog.locator("input.share-view")).to_have_value(re.compile(r"#token=.+"))
    expect(vera.page.locator(".connection")).to_have_attribute("data-status", "closed")
    olga.screenshot("share-dialog-owner")

    # Replacing the edit link this page joined with: the page opens again with the new one.
    old_edit = dialog.locator("input.share-edit").input_value()
    page.locator(".replace-edit").click()
    confirm = page.locator(".confirm-dialog")
    expect(confirm).to_contain_text("This page joined with it too")
    confirm.locator(".confirm-ok").click()
    expect(page.locator(".share-dialog")).to_have_count(0)  # reloaded
    page.wait_for_selector("body[data-ready=true]")
    expect(page.locator(".connection")).to_have_attribute("data-status", "connected")
    page.locator(".share-button").click()
    expect(dialog.locator("input.share-edit")).not_to_have_value(old_edit)
    for who in (olga, ada, vera):
        who.assert_no_page_errors()


def test_viewer_sees_the_view_link_only(notebook_session: Any, join: Any) -> None:
    session = notebook_session(["x = 1"])
    vera = join(session["view_url"], "Vera")
    vera.page.locator(".share-button").click()
    dialog = vera.page.locator(".share-dialog")
    expect(dialog.locator("input.share-view")).to_have_value(session["view_url"])
    expect(dialog.locator("input.share-edit")).to_have_count(0)
    expect(dialog.locator(".replace-view")).to_have_count(0)
    expect(dialog.locator(".share-named")).to_be_hidden()
    vera.assert_no_page_errors()
