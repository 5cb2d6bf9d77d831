"""The sign-in cookies are HttpOnly, SameSite=Lax, on collabd's path, and Secure whenever
collabd is reached over https (its public address, or the request itself): a browser then never
sends the hub's OAuth token over plain http. The app in process, configured as a JupyterHub
service would be (no hub is asked: the login only builds the hub's authorize address)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from collabd.api.app import create_app
from collabd.settings import Settings
from collabd.signin.hubauth import STATE_COOKIE
from tests.support.hubproc import TOKEN


@pytest.fixture
def service_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "JUPYTERHUB_API_TOKEN": "x" * 32,
        "JUPYTERHUB_CLIENT_ID": "service-collabd",
        "JUPYTERHUB_API_URL": "http://127.0.0.1:1/hub/api",
        "JUPYTERHUB_BASE_URL": "/",
        "JUPYTERHUB_SERVICE_PREFIX": "/services/collabd/",
        "JUPYTERHUB_OAUTH_CALLBACK_URL": "/services/collabd/oauth_callback",
    }.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def login(tmp_path: Path, service_env: None) -> Iterator[Any]:
    clients: list[TestClient] = []

    def get(public_url: str | None, scheme: str = "http") -> list[str]:
        settings = Settings(
            root=tmp_path / "root",
            data=tmp_path / "data",
            token=TOKEN,
            jupyterhub=True,
            base_path="/services/collabd",
            public_url=public_url,
        )
        (tmp_path / "root").mkdir(exist_ok=True)
        client = TestClient(create_app(settings), base_url=f"{scheme}://testserver")
        client.__enter__()
        clients.append(client)
        response = client.get(
            "/services/collabd/login?next=/services/collabd/", follow_redirects=False
        )
        assert response.status_code == 302, response.text
        return [c for c in response.headers.get_list("set-cookie") if c.startswith(STATE_COOKIE)]

    yield get
    for client in clients:
        client.__exit__(None, None, None)


def flags(cookie: str) -> set[str]:
    return {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}


def test_behind_an_https_address_the_cookie_is_secure(login: Any) -> None:
    (cookie,) = login("https://notebooks.example.org/services/collabd")
    assert {"secure", "httponly", "samesite", "path"} <= flags(cookie)
    assert "samesite=lax" in cookie.lower() and "path=/services/collabd/" in cookie.lower()


def test_a_request_over_https_makes_it_secure_too(login: Any) -> None:
    (cookie,) = login(None, scheme="https")
    assert "secure" in flags(cookie)


def test_on_plain_http_it_cannot_be_secure_but_stays_httponly(login: Any) -> None:
    # a browser would not keep a Secure cookie from http: sign-in would loop
    (cookie,) = login("http://127.0.0.1:8765/services/collabd")
    assert "secure" not in flags(cookie)
    assert "httponly" in flags(cookie)
