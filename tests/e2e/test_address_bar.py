"""The link's token leaves the address bar once the page has it (review finding 15), and a
reload in the same tab still works."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import WAIT_MS

pytestmark = [pytest.mark.browser]


def test_the_token_leaves_the_address_bar_and_a_reload_still_works(
    notebook_session: Any, join: Any
) -> None:
    session = notebook_session(["x = 1\n"])
    ada = join(session["edit_url"], "Ada")
    token = session["edit_url"].split("#token=")[1]
    assert token not in ada.page.url and "#" not in ada.page.url
    ada.page.reload()
    ada.page.wait_for_selector("body[data-ready=true]", timeout=WAIT_MS)
    assert token not in ada.page.url
    assert ada.page.locator(".cell").count() >= 1
