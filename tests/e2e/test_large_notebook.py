"""A 500-cell notebook opens with lazily created editors; prints how long it took."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import REPO, WAIT_MS, wait_until

pytestmark = pytest.mark.browser

CELLS = 500


def measure_open(join: Any, url: str) -> dict[str, float]:
    """Milliseconds from navigation start until the first cell takes typing, with the parts."""
    who = join(url, "Ada", wait_ready=False)
    page = who.page
    page.wait_for_function(
        "() => document.body.dataset.ready === 'true'"
        " && document.querySelector('.cm-content[contenteditable=true]')",
        polling="raf",
        timeout=WAIT_MS * 2,
    )
    editable = float(page.evaluate("() => performance.now()"))
    nav = page.evaluate("() => performance.getEntriesByType('navigation')[0].toJSON()")
    marks = page.evaluate(
        "() => Object.fromEntries("
        "performance.getEntriesByType('mark').map(m => [m.name, m.startTime]))"
    )
    return {
        "editable_ms": editable,
        "dom_content_loaded_ms": float(nav["domContentLoadedEventEnd"]),
        "sync_ms": float(marks["collabd:synced"]) - float(marks["collabd:info"]),
        "draw_ms": float(marks["collabd:drawn"]) - float(marks["collabd:synced"]),
        "who": who,
    }


def describe(label: str, f: dict[str, Any]) -> str:
    return (
        f"{label}: editable after {f['editable_ms']:.0f} ms "
        f"(page loaded {f['dom_content_loaded_ms']:.0f} ms, "
        f"sync {f['sync_ms']:.0f} ms, draw {f['draw_ms']:.0f} ms)"
    )


def test_500_cells_open_lazily(notebook_session: Any, join: Any) -> None:
    cells = [
        f"# cell {i}\nx{i} = {i} * 2\nprint(x{i})" if i % 5 else f"## Section {i}"
        for i in range(CELLS)
    ]
    session = notebook_session(cells, name="big.ipynb")
    cold = measure_open(join, session["edit_url"])  # the hub loads the room from the .ipynb
    warm = measure_open(join, session["edit_url"])  # the room is already in memory
    ada = warm.pop("who")
    page = ada.page
    assert ada.cell_count() == CELLS
    expect(page.locator(".cells > .cell")).to_have_count(CELLS)
    # Only cells near the viewport got an editor; the rest are light placeholders.
    editors = page.locator(".cm-editor").count()
    assert 0 < editors < 100, editors
    assert page.locator(".cell-placeholder").count() > CELLS - 100

    # Typing works right away, and scrolling to the end brings editors there.
    ada.type_at_end(1, "  # typed")
    wait_until(lambda: ada.source(1).endswith("# typed"), "typed text")
    page.keyboard.press("Escape")
    page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
    expect(ada.cell(CELLS - 1).locator(".cm-editor")).to_have_count(1, timeout=WAIT_MS)
    # Editors far behind were let go (the one with focus or typing would be kept).
    expect(ada.cell(1).locator(".cm-editor")).to_have_count(0, timeout=WAIT_MS)
    assert page.locator(".cm-editor").count() < 100
    assert ada.source(1).endswith("# typed")
    ada.screenshot("large-notebook-end")

    line = (
        f"web_open {CELLS} cells, {editors} editors created at first; "
        + describe("first open (room cold)", cold)
        + "; "
        + describe("second open (room warm)", warm)
    )
    print("\n" + line)
    out = REPO / "test-output"
    out.mkdir(exist_ok=True)
    (out / "web_open.txt").write_text(line + "\n")
    ada.assert_no_page_errors()
