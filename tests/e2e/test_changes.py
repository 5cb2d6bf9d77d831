"""Notebooks that version well, in the page: "Checkpoint" commits the notebook into its git
repository naming everyone who edited it (and says in words why it cannot: no repository,
nothing changed), and the playback page's "What changed" lists the cells changed between two
moments with who changed them and a line diff."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import wait_until

pytestmark = [pytest.mark.browser]


def git(root: Any, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True)
    return done.stdout


def test_checkpoint_and_what_changed(hub: Any, notebook_session: Any, join: Any) -> None:
    session = notebook_session(["x = 1", "print('hello')"])
    ada = join(session["edit_url"], "Ada")
    bob = join(session["edit_url"], "Bob")

    # Not a repository yet: said in words, nothing committed.
    ada.page.locator(".checkpoint-button").click()
    dialog = ada.page.locator(".checkpoint-dialog")
    dialog.locator(".checkpoint-go").click()
    expect(dialog.locator(".checkpoint-result")).to_contain_text("not in a git repository")
    dialog.locator(".checkpoint-close").click()

    git(hub.root, "init", "-q")
    git(hub.root, "config", "user.name", "Test Runner")
    git(hub.root, "config", "user.email", "runner@example.com")
    git(hub.root, "add", "nb.ipynb")
    git(hub.root, "commit", "-q", "-m", "start")

    # Two people edit the first cell.
    ada.type_at_end(0, "\ny = 2")
    wait_until(lambda: bob.source(0) == "x = 1\ny = 2", "Ada's edit at Bob")
    bob.type_at_end(0, "\nz = 3")
    wait_until(lambda: ada.source(0) == "x = 1\ny = 2\nz = 3", "Bob's edit at Ada")

    # Checkpoint: committed, naming both.
    ada.page.locator(".checkpoint-button").click()
    dialog.locator(".checkpoint-message").fill("Add y and z")
    dialog.locator(".checkpoint-go").click()
    result = dialog.locator(".checkpoint-result.ok")
    expect(result).to_contain_text("Add y and z — by Ada and Bob")
    ada.screenshot("checkpoint-committed")
    head = git(hub.root, "log", "-1", "--format=%H%n%B")
    commit = head.split("\n", 1)[0]
    expect(result).to_have_attribute("data-commit", commit)
    assert "Add y and z" in head and "Co-authored-by: Ada" in head and "Co-authored-by: Bob" in head
    dialog.locator(".checkpoint-close").click()

    # Again at once: nothing changed.
    ada.page.locator(".checkpoint-button").click()
    dialog.locator(".checkpoint-go").click()
    expect(dialog.locator(".checkpoint-result.failed")).to_contain_text(
        "Nothing changed since the last commit"
    )
    dialog.locator(".checkpoint-close").click()
    assert git(hub.root, "rev-parse", "HEAD").strip() == commit

    # The playback page: what changed from the start to now, and who changed it.
    replay = join(f"{hub.base}/s/{session['id']}/replay#token={session['view_token']}", None)
    page = replay.page
    page.locator(".replay-live").click()
    expect(page.locator(".replay-live")).to_have_text("● Live")
    page.locator(".changes-button").click()
    changes = page.locator(".changes-dialog")
    cell = changes.locator(".changed-cell.changed-changed")
    expect(cell).to_have_count(1)
    expect(cell.locator(".changed-what")).to_have_text(
        "Cell 1 (code) changed by Ada and Bob — source"
    )
    expect(cell.locator(".author-chip")).to_have_text(["Ada", "Bob"])
    expect(cell.locator(".diff-added .diff-text")).to_have_text(["y = 2", "z = 3"])
    expect(cell.locator(".diff-same .diff-text")).to_have_text(["x = 1"])
    expect(changes.locator(".changes-summary")).to_have_text("1 cell changed by Ada and Bob")
    replay.screenshot("what-changed")

    page.locator(".changes-dialog button[type=submit]").click()
    # Mark the start, then compare the mark with the end.
    replay.page.evaluate("() => window.collabd.replay.seek(window.collabd.replay.summary.start)")
    page.locator(".mark-button").click()
    page.locator(".changes-button").click()
    expect(changes.locator(".changes-from option")).to_have_count(2)
    changes.locator(".changes-to").select_option(index=2)  # the end
    expect(changes.locator(".changed-cell.changed-changed .author-chip")).to_have_text(
        ["Ada", "Bob"]
    )
    for who in (ada, bob, replay):
        who.assert_no_page_errors()
