"""Issue 12: kernels as their own unprivileged user (`COLLABD_KERNEL_USER`), with a real user made
for the test (`useradd`; the tests run as root here and in CI) and a real ipykernel: kernel code
can neither read nor write the hub's store, nor read the token file or the hub's environment.
And the start-up refusals: a setting that cannot work stops the hub with one line."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

from collabd.client import NotebookClient
from tests.security.test_cli import serve
from tests.support.hubproc import HubProcess, new_hub
from tests.support.kernel import new_cells, wait_finished

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="only root can add a user")

PROBE = r"""
import json, os

def attempt(path, mode):
    try:
        with open(path, mode):
            return "ok"
    except OSError as exc:
        return type(exc).__name__

print(json.dumps({
    "uid": os.getuid(),
    "groups": os.getgroups(),
    "store_read": attempt(%(store)r, "rb"),
    "store_write": attempt(%(store)r, "ab"),
    "token_file": attempt(%(token_file)r, "rb"),
    "hub_environ": attempt("/proc/%(hub)d/environ", "rb"),
    "root_write": attempt("written-by-the-kernel.txt", "w"),
}))
"""


def run_as(uid: int, gid: int, *cmd: str) -> bool:
    env = {"PYTHONPATH": sysconfig.get_paths()["purelib"], "PATH": os.environ["PATH"]}
    try:
        done = subprocess.run(
            cmd, user=uid, group=gid, extra_groups=[], env=env, capture_output=True, timeout=60,
            cwd="/",
        )  # fmt: skip
    except OSError:  # not allowed to run it
        return False
    return done.returncode == 0


@pytest.fixture
def kernel_user() -> Iterator[tuple[str, int, int]]:
    name = f"ck{os.urandom(4).hex()}"
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
        check=True,
    )
    try:
        entry = pwd.getpwnam(name)
        yield name, entry.pw_uid, entry.pw_gid
    finally:
        subprocess.run(["userdel", name], check=False)


def python_for(uid: int, gid: int) -> str:
    """A Python of this version that the user can run (the test's own may live under /root,
    which only root can enter); the packages come from this environment's site-packages."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (sys.executable, shutil.which(version) or "", f"/usr/bin/{version}"):
        if candidate and run_as(uid, gid, candidate, "-c", "import ipykernel"):
            return candidate
    pytest.fail(
        f"no {version} that user {uid} can run with this environment's packages: install"
        f" Debian's {version}, and keep the checkout where other users can read it"
    )


@pytest.fixture(params=["", "bwrap"], ids=["own-user", "own-user-in-bwrap"])
def user_hub(
    kernel_user: tuple[str, int, int], request: pytest.FixtureRequest
) -> Iterator[HubProcess]:
    name, uid, gid = kernel_user
    base = Path(tempfile.mkdtemp(prefix="collabd-user-", dir="/tmp"))
    base.chmod(0o755)  # the kernel's user walks through it to the notebook root
    spec = base / "share" / "jupyter" / "kernels" / "as-user"
    spec.mkdir(parents=True)
    site = sysconfig.get_paths()["purelib"]
    argv = [python_for(uid, gid), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    kernel = {"argv": argv, "display_name": "as user", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps({**kernel, "env": {"PYTHONPATH": site}}))
    env = {
        "COLLABD_KERNEL_USER": name,
        "COLLABD_KERNEL_SANDBOX": request.param,
        "JUPYTER_PATH": str(base / "share/jupyter"),
    }
    hub = new_hub(base, env)
    os.chown(hub.root, uid, gid)
    hub.token_file = base / "admin-token"
    try:
        yield hub.start()
    finally:
        hub.stop()
        shutil.rmtree(base, ignore_errors=True)


def notebook_for(hub: HubProcess, name: str, kernelspec: str) -> str:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": kernelspec, "display_name": kernelspec}
    nbformat.write(nb, hub.root / name)
    return name


@needs_root
@pytest.mark.kernel
async def test_a_kernel_user_can_neither_read_nor_write_the_store(
    user_hub: HubProcess, kernel_user: tuple[str, int, int]
) -> None:
    _, uid, _ = kernel_user
    assert user_hub.proc is not None and user_hub.token_file is not None
    code = PROBE % {
        "store": str(user_hub.data / "collabd.sqlite3"),
        "token_file": str(user_hub.token_file),
        "hub": user_hub.proc.pid,
    }
    s = user_hub.create_session(notebook_for(user_hub, "user.ipynb", "as-user"))
    async with NotebookClient.from_link(s["edit_url"], name="probe") as nb:
        (cell,) = await new_cells(nb, code)
        await nb.run(cell)
        run = await wait_finished(nb, cell)
        assert run["status"] == "ok", nb.output_text(cell)
        report: dict[str, Any] = json.loads(nb.output_text(cell).strip().splitlines()[-1])
    # PermissionError as the kernel's user; in bwrap, FileNotFoundError (hidden) and OSError
    # (EROFS: the data folder is an empty read-only tmpfs there)
    refused = {"PermissionError", "FileNotFoundError", "OSError"}
    assert (report["uid"], report["groups"], report["root_write"]) == (uid, [], "ok")
    for what in ("store_read", "store_write", "token_file", "hub_environ"):
        assert report[what] in refused, (what, report)
    made = user_hub.root / "written-by-the-kernel.txt"
    assert made.stat().st_uid == uid


@pytest.mark.slow
@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"COLLABD_KERNEL_USER": "no-such-user-here"}, "there is no user 'no-such-user-here'"),
        ({"COLLABD_KERNEL_USER": "root"}, "unprivileged user, not root"),
        ({"COLLABD_KERNEL_SANDBOX": "docker"}, "COLLABD_KERNEL_SANDBOX must be bwrap"),
        ({"COLLABD_KERNEL_TRANSPORT": "udp"}, "COLLABD_KERNEL_TRANSPORT must be ipc or tcp"),
    ],
)
def test_a_confinement_that_cannot_work_stops_the_start_with_one_line(
    tmp_path: Path, env: dict[str, str], says: str
) -> None:
    proc = serve(tmp_path, env={"COLLABD_TOKEN": "t" * 32, **env})
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, (out, err)
    assert "Traceback" not in err + out
    assert err.strip().splitlines() == [err.strip()] and says in err, err
