"""deploy/compose.yaml and the balancer's config: the cluster `docker compose up` starts, checked
for structure (no container engine here; test_topology.py runs the same haproxy.cfg for real)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from tests.deploy.conftest import DEPLOY, HAPROXY_CFG, REPO, haproxy_binary

HUBS = ["hub1", "hub2", "hub3"]
PORT = 8765


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((DEPLOY / "compose.yaml").read_text())  # `<<` merges resolved
    assert isinstance(loaded, dict)
    return loaded


def env_example() -> dict[str, str]:
    pairs = {}
    for line in (DEPLOY / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, value = line.split("=", 1)
            pairs[key.strip()] = value.strip()
    return pairs


def interpolate(text: str, env: dict[str, str]) -> str:
    """${VAR}, ${VAR:-default} and ${VAR:?error} as compose substitutes them from deploy/.env."""

    def value(m: re.Match[str]) -> str:
        name, op, arg = m.group(1), m.group(2), m.group(3)
        if env.get(name):
            return env[name]
        assert op == "-", f"{name} must be set ({arg})"
        return str(arg)

    return re.sub(r"\$\{(\w+)(?::([?-])([^}]*))?\}", value, text)


def volume_target(volumes: list[str], target: str) -> str:
    (source,) = [v.split(":")[0] for v in volumes if v.split(":")[1] == target]
    return source


def test_services_and_their_health_checks(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {*HUBS, "lb", "postgres", "redis"}
    for name in HUBS:
        check = " ".join(services[name]["healthcheck"]["test"])
        assert f"127.0.0.1:{PORT}/api/health" in check, name
        assert services[name]["depends_on"] == {
            "postgres": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
        }
        assert services[name]["stop_signal"] == "SIGTERM"  # hands the sessions over
        assert services[name]["read_only"] is True and "/tmp" in services[name]["tmpfs"]
        assert "ports" not in services[name]  # reached through the balancer only
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]
    assert "ping" in services["redis"]["healthcheck"]["test"]
    assert services["lb"]["depends_on"] == {hub: {"condition": "service_healthy"} for hub in HUBS}


def test_hubs_share_database_redis_token_and_notebooks_each_its_own_data_and_node_url(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    envs = [services[h]["environment"] for h in HUBS]
    shared = ("COLLABD_DATABASE_URL", "COLLABD_REDIS_URL", "COLLABD_TOKEN", "COLLABD_PUBLIC_URL")
    for key in shared:
        assert len({env[key] for env in envs}) == 1, key
    assert envs[0]["COLLABD_TOKEN"].startswith("${COLLABD_TOKEN:?")  # from .env, never literal
    assert [env["COLLABD_NODE_URL"] for env in envs] == [f"http://{h}:{PORT}" for h in HUBS]
    example = env_example()
    db = urlsplit(interpolate(envs[0]["COLLABD_DATABASE_URL"], example))
    redis = urlsplit(interpolate(envs[0]["COLLABD_REDIS_URL"], example))
    assert (db.scheme, db.hostname, db.port) == ("postgresql", "postgres", 5432)
    assert (redis.scheme, redis.hostname, redis.port) == ("redis", "redis", 6379)
    notebooks = {volume_target(services[h]["volumes"], "/notebooks") for h in HUBS}
    data = [volume_target(services[h]["volumes"], "/data") for h in HUBS]
    assert len(notebooks) == 1 and len(set(data)) == 3
    assert notebooks | set(data) <= set(compose["volumes"])  # named volumes, not host folders
    # the links point at the balancer, as published
    (published,) = compose["services"]["lb"]["ports"]
    host_port = int(interpolate(published, {}).split(":")[0])
    for env in ({}, example):  # the default, and the example's value
        assert urlsplit(interpolate(envs[0]["COLLABD_PUBLIC_URL"], env)).port == host_port


def test_the_balancer_mounts_the_config_the_topology_test_runs(compose: dict[str, Any]) -> None:
    lb = compose["services"]["lb"]
    (mount,) = lb["volumes"]
    source, target, mode = mount.split(":")
    assert (DEPLOY / source).resolve() == HAPROXY_CFG.resolve()
    assert target == "/usr/local/etc/haproxy/haproxy.cfg" and mode == "ro"
    env = lb["environment"]
    hubs = compose["services"]
    for i, hub in enumerate(HUBS, start=1):
        node = urlsplit(hubs[hub]["environment"]["COLLABD_NODE_URL"])
        assert env[f"COLLABD_HUB{i}_ADDR"] == f"{node.hostname}:{node.port}"
    (published,) = lb["ports"]
    assert published.endswith(":" + env["COLLABD_LB_BIND"].rsplit(":", 1)[1])
    # and haproxy accepts the file with the environment compose gives it
    done = subprocess.run(
        [haproxy_binary(), "-c", "-f", str(HAPROXY_CFG)],
        env={**env, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_balancer_config_round_robin_health_checked_no_stickiness() -> None:
    lines = [line.split("#")[0].strip() for line in HAPROXY_CFG.read_text().splitlines()]
    lines = [line for line in lines if line]
    assert "balance roundrobin" in lines
    assert not [line for line in lines if line.split()[0] in ("cookie", "stick", "stick-table")]
    assert "http-check send meth GET uri /api/health ver HTTP/1.1 hdr Host collabd-lb" in lines
    assert "http-check expect status 200" in lines
    tunnel = next(line.split()[2] for line in lines if line.startswith("timeout tunnel"))
    assert tunnel.endswith("h") or int(tunnel.rstrip("ms")) >= 3600
    servers = [line for line in lines if line.startswith("server ")]
    assert servers == [f'server hub{i} "${{COLLABD_HUB{i}_ADDR-hub{i}:{PORT}}}"' for i in (1, 2, 3)]


def test_the_env_file_is_an_example_and_never_committed(compose: dict[str, Any]) -> None:
    text = (DEPLOY / "compose.yaml").read_text()
    example = env_example()
    required = set(re.findall(r"\$\{(\w+):\?", text))
    assert required == {"COLLABD_TOKEN", "POSTGRES_PASSWORD"}
    assert required <= set(example)
    assert all(example[key].startswith("replace-with-") for key in required)  # placeholders
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "deploy/.env"], cwd=REPO, check=False
    ).returncode
    assert ignored == 0
    assert "**/.env" in Path(REPO / ".dockerignore").read_text().splitlines()
