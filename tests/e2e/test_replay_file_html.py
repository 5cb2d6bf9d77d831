"""A recording with kernel HTML output, exported and served by `collabd replay FILE`: the
playback page renders the HTML in its sandboxed frame, as the live page does."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from playwright.sync_api import expect

from collabd.api.web import FRAME_HEADERS
from collabd.client import NotebookClient
from tests.support.hubproc import REPLAY_TOKEN, HubProcess, start_replay
from tests.support.kernel import WAIT, finished

from .conftest import WAIT_MS, Participant

pytestmark = [pytest.mark.browser, pytest.mark.kernel]

HTML_CODE = (
    "from IPython.display import HTML, display\n"
    "display(HTML('<p id=\"probe\">rendered <b>in replay</b></p>'))"
)


async def _record(edit_url: str) -> None:
    async with NotebookClient.from_link(edit_url, name="Ada") as ada:
        cell = ada.cell_ids()[0]
        await ada.run(cell)
        await ada.wait_for(lambda: finished(ada, cell), WAIT)
        html = [o for o in ada.outputs(cell) if "text/html" in o.get("data", {})]
        assert html, ada.outputs(cell)


def test_replayed_file_renders_html_output(
    notebook_session: Any, join: Any, hub: HubProcess
) -> None:
    session = notebook_session([HTML_CODE], name="html.ipynb")
    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API holds this thread's event loop
        pool.submit(asyncio.run, _record(session["edit_url"])).result()
    status, data, _ = hub.get(f"/api/sessions/{session['id']}/recording/export")
    assert status == 200
    file = hub.root.parent / "html.collabd"
    file.write_bytes(data)
    served = start_replay(file, hub.root.parent)
    try:
        status, _frame, headers = served.get("/frame")
        assert status == 200
        assert headers["content-security-policy"] == FRAME_HEADERS["Content-Security-Policy"]
        viewer: Participant = join(
            f"{served.base}/s/{session['id']}/replay#token={REPLAY_TOKEN}", None
        )
        page = viewer.page
        expect(page.locator(".replay-badge")).to_have_text("Recording file")
        end = page.evaluate("() => window.collabd.replay.summary.end")
        page.evaluate("(t) => window.collabd.replay.seek(t)", end)
        page.wait_for_function(
            "(t) => Math.abs(Number(document.body.dataset.replayShown) - t) < 1e-3", arg=end
        )
        frame_el = page.locator(".cells > .cell").nth(0).locator("iframe.output-html")
        expect(frame_el).to_have_count(1)
        assert "allow-same-origin" not in (frame_el.get_attribute("sandbox") or "")
        assert frame_el.get_attribute("src") == "/frame"
        inside = page.frame_locator(".cells > .cell >> nth=0 >> iframe.output-html")
        expect(inside.locator("#probe")).to_have_text("rendered in replay", timeout=WAIT_MS)
        expect(inside.locator("#probe b")).to_have_text("in replay")
        viewer.screenshot("replay-file-html")
        viewer.assert_no_page_errors()
    finally:
        served.stop()
