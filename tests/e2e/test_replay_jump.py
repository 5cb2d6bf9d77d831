"""Playback: "jump to run" shows that run's output with its cell in view; a progress bar's
output (carriage returns) is listed as its final state."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import HubProcess

from .conftest import markdown, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.kernel]

LONG = 90_000  # the first run starts the kernel

PROGRESS = """\
import time
for p in range(0, 101, 25):
    print(f"\\r{p}%", end="", flush=True)
    time.sleep(0.1)
print("\\ndone")
"""


def test_jump_to_run_shows_its_output(hub: HubProcess, notebook_session: Any, join: Any) -> None:
    fillers = [markdown(f"## Section {i}\n\nSome text.") for i in range(30)]
    session = notebook_session([*fillers, PROGRESS])
    ada = join(session["edit_url"], "Ada")
    last = ada.cell(30)
    last.locator(".cell-prompt").click()
    last.locator(".tool-run").click()
    expect(last.locator(".cell-outputs")).to_contain_text("done", timeout=LONG)
    expect(last).to_have_attribute("data-execution-state", "idle")

    replay = join(f"{hub.base}/s/{session['id']}/replay#token={session['view_token']}", None)
    page = replay.page
    preview = page.locator(".replay-run-output")
    expect(preview).to_have_text("100%\ndone\n")
    page.locator(".replay-run").first.click()
    cell = page.locator(".cells > .cell").nth(30)
    expect(cell.locator(".cell-outputs")).to_contain_text("100%")
    expect(cell).to_have_class(re.compile(r"\bselected\b"))
    expect(cell).to_be_in_viewport()
    wait_until(
        lambda: cell.evaluate("c => c.getBoundingClientRect().top < innerHeight / 2"),
        "the cell near the top of the view",
    )
    replay.screenshot("replay-jump-to-run")
    ada.assert_no_page_errors()
    replay.assert_no_page_errors()
