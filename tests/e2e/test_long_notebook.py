"""A long notebook in the browser: a cell's editor, toolbar and comment badge work wherever the
cell is, though the page makes a cell's editor and toolbar only once it comes near the view
(a 1,000-cell notebook would otherwise build ~27,000 elements before the first edit)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import WAIT_MS, Participant

pytestmark = [pytest.mark.browser]

LONG = 90_000  # the first run starts the kernel
CELLS = 300


def test_a_cell_far_down_a_long_notebook_has_its_tools_once_reached(
    notebook_session: Any, join: Any
) -> None:
    session = notebook_session([f"x{i} = {i}" for i in range(CELLS - 1)] + ["print(6 * 7)"])
    ada: Participant = join(session["edit_url"], "Ada")
    vic: Participant = join(session["view_url"], "Vic")
    expect(ada.page.locator(".cells > .cell")).to_have_count(CELLS)
    # near the top only: the page stays light however long the notebook is
    assert ada.page.locator(".cells > .cell .cell-tools").count() < CELLS // 2
    assert ada.page.locator(".cells > .cell .cm-editor").count() < CELLS // 2

    last = ada.cell(CELLS - 1)
    last.scroll_into_view_if_needed()
    last.hover()
    expect(last.locator(".cell-tools")).to_be_visible()
    last.locator(".tool-run").click()
    expect(last.locator(".cell-outputs")).to_contain_text("42", timeout=LONG)
    expect(last.locator(".cm-content")).to_have_text("print(6 * 7)")

    # the comment badge is there too, and opens the cell's comments
    last.locator(".cell-comment-badge").click()
    expect(last.locator(".cell-comments textarea").first).to_be_visible(timeout=WAIT_MS)

    # a viewer gets no toolbar, however far it goes
    far = vic.cell(CELLS - 1)
    far.scroll_into_view_if_needed()
    far.hover()
    expect(far.locator(".cell-outputs")).to_contain_text("42", timeout=LONG)
    expect(vic.page.locator(".cell-tools")).to_have_count(0)
    for who in (ada, vic):
        who.assert_no_page_errors()
