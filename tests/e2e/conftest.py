"""End-to-end fixtures: a built web client, a real hub, real Chromium (Debian's, headless).

Each test starts its own `collabd serve` (the `hub` fixture of tests/conftest.py, a HubProcess of
tests/support/hubproc.py: free port, tmp root and data, admin token), writes a notebook into its
root, creates a session over HTTP and opens the page in one browser context per participant.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Locator,
    Page,
    Playwright,
    expect,
    sync_playwright,
)

from tests.support.hubproc import HubProcess

REPO = Path(__file__).resolve().parents[2]
WEB = REPO / "web"
STATIC = REPO / "collabd" / "static"
SCREENSHOTS = REPO / "test-output" / "screenshots"
CHROMIUM = os.environ.get("COLLABD_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WAIT_MS = 30_000
# Generous by default: these tests share two cores with other suites.
expect.set_options(timeout=WAIT_MS)


def _newest_source_mtime() -> float:
    paths = [WEB / "index.html", WEB / "package-lock.json", WEB / "vite.config.ts"]
    paths += list((WEB / "src").rglob("*")) + list((WEB / "public").rglob("*"))
    return max(p.stat().st_mtime for p in paths if p.is_file())


@pytest.fixture(scope="session", autouse=True)
def web_build() -> None:
    """Builds the client if missing or older than its sources (`npm ci && npm run build`)."""
    index = STATIC / "index.html"
    if index.is_file() and index.stat().st_mtime >= _newest_source_mtime():
        return
    npm = shutil.which("npm")
    assert npm, "npm is needed to build the web client"
    if not (WEB / "node_modules").is_dir():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=WEB, check=True)
    subprocess.run([npm, "run", "build"], cwd=WEB, check=True)


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    # A module at most: Playwright's sync API marks its event loop as running in this thread
    # for as long as it is open, and the asyncio tests that follow on this worker would fail.
    with sync_playwright() as p:
        yield p


class _Chromium:
    """One Chromium per test module: starting Playwright's driver and a browser took ~2.5 s a
    test here. Tests are kept apart by their own browser contexts (cookies, storage, pages)."""

    def __init__(self, playwright: Playwright) -> None:
        self.playwright = playwright
        self.current: Browser | None = None

    def get(self) -> Browser:
        if self.current is None or not self.current.is_connected():  # a test crashed it
            self.current = self.playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
        return self.current


@pytest.fixture(scope="module")
def chromium(playwright: Playwright) -> Iterator[_Chromium]:
    chromium = _Chromium(playwright)
    yield chromium
    if chromium.current is not None:
        chromium.current.close()


@pytest.fixture
def browser(chromium: _Chromium) -> Iterator[Browser]:
    b = chromium.get()
    yield b
    for context in b.contexts:  # whatever a test left open is not seen by the next one
        context.close()


def code(source: str, **kw: Any) -> Any:
    return nbformat.v4.new_code_cell(source, **kw)


def markdown(source: str) -> Any:
    return nbformat.v4.new_markdown_cell(source)


def write_notebook(root: Path, name: str, cells: list[Any]) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [code(c) if isinstance(c, str) else c for c in cells]
    nbformat.write(nb, root / name)


@pytest.fixture
def notebook_session(hub: HubProcess) -> Callable[..., dict[str, Any]]:
    """Writes a notebook into the hub's root and creates its session; returns the session JSON."""

    def make(cells: list[Any], name: str = "nb.ipynb") -> dict[str, Any]:
        write_notebook(hub.root, name, cells)
        return hub.create_session(name)

    return make


def wait_until(check: Callable[[], Any], what: str, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what} (last value: {last!r})")


@dataclass
class Participant:
    """One person in one browser context."""

    name: str
    context: BrowserContext
    page: Page
    errors: list[str] = field(default_factory=list)

    def cell(self, index: int) -> Locator:
        return self.page.locator(".cells > .cell").nth(index)

    def editor(self, index: int) -> Locator:
        return self.cell(index).locator(".cm-content")

    def source(self, index: int) -> str:
        """The cell's text in this participant's copy of the shared document."""
        return str(
            self.page.evaluate(
                "(i) => window.collabd.session.notebook.cells[i]?.getSource() ?? null",
                index,
            )
        )

    def cell_count(self) -> int:
        return int(self.page.evaluate("() => window.collabd.session.notebook.cells.length"))

    def type_at_end(self, index: int, text: str) -> None:
        cell = self.cell(index)
        cell.scroll_into_view_if_needed()
        cell.locator(".cell-editor").click()
        self.editor(index).wait_for(timeout=WAIT_MS)
        self.page.keyboard.press("Control+End")
        self.page.keyboard.type(text)

    def screenshot(self, name: str, full_page: bool = False) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    def assert_no_page_errors(self) -> None:
        assert self.errors == [], self.errors


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Remembers whether the test body failed, for the fixtures' teardown to see."""
    report = yield
    if report.when == "call":
        item.stash[FAILED] = report.failed
    return report


FAILED = pytest.StashKey[bool]()


@pytest.fixture
def join(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Callable[..., Participant]]:
    """Opens a link as a named participant (the name pre-set, as if remembered from before)."""
    contexts: list[BrowserContext] = []

    def open_link(
        url: str, name: str | None, *, width: int = 1280, height: int = 800, wait_ready: bool = True
    ) -> Participant:
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        if name is not None:
            # Runs in every frame, sandboxed output frames too, where localStorage throws.
            context.add_init_script(
                f"try {{ localStorage.setItem('collabd.name', {json.dumps(name)}) }} catch (e) {{}}"
            )
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        who = Participant(name or "", context, page)
        page.on("pageerror", lambda e: who.errors.append(str(e)))
        page.goto(url)
        if wait_ready:
            page.wait_for_selector("body[data-ready=true]", timeout=WAIT_MS)
        return who

    yield open_link
    if request.node.stash.get(FAILED, False):
        # What each participant saw when the test failed, for a person to look at.
        for i, context in enumerate(contexts):
            for page in context.pages:
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SCREENSHOTS / f"FAILED-{request.node.name}-{i}.png"))
    for context in contexts:
        context.close()
