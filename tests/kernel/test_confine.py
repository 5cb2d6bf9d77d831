"""collabd.kernel.confine: the sandbox's command line, the socket folder and the checks made at
start-up (pure logic and the file system), and one real kernel's socket folder; kernel code's
view of all this is in tests/security."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from collabd.kernel.confine import (
    MAX_SOCKET_PATH,
    SOCKET_PREFIX,
    Confinement,
    ConfinementError,
    KernelUser,
    confinement,
)
from collabd.kernel.local import JupyterKernel

KERNEL = ["python", "-m", "ipykernel_launcher", "-f", "/s/kernel.json"]


def test_without_a_sandbox_the_command_is_the_kernels() -> None:
    assert Confinement().command(KERNEL, Path("/nb"), Path("/s")) == KERNEL


def test_bwrap_hides_the_data_and_the_secret_files_after_binding_the_root(tmp_path: Path) -> None:
    root, data, token = tmp_path / "root", tmp_path / "root" / ".collabd", tmp_path / "token"
    data.mkdir(parents=True)
    token.write_text("secret")
    sandbox = Confinement(sandbox="bwrap", root=root, hidden=(data, token, tmp_path / "gone"))
    cmd = sandbox.command(KERNEL, root / "sub", Path("/tmp/collabd-kx"))
    assert cmd[0] == "bwrap" and cmd[-len(KERNEL) :] == KERNEL and cmd[-len(KERNEL) - 1] == "--"
    text = " ".join(cmd)
    assert "--ro-bind / /" in text and "--proc /proc" in text and "--dev /dev" in text
    for flag in ("--unshare-pid", "--die-with-parent", "--new-session"):
        assert flag in cmd
    assert "--unshare-net" not in cmd and "--unshare-all" not in cmd  # pip install works
    bind_root = text.index(f"--bind {root} {root}")
    assert bind_root < text.index(f"--tmpfs {data} --remount-ro {data}")  # data inside root
    assert f"--ro-bind /dev/null {token}" in text
    assert str(tmp_path / "gone") not in text  # nothing to hide, nothing to mount
    assert text.index("--tmpfs /tmp") < text.index("--bind /tmp/collabd-kx /tmp/collabd-kx")
    assert cmd[cmd.index("--chdir") + 1] == str(root / "sub")


def test_a_python_installed_under_tmp_stays_visible_in_the_sandbox(tmp_path: Path) -> None:
    # CI may check the project out (and make its venv) under /tmp, which the sandbox replaces.
    venv, elsewhere = tmp_path / "venv", Path("/usr")
    (venv / "bin").mkdir(parents=True)
    assert venv.is_relative_to("/tmp")
    args = Confinement(sandbox="bwrap").bwrap_args(Path("/nb"), None, keep=[venv, elsewhere])
    text = " ".join(args)
    assert text.index("--tmpfs /tmp") < text.index(f"--ro-bind {venv} {venv}")
    assert f"--ro-bind {elsewhere}" not in text  # already visible through the read-only /
    python = [str(venv / "bin" / "python"), "-m", "x"]
    cmd = Confinement(sandbox="bwrap").command(python, venv, None)
    assert f"--ro-bind {venv} {venv}" in " ".join(cmd)


def test_a_root_inside_the_data_folder_stays_reachable(tmp_path: Path) -> None:
    data, root = tmp_path / "srv", tmp_path / "srv" / "notebooks"
    root.mkdir(parents=True)
    text = " ".join(Confinement(sandbox="bwrap", root=root, hidden=(data,)).bwrap_args(root, None))
    hidden = text.index(f"--tmpfs {data} --remount-ro {data}")
    assert text.index(f"--bind {root} {root}", hidden) > hidden


def test_the_socket_folder_is_private_and_its_paths_fit_a_unix_socket(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deep = tmp_path / ("d" * 100)
    deep.mkdir()
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(deep))
    folder = Confinement().socket_dir()
    assert folder is not None
    try:
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert len(str(folder / f"{SOCKET_PREFIX}-99999")) <= MAX_SOCKET_PATH
        assert not folder.is_relative_to(deep)  # too long there: /tmp instead
    finally:
        folder.rmdir()
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    folder = Confinement().socket_dir()
    assert folder is not None and folder.parent == tmp_path
    folder.rmdir()
    assert Confinement(transport="tcp").socket_dir() is None


def test_launch_options_and_environment() -> None:
    assert Confinement().launch_options() == {}
    assert Confinement().environment({"A": "1"}) == {"A": "1"}
    user = KernelUser("kern", 1234, 2345, "/home/kern")
    confined = Confinement(sandbox="bwrap", user=user)
    assert confined.launch_options() == {
        "independent": True,
        "user": 1234,
        "group": 2345,
        "extra_groups": [],
    }
    env = confined.environment({"HOME": "/root", "USER": "root"})
    assert env["HOME"] == "/home/kern" and env["USER"] == env["LOGNAME"] == "kern"
    assert env["JPY_PARENT_PID"] == "1"  # its parent inside the sandbox
    assert Confinement().signals_reach_kernel and not confined.signals_reach_kernel


def test_settings_that_cannot_work_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def make(**kw: str) -> Confinement:
        given = {"transport": "ipc", "sandbox": "", "user": ""} | kw
        return confinement(root=tmp_path, hidden=(), **given)

    assert make().transport == "ipc"
    with pytest.raises(ConfinementError, match="ipc or tcp"):
        make(transport="udp")
    with pytest.raises(ConfinementError, match="bwrap or empty"):
        make(sandbox="firejail")
    with pytest.raises(ConfinementError, match="no user 'no-such-user-at-all'"):
        make(user="no-such-user-at-all")
    with pytest.raises(ConfinementError, match="not root"):
        make(user="root")
    if os.geteuid() != 0:
        with pytest.raises(ConfinementError, match="started as root"):
            make(user="nobody")
    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap on it
    with pytest.raises(ConfinementError, match="apt-get install bubblewrap"):
        make(sandbox="bwrap")


@pytest.mark.kernel
async def test_a_kernels_socket_folder_goes_with_it(tmp_path: Path) -> None:
    kernel = JupyterKernel("python3", tmp_path)
    await kernel.start()
    try:
        connection = Path(kernel._km.connection_file)  # type: ignore[union-attr]
        folder = connection.parent
        assert json.loads(connection.read_text())["transport"] == "ipc"
        sockets = sorted(p.name for p in folder.iterdir() if p.is_socket())
        assert sockets == [f"{SOCKET_PREFIX}-{n}" for n in range(1, 6)]
    finally:
        await kernel.shutdown()
    assert not folder.exists()


@pytest.mark.kernel
async def test_over_tcp_the_kernel_is_encrypted_when_it_can_be(tmp_path: Path) -> None:
    kernel = JupyterKernel("python3", tmp_path, confinement=Confinement(transport="tcp"))
    await kernel.start()
    try:
        km = kernel._km
        assert km is not None
        info = json.loads(Path(km.connection_file).read_text())
        assert info["transport"] == "tcp"
        if km.has_trait("transport_encryption"):  # jupyter_client 8.10+ and a curve kernelspec
            assert info.get("curve_publickey")
        reply = await kernel.request("kernel_info_request", {}, timeout=30)
        assert reply["status"] == "ok"
    finally:
        await kernel.shutdown()
