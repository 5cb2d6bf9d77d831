"""The home page at /: the admin token signs in (a wrong one is refused, and it never goes in a
URL), the notebooks under the root with their sessions, a filter, a new notebook created and
opened, Share with both links, sign out; at desktop and phone widths without sideways scrolling."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import write_notebook

pytestmark = [pytest.mark.browser]


def no_sideways_scroll(page: Any) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert width <= 0, f"the page scrolls sideways by {width}px"


def test_home_sign_in_list_create_open(hub: Any, notebook_session: Any, join: Any) -> None:
    (hub.root / "reports").mkdir()
    write_notebook(hub.root, "reports/quarterly-figures-with-a-long-name.ipynb", ["1 + 1"])
    write_notebook(hub.root, "scratch.ipynb", [])
    live = notebook_session(["x = 1"], name="analysis.ipynb")
    ada = join(live["edit_url"], "Ada")  # someone is in analysis.ipynb

    me = join(hub.base + "/", "Me")
    page = me.page
    # A wrong token is refused, and said to be.
    page.locator(".token-field").fill("not-the-token")
    page.locator(".sign-in-button").click()
    expect(page.locator(".sign-in-error")).to_have_text(
        "This token is not the admin token of this server."
    )
    me.screenshot("home-wrong-token")

    page.locator(".token-field").fill(hub.token)
    page.locator(".sign-in-button").click()
    rows = page.locator(".notebook-row")
    expect(rows).to_have_count(3)
    assert hub.token not in page.url
    # Live sessions first, with who is there.
    expect(rows.first).to_have_attribute("data-path", "analysis.ipynb")
    expect(rows.first.locator(".notebook-live")).to_have_text("1 here now")
    expect(page.locator(".notebook-row[data-path='scratch.ipynb'] .notebook-live")).to_have_count(0)
    me.screenshot("home-list-1280")
    no_sideways_scroll(page)

    # The filter.
    page.locator(".notebook-filter").fill("report")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute(
        "data-path", "reports/quarterly-figures-with-a-long-name.ipynb"
    )
    page.locator(".notebook-filter").fill("")
    expect(rows).to_have_count(3)

    # Share: both links, the session made if there was none.
    page.locator(".notebook-row[data-path='scratch.ipynb'] .notebook-share").click()
    expect(page.locator(".share-dialog .share-edit")).to_have_value(re.compile(r"/s/[^/]+#token="))
    expect(page.locator(".share-dialog .share-view")).to_have_value(re.compile(r"/s/[^/]+#token="))
    page.locator(".share-dialog button[type=submit]").click()

    # Phone width: one column, nothing sideways.
    page.set_viewport_size({"width": 360, "height": 740})
    expect(rows).to_have_count(3)
    me.screenshot("home-list-360")
    no_sideways_scroll(page)
    page.set_viewport_size({"width": 1280, "height": 800})

    # Signed in for the tab: a reload lists at once.
    page.reload()
    expect(rows).to_have_count(3)

    # A new notebook: created on disk, opened at its edit link.
    page.locator(".new-notebook").click()
    page.locator(".new-name").fill("fresh")
    me.screenshot("home-new")
    page.locator(".new-create").click()
    # the page takes the token out of the address bar as soon as it has it: either may be seen
    page.wait_for_url(re.compile(r"/s/[^/#]+(#token=.+)?$"))
    page.wait_for_selector("body[data-ready=true]")
    expect(page.locator(".nb-path")).to_have_text("fresh.ipynb")
    assert (hub.root / "fresh.ipynb").is_file()

    # Back home: it is listed; Open goes to the live one; sign out asks for the token again.
    page.goto(hub.base + "/")
    expect(page.locator(".notebook-row[data-path='fresh.ipynb']")).to_have_count(1)
    page.locator(".notebook-row[data-path='analysis.ipynb'] .notebook-open").click()
    page.wait_for_url(re.compile(r"/s/" + live["id"] + r"(#token=.+)?$"))
    page.wait_for_selector("body[data-ready=true]")
    expect(page.locator(".participant")).to_have_count(2)
    page.goto(hub.base + "/")
    page.locator(".sign-out").click()
    expect(page.locator(".token-field")).to_be_visible()
    page.reload()
    expect(page.locator(".token-field")).to_be_visible()
    for who in (me, ada):
        who.assert_no_page_errors()


def test_a_signed_in_users_home_creates_notebooks(hub_factory: Any, browser: Any) -> None:
    """Signed in by an authenticating proxy's header (the page's requests carry it, as behind
    the proxy): "New notebook" says why not for a bad name or a file already there, and makes
    and opens a new one, theirs; no "Sign out" (the proxy signs people in and out)."""
    header = "X-Auth-Request-User"
    hub = hub_factory(
        env={"COLLABD_TRUSTED_USER_HEADER": header, "COLLABD_TRUSTED_PROXIES": "127.0.0.1/32"}
    )
    write_notebook(hub.root, "old.ipynb", ["1"])
    context = browser.new_context(extra_http_headers={header: "alice"})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(hub.base + "/")
        page.wait_for_selector("body[data-ready=true]")
        expect(page.locator(".signed-in-as")).to_have_text("Signed in as alice")
        expect(page.locator(".sign-out")).to_have_count(0)

        page.locator(".new-notebook").click()
        dialog = page.locator(".new-dialog")
        page.locator(".new-name").fill("../up")
        page.locator(".new-create").click()
        expect(dialog.locator(".sign-in-error")).to_contain_text('".."')
        page.locator(".new-name").fill("old")
        page.locator(".new-create").click()
        expect(dialog.locator(".sign-in-error")).to_have_text("old.ipynb already exists.")
        expect(dialog.locator(".new-open-existing")).to_have_attribute("href", re.compile(r"/s/"))
        assert "1" in (hub.root / "old.ipynb").read_text()  # not replaced

        page.locator(".new-name").fill("mine")
        page.locator(".new-create").click()
        page.wait_for_url(re.compile(r"/s/[^/#]+$"))  # by her sign-in: no token in the address
        page.wait_for_selector("body[data-ready=true]")
        expect(page.locator(".nb-path")).to_have_text("mine.ipynb")
        assert (hub.root / "mine.ipynb").is_file()

        page.goto(hub.base + "/")
        expect(page.locator(".shared-session a")).to_have_text(["mine.ipynb", "old.ipynb"])
        expect(page.locator(".shared-session").first).to_contain_text("owner")
        assert errors == []
    finally:
        context.close()
