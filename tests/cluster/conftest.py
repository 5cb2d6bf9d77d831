"""Clusters of real hub processes on loopback, sharing a fresh PostgreSQL database and Redis."""

from __future__ import annotations

import json
import os
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.store.conftest import pg_url  # noqa: F401  (a fixture, used by `cluster`)
from tests.support.hubproc import HubProcess, start_all, stop_all

REDIS_URL = os.environ.get("COLLABD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
LEASE_TTL_S = 2.0
PUBLIC_URL = "http://collabd.invalid"  # the load balancer's address, on every hub's links


@dataclass
class Cluster:
    hubs: list[HubProcess]

    def owner_of(self, session_id: str, timeout: float = 20.0) -> int:
        """Index of the hub that owns the session now."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for index, hub in enumerate(self.hubs):
                if hub.proc is None or hub.proc.poll() is not None:
                    continue
                status, health = hub.api("GET", "/api/health")
                if status == 200 and session_id in health.get("owned", []):
                    return index
            time.sleep(0.1)
        raise AssertionError(f"no hub owns {session_id}")


def health(hub: HubProcess) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"{hub.base}/api/health", timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


@pytest.fixture
def cluster_factory(pg_url: str, tmp_path: Path) -> Iterator[Callable[..., Cluster]]:  # noqa: F811
    started: list[HubProcess] = []
    root = tmp_path / "root"
    root.mkdir()

    def make(n: int = 3, env: dict[str, str] | None = None) -> Cluster:
        hubs = []
        for i in range(n):
            hub = HubProcess(
                root=root,
                data=tmp_path / f"data{i}",
                env={
                    "COLLABD_DATABASE_URL": pg_url,
                    "COLLABD_REDIS_URL": REDIS_URL,
                    "COLLABD_LEASE_TTL_S": str(LEASE_TTL_S),
                    "COLLABD_PUBLIC_URL": PUBLIC_URL,
                    **(env or {}),
                },
            )
            started.append(hub)
            hubs.append(hub)
        return Cluster(start_all(hubs))

    yield make
    stop_all(started)
