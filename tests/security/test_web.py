"""Finding 9 (low): the page's CSP forbids form submissions (markdown's <form> is also stripped
by the web client, see web/test/markdown.test.ts)."""

from __future__ import annotations

import urllib.request

import pytest

from tests.support.hubproc import HubProcess

pytestmark = [pytest.mark.slow]


def test_page_csp_forbids_forms(shared_hub: HubProcess) -> None:
    s = shared_hub.create_session("csp.ipynb")
    with urllib.request.urlopen(f"{shared_hub.base}/s/{s['id']}", timeout=30) as resp:
        csp = resp.headers["Content-Security-Policy"]
    directives = {d.strip().split(" ", 1)[0]: d.strip() for d in csp.split(";") if d.strip()}
    assert directives["form-action"] == "form-action 'none'"
