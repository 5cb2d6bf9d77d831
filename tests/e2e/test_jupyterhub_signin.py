"""Through a real JupyterHub, in Chromium: a person opens a collabd session's address with no
token, is sent to the hub's login form, signs in, and comes back to the notebook under
/services/collabd/, which loads and edits by the sign-in alone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.support.hubproc import TOKEN
from tests.support.jhub import PASSWORD, JupyterHubProcess

from .conftest import SCREENSHOTS, WAIT_MS, wait_until, write_notebook

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ADMIN = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def jhub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterHubProcess]:
    hub = JupyterHubProcess(tmp_path_factory.mktemp("jhub-e2e"))
    hub.root.mkdir(parents=True)
    write_notebook(hub.root, "team.ipynb", ["x = 1"])
    hub.start()
    yield hub
    hub.stop()


def admin(hub: JupyterHubProcess, method: str, path: str, body: Any = None) -> Any:
    response = httpx.request(method, f"{hub.service}{path}", json=body, headers=ADMIN, timeout=30)
    assert response.status_code < 300, response.text
    return response.json()


def test_signing_in_through_the_hub_opens_the_notebook(
    jhub: JupyterHubProcess, browser: Browser
) -> None:
    s = admin(jhub, "POST", "/api/sessions", {"path": "team.ipynb"})
    admin(jhub, "POST", f"/api/sessions/{s['id']}/grants", {"user": "alice", "role": "edit"})
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{jhub.service}/s/{s['id']}")
        # No token, not signed in: off to the hub's own login form.
        page.wait_for_url("**/hub/login**")
        page.fill("input[name=username]", "alice")
        page.fill("input[name=password]", PASSWORD)
        page.click("#login_submit")
        page.wait_for_url(f"**/services/collabd/s/{s['id']}")
        page.wait_for_selector("body[data-ready=true]")
        expect(page.locator(".cells > .cell")).to_have_count(1)
        # The hub names her, whatever the page would have asked.
        name = "() => window.collabd.session.awareness.getLocalState()?.user?.name"
        assert page.evaluate(name) == "alice"
        page.locator(".cells > .cell").nth(0).locator(".cell-editor").click()
        page.keyboard.press("Control+End")
        page.keyboard.type(" + 41")

        def saved() -> bool:
            nb = admin(jhub, "GET", f"/api/sessions/{s['id']}/notebook")
            return "".join(nb["cells"][0]["source"]) == "x = 1 + 41"

        wait_until(saved, "alice's edit in the shared notebook")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "jupyterhub-signin.png"))
        # Her home page lists what is shared with her, and opens it by the sign-in.
        page.goto(f"{jhub.service}/")
        page.wait_for_selector("body[data-ready=true]")
        shared = page.locator(".shared-session a")
        expect(shared).to_have_text(["team.ipynb"])
        page.screenshot(path=str(SCREENSHOTS / "jupyterhub-home.png"))
        shared.click()
        page.wait_for_url(f"**/services/collabd/s/{s['id']}")
        expect(page.locator(".cells > .cell")).to_have_count(1)
        # Signing out forgets collabd's sign-in cookie; the page says so and offers the hub's login.
        page.goto(f"{jhub.service}/")
        page.locator(".sign-out").click()
        expect(page.locator(".signed-out")).to_contain_text("Signed out")
        login = page.locator(".signed-out .hub-sign-in")
        expect(login).to_have_attribute("href", re.compile(r"/services/collabd/login\?next="))
        assert page.evaluate("() => fetch('api/me').then((r) => r.json())")["user"] is None
        assert errors == []
    finally:
        context.close()
