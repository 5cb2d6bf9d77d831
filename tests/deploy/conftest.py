"""The deployment's topology as processes: Debian's haproxy with deploy/haproxy/haproxy.cfg in
front of three real `collabd serve` processes on loopback, a fresh PostgreSQL database and Redis.

No containers: the balancer's config is the very file compose mounts; only the addresses differ,
and they come from the environment as in compose.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.store.conftest import pg_url  # noqa: F401  (a fixture, used by `topology`)
from tests.support.hubproc import TOKEN, HubProcess, free_port, start_all, stop_all

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
HAPROXY_CFG = DEPLOY / "haproxy" / "haproxy.cfg"
REDIS_URL = os.environ.get("COLLABD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
LEASE_TTL_S = 2.0


def get_json(url: str, timeout: float = 10.0) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        raw = err.read()
        try:
            return err.code, json.loads(raw)
        except ValueError:
            return err.code, raw.decode(errors="replace")


def haproxy_binary() -> str:
    found = shutil.which("haproxy") or next(
        (p for p in ("/usr/sbin/haproxy", "/usr/local/sbin/haproxy") if os.access(p, os.X_OK)),
        None,
    )
    if found is None:  # `make test` installs it (the Makefile's `haproxy` target): never skip
        pytest.fail("haproxy is needed by tests/deploy (make haproxy installs Debian's)", False)
    return found


@dataclass
class Balancer:
    """haproxy started with the deployment's config, the hubs' addresses from the environment."""

    config: Path
    hubs: list[HubProcess]
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        env = {"COLLABD_LB_BIND": f"127.0.0.1:{self.port}"}
        for i, hub in enumerate(self.hubs, start=1):
            env[f"COLLABD_HUB{i}_ADDR"] = f"127.0.0.1:{hub.port}"
        return env

    def start(self, log_dir: Path) -> Balancer:
        self.log_path = log_dir / "haproxy.log"
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [haproxy_binary(), "-db", "-f", str(self.config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **self.env},
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"haproxy exited:\n{self.log()}")
            try:
                urllib.request.urlopen(f"{self.base}/lb-health", timeout=1).read()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"haproxy did not start:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def nodes_seen(self, requests: int) -> list[str]:
        """The hub (cluster node id) that answered each of `requests` health checks made through
        the balancer (503s included: the body says which node it was)."""
        seen = []
        for _ in range(requests):
            _status, body = get_json(f"{self.base}/api/health")
            if isinstance(body, dict) and "node" in body:
                seen.append(str(body["node"]))
        return seen

    def wait_routes_to(self, node: str, timeout: float = 60.0) -> None:
        """Until the balancer sends requests to that hub again (its checks passed `rise` times)."""
        deadline = time.monotonic() + timeout
        while node not in self.nodes_seen(len(self.hubs)):
            if time.monotonic() > deadline:
                raise AssertionError(f"the balancer does not route to {node}:\n{self.log()}")
            time.sleep(0.2)


@dataclass
class Topology:
    balancer: Balancer
    hubs: list[HubProcess]

    def node_of(self, hub: HubProcess) -> str:
        status, body = get_json(f"{hub.base}/api/health")
        assert status == 200, body
        return str(body["node"])

    def owner_of(self, session_id: str, timeout: float = 30.0) -> int | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for index, hub in enumerate(self.hubs):
                if hub.proc is None or hub.proc.poll() is not None:
                    continue
                status, body = get_json(f"{hub.base}/api/health")
                if status == 200 and session_id in body.get("owned", []):
                    return index
            time.sleep(0.1)
        return None

    def api(self, method: str, path: str, body: Any = None, token: str = TOKEN) -> tuple[int, Any]:
        """A request through the balancer."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"{self.balancer.base}{path}", data=data, method=method)
        req.add_header("Authorization", f"Bearer {token}")
        req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as err:
            raw = err.read()
            try:
                return err.code, json.loads(raw)
            except ValueError:
                return err.code, raw.decode(errors="replace")


@pytest.fixture
def topology(pg_url: str, tmp_path: Path) -> Iterator[Callable[[], Topology]]:  # noqa: F811
    hubs: list[HubProcess] = []
    balancers: list[Balancer] = []
    root = tmp_path / "notebooks"  # the shared notebooks volume
    root.mkdir()

    def make() -> Topology:
        ports = [free_port() for _ in range(3)]
        lb_port = free_port()
        for i, port in enumerate(ports, start=1):
            hubs.append(
                HubProcess(
                    root=root,
                    data=tmp_path / f"hub{i}-data",  # each hub its own data volume
                    port=port,
                    env={  # as deploy/compose.yaml sets them
                        "COLLABD_DATABASE_URL": pg_url,
                        "COLLABD_REDIS_URL": REDIS_URL,
                        "COLLABD_PUBLIC_URL": f"http://127.0.0.1:{lb_port}",
                        "COLLABD_NODE_URL": f"http://127.0.0.1:{port}",
                        "COLLABD_LEASE_TTL_S": str(LEASE_TTL_S),
                    },
                )
            )
        for hub in hubs[-3:]:
            hub.data.mkdir()
        start_all(hubs[-3:])
        balancer = Balancer(HAPROXY_CFG, hubs, port=lb_port)
        balancers.append(balancer)
        balancer.start(tmp_path)
        topo = Topology(balancer, hubs)
        for hub in hubs:
            balancer.wait_routes_to(topo.node_of(hub))
        return topo

    yield make
    for balancer in balancers:
        balancer.stop()
    stop_all(hubs)
