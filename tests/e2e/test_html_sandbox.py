"""Kernel HTML cannot reach the page: no script runs in the page's origin, the token stays put."""

from __future__ import annotations

import re
import urllib.request
from typing import Any

import nbformat
import pytest
from playwright.sync_api import expect

from .conftest import WAIT_MS, code, markdown, wait_until

pytestmark = pytest.mark.browser

# Its scripts run (in their frame) and catch what the sandbox throws at them, so that any page
# error left is the page's own.
ATTACK = """
<p id="probe">html output</p>
<div style="height: 150px; background: #eef">a tall block</div>
<script>
  try { parent.document.title = 'pwned'; } catch (e) {}
  try { top.document.body.innerHTML = 'pwned'; } catch (e) {}
  try { localStorage.setItem('pwned', '1'); } catch (e) {}
  try { parent.localStorage.setItem('pwned', '1'); } catch (e) {}
  try { parent.postMessage({collabdFrameHeight: 99999}, '*'); } catch (e) {}
  fetch('/api/sessions', {credentials: 'include'}).catch(function () {});
</script>
<img src="x" onerror="try { parent.document.title='pwned-img' } catch (e) {}">
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
    assert frame_el.get_attribute("src") == "/frame"
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
    # The frame fits its content (the frame document's reporter script), within a cap.
    wait_until(
        lambda: frame_el.evaluate("f => f.getBoundingClientRect().height") > 150,
        "frame sized to content",
    )
    height = frame_el.evaluate("f => f.getBoundingClientRect().height")
    assert height <= 1200, "a frame may not size itself beyond the cap"
    ada.screenshot("html-sandbox")
    ada.assert_no_page_errors()


# Loads a "library" from elsewhere (a data: URL standing in for a CDN), then uses it, as Plotly's
# output does; then probes what it can reach and writes what it got into its own document.
SCRIPTED = """
<div id="ran">not run</div>
<div id="lib"></div><div id="eval"></div><div id="origin"></div>
<div id="parent-doc"></div><div id="parent-storage"></div><div id="storage"></div>
<script src="data:text/javascript,window.fakePlot=function(id){
  document.getElementById(id).textContent='plotted'}"></script>
<script>
  document.getElementById('ran').textContent = 'ran';
  function probe(id, f) {
    var got;
    try { got = 'got:' + String(f()); } catch (e) { got = 'blocked:' + e.name; }
    document.getElementById(id).textContent = got;
  }
  fakePlot('lib');
  probe('eval', function () { return eval('6 * 7'); });
  probe('origin', function () { return self.origin; });
  probe('parent-doc', function () { return parent.document.title; });
  probe('parent-storage', function () { return parent.localStorage.getItem('collabd.name'); });
  probe('storage', function () { return localStorage.getItem('collabd.name'); });
</script>
"""


def test_html_output_scripts_run_in_their_frame_only(
    notebook_session: Any, join: Any, hub: Any
) -> None:
    out = nbformat.v4.new_output
    session = notebook_session(
        [code("fig.show()", outputs=[out("display_data", data={"text/html": SCRIPTED})])]
    )
    ada = join(session["edit_url"], "Ada")
    frame_el = ada.cell(0).locator("iframe.output-html")
    expect(frame_el).to_have_count(1)
    assert "allow-same-origin" not in (frame_el.get_attribute("sandbox") or "")
    inside = ada.page.frame_locator(".cells > .cell >> nth=0 >> iframe.output-html")
    # Its scripts run, in order (the external one first), eval included ...
    expect(inside.locator("#ran")).to_have_text("ran", timeout=WAIT_MS)
    expect(inside.locator("#lib")).to_have_text("plotted")
    expect(inside.locator("#eval")).to_have_text("got:42")
    # ... in an opaque origin: not the page, not its storage (where the name 'Ada' is).
    expect(inside.locator("#origin")).to_have_text("got:null")
    expect(inside.locator("#parent-doc")).to_have_text(re.compile(r"^blocked:"))
    expect(inside.locator("#parent-storage")).to_have_text(re.compile(r"^blocked:"))
    expect(inside.locator("#storage")).to_have_text(re.compile(r"^blocked:"))
    assert ada.page.evaluate("() => localStorage.getItem('collabd.name')") == "Ada"
    assert ada.page.title() == "nb.ipynb — collabd"
    # The frame document: its own relaxed CSP, sandboxed even if opened on its own, no referrer.
    with urllib.request.urlopen(f"{hub.base}/frame", timeout=30) as resp:
        csp = resp.headers["Content-Security-Policy"]
        assert resp.headers["Referrer-Policy"] == "no-referrer"
        body = resp.read().decode()
    assert "sandbox allow-scripts allow-popups;" in csp and "allow-same-origin" not in csp
    assert "'unsafe-inline'" in csp and "'unsafe-eval'" in csp
    assert "token" not in body
    wait_until(
        lambda: frame_el.evaluate("f => f.getBoundingClientRect().height") > 60,
        "frame sized to content",
    )
    # A frame moved in the DOM reloads: the page posts its HTML in again.
    inside.locator("#ran").evaluate("e => { e.textContent = 'stale' }")
    frame_el.evaluate("f => { const p = f.parentElement; f.remove(); p.append(f) }")
    expect(inside.locator("#ran")).to_have_text("ran")
    expect(inside.locator("#lib")).to_have_text("plotted")
    ada.screenshot("html-scripts")
    ada.assert_no_page_errors()
