"""A real JupyterHub for the sign-in tests: its DummyAuthenticator (one password), its
configurable-http-proxy (web/node_modules, from `npm ci`), its own SQLite file, and collabd as a
hub-managed service on free loopback ports, served under /services/collabd/."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from .hubproc import TOKEN, free_port

REPO = Path(__file__).resolve().parents[2]
CHP = REPO / "web" / "node_modules" / ".bin" / "configurable-http-proxy"
PASSWORD = "correct horse battery staple"
SERVICE = "collabd"
START_TIMEOUT_S = 90.0


@dataclass
class JupyterHubProcess:
    base: Path
    proxy_port: int = field(default_factory=free_port)
    hub_port: int = field(default_factory=free_port)
    api_port: int = field(default_factory=free_port)
    collabd_port: int = field(default_factory=free_port)
    groups: dict[str, list[str]] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.proxy_port}"

    @property
    def service(self) -> str:
        """collabd's address through the hub's proxy (no trailing slash)."""
        return f"{self.url}/services/{SERVICE}"

    @property
    def root(self) -> Path:
        return self.base / "root"

    @property
    def log_path(self) -> Path:
        return self.base / "jupyterhub.log"

    def config(self) -> str:
        command = [
            sys.executable, "-m", "collabd.cli", "serve", "--host", "127.0.0.1",
            "--port", str(self.collabd_port), "--root", str(self.root),
            "--data", str(self.base / "data"), "--token", TOKEN,
        ]  # fmt: skip
        environment = {
            "COLLABD_JUPYTERHUB": "1",
            "COLLABD_PUBLIC_URL": self.service,
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", str(self.base)),
            "PYTHONUNBUFFERED": "1",
        }
        return f"""
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {self.proxy_port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {self.hub_port}
c.JupyterHub.db_url = "sqlite:///{self.base / "jupyterhub.sqlite"}"
c.JupyterHub.cookie_secret_file = "{self.base / "cookie_secret"}"
c.JupyterHub.pid_file = "{self.base / "jupyterhub.pid"}"
c.ConfigurableHTTPProxy.command = ["{CHP}"]
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{self.api_port}"
c.ConfigurableHTTPProxy.pid_file = "{self.base / "proxy.pid"}"
c.ConfigurableHTTPProxy.auth_token = "{secrets.token_hex(16)}"
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = {PASSWORD!r}
c.Authenticator.allow_all = True
c.JupyterHub.load_groups = {self.groups!r}
# Every user may use collabd (JupyterHub grants no service access by default).
c.JupyterHub.load_roles = [{{"name": "user", "scopes": ["self", "access:services"]}}]
c.JupyterHub.services = [{{
    "name": {SERVICE!r},
    "url": "http://127.0.0.1:{self.collabd_port}",
    "command": {command!r},
    "environment": {environment!r},
    "oauth_no_confirm": True,
}}]
"""

    def start(self) -> JupyterHubProcess:
        if not CHP.exists():
            raise RuntimeError(f"{CHP} is missing: `npm ci` in web/ installs it (make web)")
        self.root.mkdir(parents=True, exist_ok=True)
        config = self.base / "jupyterhub_config.py"
        config.write_text(self.config())
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "jupyterhub", "-f", str(config)],
                cwd=self.base,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyterhub exited early:\n{self.log()}")
            try:
                if httpx.get(f"{self.service}/api/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"jupyterhub or collabd did not start:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # the hub stops its proxy and its managed services
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    @contextmanager
    def sign_in(self, user: str, next_path: str = "/") -> Iterator[httpx.Client]:
        """A browser-like client (keeps cookies, follows redirects) signed in to collabd as
        `user` through the hub's login form and the OAuth redirects."""
        with httpx.Client(follow_redirects=True, timeout=30) as client:
            self._sign_in(client, user, next_path)
            yield client

    def _sign_in(self, client: httpx.Client, user: str, next_path: str) -> None:
        back = f"/services/{SERVICE}{next_path}"
        start = client.get(f"{self.service}/login", params={"next": back})
        assert "/hub/login" in str(start.url), (start.status_code, start.url, start.text[:500])
        xsrf = re.search(r'name="_xsrf"[^>]*value="([^"]+)"', start.text)
        form = {"username": user, "password": PASSWORD}
        if xsrf:
            form["_xsrf"] = xsrf.group(1)
        done = client.post(str(start.url), data=form)
        assert done.status_code == 200 and str(done.url).startswith(self.service), (
            done.status_code,
            done.url,
            done.text[:500],
        )
