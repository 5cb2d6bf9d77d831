"""Kernel HTML cannot reach the page: no script runs in the page's origin, the token stays put."""

from __future__ import annotations

import re
from typing import Any

import nbformat
from playwright.sync_api import expect

from .conftest import WAIT_MS, code, markdown, wait_until

ATTACK = """
<p id="probe">html output</p>
<div style="height: 150px; background: #eef">a tall block</div>
<script>
  try { parent.document.title = 'pwned'; } catch (e) {}
  try { top.document.body.innerHTML = 'pwned'; } catch (e) {}
  try { localStorage.setItem('pwned', '1'); } catch (e) {}
  try { parent.localStorage.setItem('pwned', '1'); } catch (e) {}
  try { parent.postMessage({collabdFrameHeight: 99999}, '*'); } catch (e) {}
  try { fetch('/api/sessions', {credentials: 'include'}); } catch (e) {}
</script>
<img src="x" onerror="parent.document.title='pwned-img'">
"""

SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20">'
    '<script>parent.document.title="pwned-svg"</script>'
    '<rect width="40" height="20" fill="teal"/></svg>'
)
MD_CELL = (
    "Markdown <img src=x onerror=\"document.title='pwned-md'\"> <script>document.title='x'</script>"
)
MD_OUT = "**bold** <img src=x onerror=\"parent.document.title='pwned-md3'\">"


def test_html_output_is_sandboxed(notebook_session: Any, join: Any) -> None:
    out = nbformat.v4.new_output
    session = notebook_session(
        [
            markdown(MD_CELL),
            code(
                "display(HTML(...))",
                outputs=[out("display_data", data={"text/html": ATTACK, "text/plain": "<HTML>"})],
            ),
            code("svg", outputs=[out("display_data", data={"image/svg+xml": SVG})]),
            code(
                "md",
                outputs=[
                    out(
                        "display_data",
                        data={"text/markdown": MD_OUT},
                    )
                ],
            ),
        ]
    )
    ada = join(session["edit_url"], "Ada")
    page = ada.page
    frame_el = ada.cell(1).locator("iframe.output-html")
    expect(frame_el).to_have_count(1)
    sandbox = frame_el.get_attribute("sandbox") or ""
    assert "allow-same-origin" not in sandbox
    assert frame_el.get_attribute("src") is None
    # The HTML is shown (inside the frame) ...
    expect(
        page.frame_locator(".cells > .cell >> nth=1 >> iframe.output-html").locator("#probe")
    ).to_have_text("html output", timeout=WAIT_MS)
    expect(ada.cell(2).locator("img.output-image")).to_have_attribute(
        "src", re.compile(r"^data:image/svg\+xml;base64,")
    )
    expect(ada.cell(3).locator(".output-markdown strong")).to_have_text("bold")
    page.wait_for_timeout(1500)  # give any script that could run the time to do so
    # ... and nothing in it reached the page.
    assert page.title() == "nb.ipynb — collabd"
    assert page.evaluate("() => localStorage.getItem('pwned')") is None
    assert "pwned" not in page.locator("body").inner_text()
    assert page.locator(".cell-rendered img[onerror]").count() == 0
    assert page.locator(".cell-rendered script").count() == 0
    # The frame fits its content (the page's own reporter script), within a cap.
    wait_until(
        lambda: frame_el.evaluate("f => f.getBoundingClientRect().height") > 150,
        "frame sized to content",
    )
    height = frame_el.evaluate("f => f.getBoundingClientRect().height")
    assert height <= 1200, "a frame may not size itself beyond the cap"
    ada.screenshot("html-sandbox")
    ada.assert_no_page_errors()
