"""Joining asks for a name once; sharing gives both links; the notebook downloads as .ipynb."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import WAIT_MS

pytestmark = pytest.mark.browser


def test_name_is_asked_once_and_remembered(notebook_session: Any, join: Any) -> None:
    session = notebook_session(["x = 1"])
    who = join(session["edit_url"], None, wait_ready=False)
    page = who.page
    dialog = page.locator("dialog.name-dialog")
    expect(dialog).to_be_visible(timeout=WAIT_MS)
    who.screenshot("join-name-prompt")
    page.locator(".name-field").fill("  Grace   Hopper ")
    page.keyboard.press("Enter")
    page.wait_for_selector("body[data-ready=true]", timeout=WAIT_MS)
    expect(page.locator(".participant.self")).to_contain_text("Grace Hopper (you)")
    assert page.evaluate("() => localStorage.getItem('collabd.name')") == "Grace Hopper"

    # The colour is the same on every visit: it comes from the name.
    colour = page.locator(".participant.self .participant-dot").evaluate("e => e.style.background")
    page.reload()
    page.wait_for_selector("body[data-ready=true]", timeout=WAIT_MS)
    expect(page.locator("dialog.name-dialog")).to_have_count(0)
    expect(page.locator(".participant.self")).to_contain_text("Grace Hopper (you)")
    assert (
        page.locator(".participant.self .participant-dot").evaluate("e => e.style.background")
        == colour
    )
    who.assert_no_page_errors()


def test_share_links_and_download(notebook_session: Any, join: Any) -> None:
    session = notebook_session(["x = 41 + 1"])
    ada = join(session["edit_url"], "Ada")
    page = ada.page
    ada.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.locator(".share-button").click()
    edit_link = page.locator("input.share-edit")
    view_link = page.locator("input.share-view")
    expect(edit_link).to_have_value(session["edit_url"])
    expect(view_link).to_have_value(session["view_url"])
    page.locator("button.copy-view").click()
    expect(page.locator("button.copy-view")).to_have_text("Copied")
    assert page.evaluate("() => navigator.clipboard.readText()") == session["view_url"]
    ada.screenshot("share-dialog")
    page.keyboard.press("Escape")

    with page.expect_download() as info:
        page.locator(".download-button").click()
    download = info.value
    assert download.suggested_filename == "nb.ipynb"
    nb = json.loads(Path(download.path()).read_text())
    assert nb["nbformat"] == 4
    assert "".join(nb["cells"][0]["source"]) == "x = 41 + 1"

    # A viewer's share dialog offers only the view link.
    viewer = join(session["view_url"], "Vera")
    viewer.page.locator(".share-button").click()
    expect(viewer.page.locator("input.share-view")).to_have_value(session["view_url"])
    expect(viewer.page.locator("input.share-edit")).to_have_count(0)
    ada.assert_no_page_errors()


def test_bad_links_say_what_is_wrong(notebook_session: Any, join: Any, hub: Any) -> None:
    session = notebook_session(["x = 1"])
    wrong = join(f"{hub.base}/s/{session['id']}#token=wrong", "Ada", wait_ready=False)
    expect(wrong.page.locator(".fatal h1")).to_have_text("This link is not valid", timeout=WAIT_MS)
    missing = join(f"{hub.base}/s/{session['id']}", "Ada", wait_ready=False)
    expect(missing.page.locator(".fatal h1")).to_have_text(
        "This link is incomplete", timeout=WAIT_MS
    )
    # The same bundle routes /s/{id}/replay to the playback page.
    replay_url = session["view_url"].replace(f"/s/{session['id']}", f"/s/{session['id']}/replay")
    replay = join(replay_url, "Ada", wait_ready=False)
    expect(replay.page).to_have_title(re.compile(r"^Replay"), timeout=WAIT_MS)
