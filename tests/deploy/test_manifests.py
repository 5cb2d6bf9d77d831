"""deploy/k8s: every overlay renders with kustomize, validates strictly against a pinned
Kubernetes version, and has the properties a collabd cluster needs."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
import sys
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml

from tests.deploy.conftest import DEPLOY, REPO

K8S = DEPLOY / "k8s"
KUBERNETES_VERSION = "1.32.0"  # the oldest version the manifests are written for
OVERLAYS = ["dev", "production"]
# Secrets production expects to be created by hand (docs/deploy.md), never rendered from git
CREATED_BY_HAND = {"dev": set(), "production": {"collabd-token", "collabd-external"}}
PORT = 8765


def kubectl() -> str:
    found = shutil.which("kubectl")
    if found is None:  # never skip: the Makefile's deploy-tools target says where to get it
        pytest.fail("kubectl (with its built-in kustomize) is needed by tests/deploy", False)
    return found


def render(overlay: str) -> list[dict[str, Any]]:
    out = subprocess.run(
        [kubectl(), "kustomize", str(K8S / "overlays" / overlay)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc]


@pytest.fixture(scope="module", params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]]]:
    return request.param, render(request.param)


def one(docs: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    found = [
        d
        for d in docs
        if d["kind"] == kind and (name is None or d["metadata"]["name"].startswith(name))
    ]
    assert len(found) == 1, f"{len(found)} {kind} {name or ''}"
    return found[0]


def hubs(docs: list[dict[str, Any]]) -> dict[str, Any]:
    return one(docs, "Deployment", "collabd")


def hub_container(docs: list[dict[str, Any]]) -> dict[str, Any]:
    (container,) = [c for c in hubs(docs)["spec"]["template"]["spec"]["containers"]]
    return container


def test_every_overlay_renders_and_validates_strictly(
    overlay: tuple[str, list[dict[str, Any]]],
) -> None:
    _, docs = overlay
    errors = []
    for doc in docs:
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{doc['kind']}/{doc['metadata']['name']}: {exc.message}")
    assert errors == []
    kinds = {d["kind"] for d in docs}
    assert kinds >= {
        "Deployment", "Service", "Ingress", "ConfigMap", "PodDisruptionBudget",
        "PersistentVolumeClaim", "ServiceAccount",
    }  # fmt: skip


def test_three_hubs_non_root_read_only_with_probes_and_limits(
    overlay: tuple[str, list[dict[str, Any]]],
) -> None:
    _, docs = overlay
    deployment = hubs(docs)
    spec = deployment["spec"]
    pod = spec["template"]["spec"]
    assert spec["replicas"] == 3
    assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0  # one hub at a time
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["automountServiceAccountToken"] is False
    for container in pod["containers"] + pod.get("initContainers", []):
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True, container["name"]
        assert context["allowPrivilegeEscalation"] is False, container["name"]
        assert context["capabilities"]["drop"] == ["ALL"], container["name"]
        for bound in ("requests", "limits"):
            assert set(container["resources"][bound]) == {"cpu", "memory"}, container["name"]
        image = container["image"]
        assert re.fullmatch(r"[\w./-]+:[\w.-]+", image) and not image.endswith(":latest")
    hub = hub_container(docs)
    assert hub["args"][:1] == ["serve"]
    args = dict(zip(hub["args"][1::2], hub["args"][2::2], strict=True))
    assert args == {"--host": "0.0.0.0", "--port": str(PORT), "--root": "/notebooks",
                    "--data": "/data"}  # fmt: skip
    ports = {p["name"]: p["containerPort"] for p in hub["ports"]}
    assert ports == {"http": PORT}
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert hub[probe]["httpGet"] == {"path": "/api/health", "port": "http"}, probe
    # an outage of PostgreSQL or Redis takes a hub out of the Service quickly, but restarts
    # it only if it lasts (liveness window longer than readiness)
    window = {
        p: hub[p]["periodSeconds"] * hub[p]["failureThreshold"]
        for p in ("readinessProbe", "livenessProbe")
    }
    assert window["livenessProbe"] > window["readinessProbe"]
    # the grace period covers the preStop pause and the hand-over
    pre_stop = hub["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    assert pod["terminationGracePeriodSeconds"] >= int(pre_stop[1]) + 30


def test_volumes_tmp_and_data_are_empty_dirs_notebooks_a_shared_claim(
    overlay: tuple[str, list[dict[str, Any]]],
) -> None:
    _, docs = overlay
    pod = hubs(docs)["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: volumes[m["name"]] for m in hub_container(docs)["volumeMounts"]}
    assert set(mounts) == {"/tmp", "/data", "/notebooks"}
    assert "emptyDir" in mounts["/tmp"] and "emptyDir" in mounts["/data"]
    claim = mounts["/notebooks"]["persistentVolumeClaim"]["claimName"]
    pvc = one(docs, "PersistentVolumeClaim", claim)
    assert pvc["metadata"]["name"] == claim
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"]  # every hub writes the notebooks


def test_node_url_from_the_pod_ip_and_settings_from_secrets_and_a_config_map(
    overlay: tuple[str, list[dict[str, Any]]],
) -> None:
    name, docs = overlay
    hub = hub_container(docs)
    env = [e["name"] for e in hub["env"]]
    values = {e["name"]: e for e in hub["env"]}
    assert values["POD_IP"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP"
    # $(VAR) only expands variables defined before it
    assert env.index("POD_IP") < env.index("COLLABD_NODE_URL")
    assert values["COLLABD_NODE_URL"]["value"] == f"http://$(POD_IP):{PORT}"
    for secret_setting in ("COLLABD_TOKEN", "COLLABD_DATABASE_URL", "COLLABD_REDIS_URL"):
        assert "secretKeyRef" in values[secret_setting]["valueFrom"], secret_setting
    # every Secret and ConfigMap the pods use is rendered, or created by hand (production)
    pod = hubs(docs)["spec"]["template"]["spec"]
    used: set[tuple[str, str]] = set()
    for container in pod["containers"] + pod.get("initContainers", []):
        for e in container.get("env", []):
            if "secretKeyRef" in e.get("valueFrom", {}):
                used.add(("Secret", e["valueFrom"]["secretKeyRef"]["name"]))
        for source in container.get("envFrom", []):
            used.add(("ConfigMap", source["configMapRef"]["name"]))
    rendered = {(d["kind"], d["metadata"]["name"]) for d in docs}
    missing = {n for kind, n in used - rendered if kind == "Secret"} | {
        n for kind, n in used - rendered if kind == "ConfigMap"
    }
    assert missing == CREATED_BY_HAND[name]
    docs_md = (REPO / "docs" / "deploy.md").read_text()
    assert all(secret in docs_md for secret in CREATED_BY_HAND[name])
    if name == "production":  # nothing secret comes from git
        assert [d for d in docs if d["kind"] == "Secret"] == []


def token_check(docs: list[dict[str, Any]], token: str) -> int:
    """Run the hubs' init container's check, as the pod would, with that token."""
    (init,) = hubs(docs)["spec"]["template"]["spec"]["initContainers"]
    assert init["command"][0] == "python"
    done = subprocess.run(
        [sys.executable, *init["command"][1:]],
        env={"COLLABD_TOKEN": token},
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode


def test_the_placeholder_token_is_refused_and_dev_has_its_own() -> None:
    docs = render("dev")
    placeholder = yaml.safe_load((K8S / "base" / "kustomization.yaml").read_text())
    (literal,) = placeholder["secretGenerator"][0]["literals"]
    assert token_check(docs, literal.split("=", 1)[1]) != 0
    assert token_check(docs, "short") != 0
    assert token_check(docs, "x" * 43) == 0
    dev_token = base64.b64decode(one(docs, "Secret", "collabd-token")["data"]["token"]).decode()
    assert token_check(docs, dev_token) == 0


def test_service_ingress_and_disruption_budget_reach_the_hubs(
    overlay: tuple[str, list[dict[str, Any]]],
) -> None:
    _, docs = overlay
    deployment = hubs(docs)
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    service = one(docs, "Service", "collabd")
    assert service["spec"]["selector"].items() <= labels.items()
    assert service["spec"].get("sessionAffinity", "None") == "None"
    (port,) = service["spec"]["ports"]
    assert port["targetPort"] == "http"
    ingress = one(docs, "Ingress", "collabd")
    annotations = ingress["metadata"]["annotations"]
    prefix = "nginx.ingress.kubernetes.io/"
    assert int(annotations[prefix + "proxy-read-timeout"]) >= 3600  # idle websockets
    assert int(annotations[prefix + "proxy-send-timeout"]) >= 3600
    sticky = (prefix + "affinity", prefix + "upstream-hash-by")  # no stickiness
    assert not any(a.startswith(sticky) for a in annotations)
    assert ingress["spec"]["ingressClassName"] == "nginx"
    (rule,) = ingress["spec"]["rules"]
    (path,) = rule["http"]["paths"]
    backend = path["backend"]["service"]
    assert backend == {"name": service["metadata"]["name"], "port": {"name": port["name"]}}
    # the links collabd hands out point at the ingress
    settings = one(docs, "ConfigMap", "collabd-settings")["data"]
    assert urlsplit(settings["COLLABD_PUBLIC_URL"]).hostname == rule["host"]
    pdb = one(docs, "PodDisruptionBudget", "collabd")
    assert pdb["spec"]["minAvailable"] == 2 < deployment["spec"]["replicas"]
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_dev_runs_its_own_postgres_and_redis() -> None:
    docs = render("dev")
    external = one(docs, "Secret", "collabd-external")
    urls = {k: base64.b64decode(v).decode() for k, v in external["data"].items()}
    for key, service_name, port in (
        ("database-url", "postgres", 5432),
        ("redis-url", "redis", 6379),
    ):
        url = urlsplit(urls[key])
        assert (url.hostname, url.port) == (service_name, port), key
        service = one(docs, "Service", service_name)
        assert [p["port"] for p in service["spec"]["ports"]] == [port]
        statefulset = one(docs, "StatefulSet", service_name)
        assert statefulset["spec"]["serviceName"] == service_name
        assert statefulset["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"]


def test_yaml_is_lint_clean() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "yamllint", "--strict", "-c", str(DEPLOY / ".yamllint"), DEPLOY],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
