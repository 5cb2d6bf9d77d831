"""What a local kernel may reach: its transport, its sandbox, its user.

A kernel runs any editor's code. Three settings keep that code away from the hub's secrets:
`kernel_transport` (ipc: unix sockets in a private folder, not loopback TCP that any local user
may connect to), `kernel_sandbox` (bwrap: its own PID namespace and /proc, the data folder and the
hub's secret files hidden, the filesystem read-only but for the notebook root) and `kernel_user`
(another unprivileged user, who cannot read the hub's 0700 data folder). Pure logic: the command
prefix and the process options; `collabd.kernel.local` starts the process.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TRANSPORTS = ("ipc", "tcp")
SANDBOXES = ("", "bwrap")
# A unix socket's path has to fit sockaddr_un.sun_path (108 bytes with its NUL on Linux).
MAX_SOCKET_PATH = 107
# In the socket folder: the connection file, and the sockets (PREFIX-1, PREFIX-2, ...).
CONNECTION_FILE = "kernel.json"
SOCKET_PREFIX = "k"


class ConfinementError(ValueError):
    """A kernel confinement setting that cannot work here (said at start-up, in one line)."""


@dataclass(frozen=True)
class KernelUser:
    name: str
    uid: int
    gid: int
    home: str

    @classmethod
    def named(cls, name: str) -> KernelUser:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            raise ConfinementError(f"COLLABD_KERNEL_USER: there is no user {name!r}") from None
        return cls(name, entry.pw_uid, entry.pw_gid, entry.pw_dir)


@dataclass(frozen=True)
class Confinement:
    """How local kernels are started. `hidden`: folders (the data folder) and files (token and
    key files) a sandboxed kernel must not see; `root`: the notebook root, writable."""

    transport: str = "ipc"
    sandbox: str = ""
    user: KernelUser | None = None
    root: Path | None = None
    hidden: tuple[Path, ...] = field(default=())
    bwrap: str = "bwrap"

    # the socket folder (ipc)

    def socket_dir(self) -> Path | None:
        """A new private folder (0700) for one kernel's connection file and sockets, with a
        short path whatever the data folder's; owned by the kernel's user when it has one.
        None over TCP."""
        if self.transport != "ipc":
            return None
        runtime = os.environ.get("XDG_RUNTIME_DIR")
        base = runtime if runtime and os.path.isdir(runtime) else None
        if self.user is not None:  # $XDG_RUNTIME_DIR (or $TMPDIR) may be the hub user's own
            base = "/tmp"
        folder = Path(tempfile.mkdtemp(prefix="collabd-k", dir=base))
        if len(str(folder / f"{SOCKET_PREFIX}-00000")) > MAX_SOCKET_PATH:
            os.rmdir(folder)
            folder = Path(tempfile.mkdtemp(prefix="collabd-k", dir="/tmp"))
        if self.user is not None:
            os.chown(folder, self.user.uid, self.user.gid)
        return folder

    def hand_over(self, folder: Path) -> None:
        """Give the connection file (written 0600 by the hub) to the kernel's user."""
        if self.user is not None:
            for child in folder.iterdir():
                os.chown(child, self.user.uid, self.user.gid)

    # the command and the process

    def command(self, cmd: list[str], cwd: Path, sockets: Path | None) -> list[str]:
        """The kernel's command line, inside bwrap when sandboxed."""
        if self.sandbox != "bwrap":
            return cmd
        return [self.bwrap, *self.bwrap_args(cwd, sockets, installed(cmd)), "--", *cmd]

    def bwrap_args(self, cwd: Path, sockets: Path | None, keep: Iterable[Path] = ()) -> list[str]:
        """bwrap's options; `keep`: folders the kernel needs to start (its Python) that stay
        visible, read-only, when they are under /tmp, which the sandbox replaces with its own."""
        args = ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
        for path in sorted({p for p in keep if p.is_relative_to("/tmp") and p.is_dir()}):
            args += ["--ro-bind", str(path), str(path)]
        root = ["--bind", str(self.root), str(self.root)] if self.root is not None else []
        args += root
        for path in self.hidden:  # after the root: the data folder may be inside it
            if path.is_dir():  # an empty, read-only folder in its place
                args += ["--tmpfs", str(path), "--remount-ro", str(path)]
                if self.root is not None and self.root.is_relative_to(path):
                    args += root  # the root inside the data folder: back on top of it
            elif path.exists():
                args += ["--ro-bind", "/dev/null", str(path)]
        if sockets is not None:
            args += ["--bind", str(sockets), str(sockets)]
        args += ["--unshare-pid", "--unshare-ipc", "--die-with-parent", "--new-session"]
        return [*args, "--chdir", str(cwd)]

    def launch_options(self) -> dict[str, Any]:
        """Extra options for jupyter_client's launcher (and so subprocess.Popen): the kernel's
        user, its group and no others. A sandboxed kernel is not told the hub's pid (it cannot see
        it, and ipykernel would take its parent for gone): it dies with bwrap, which dies with
        the hub (--die-with-parent)."""
        options: dict[str, Any] = {}
        if self.sandbox == "bwrap":
            options["independent"] = True
        if self.user is not None:
            options.update(user=self.user.uid, group=self.user.gid, extra_groups=[])
        return options

    def environment(self, env: Mapping[str, str]) -> dict[str, str]:
        """The kernel's environment: its own user's home and name when it has one."""
        env = dict(env)
        if self.user is not None:
            env.update(HOME=self.user.home, USER=self.user.name, LOGNAME=self.user.name)
        if self.sandbox == "bwrap":
            env.setdefault("IPYTHONDIR", "/tmp/.ipython")  # the home folder is read-only there
            env["JPY_PARENT_PID"] = "1"  # its parent in the sandbox: bwrap's init
        return env

    @property
    def signals_reach_kernel(self) -> bool:
        """Whether a signal to the started process is a signal to the kernel: not through
        bwrap, whose kernel runs in its own session (it is interrupted by a message)."""
        return self.sandbox != "bwrap"


def installed(cmd: list[str]) -> set[Path]:
    """Where the kernel's Python and its packages are: the hub's environment (the kernel is
    usually the hub's own venv), the kernel command's environment and the PYTHONPATH entries."""
    places = {Path(sys.prefix), Path(sys.base_prefix)}
    if cmd and os.path.isabs(cmd[0]):
        places.add(Path(cmd[0]).resolve().parent.parent)
        places.add(Path(cmd[0]).parent.parent)
    places.update(Path(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p)
    return {p.absolute() for p in places}


def confinement(
    *,
    transport: str,
    sandbox: str,
    user: str,
    root: Path,
    hidden: Iterable[Path],
) -> Confinement:
    """Check the settings once, at start-up; ConfinementError says what is wrong."""
    if transport not in TRANSPORTS:
        raise ConfinementError(f"COLLABD_KERNEL_TRANSPORT must be ipc or tcp, not {transport!r}")
    if sandbox not in SANDBOXES:
        raise ConfinementError(f"COLLABD_KERNEL_SANDBOX must be bwrap or empty, not {sandbox!r}")
    kernel_user = KernelUser.named(user) if user else None
    if kernel_user is not None and kernel_user.uid == 0:
        raise ConfinementError("COLLABD_KERNEL_USER must name an unprivileged user, not root")
    if kernel_user is not None and os.geteuid() != 0:
        raise ConfinementError(
            f"COLLABD_KERNEL_USER={user}: only a hub started as root can run kernels as another"
            " user"
        )
    found = shutil.which("bwrap") if sandbox == "bwrap" else None
    if sandbox == "bwrap":
        if found is None:
            raise ConfinementError(
                "COLLABD_KERNEL_SANDBOX=bwrap: bubblewrap is not installed (Debian: apt-get"
                " install bubblewrap)"
            )
        _check_bwrap(found, kernel_user)
    return Confinement(
        transport=transport,
        sandbox=sandbox,
        user=kernel_user,
        root=root,
        hidden=tuple(hidden),
        bwrap=found or "bwrap",
    )


def _check_bwrap(bwrap: str, user: KernelUser | None) -> None:
    """Start one empty sandbox: a kernel that cannot start later would be a worse surprise."""
    probe = [bwrap, "--ro-bind", "/", "/", "--proc", "/proc", "--unshare-pid", "--", "true"]
    options: dict[str, Any] = {}
    if user is not None:
        options = {"user": user.uid, "group": user.gid, "extra_groups": []}
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=30, **options)
    except (OSError, subprocess.SubprocessError) as exc:
        raise ConfinementError(f"COLLABD_KERNEL_SANDBOX=bwrap: bwrap cannot run: {exc}") from None
    if done.returncode != 0:
        why = (done.stderr.strip().splitlines() or ["no reason given"])[-1]
        raise ConfinementError(
            f"COLLABD_KERNEL_SANDBOX=bwrap: bwrap cannot make a sandbox here ({why}); it needs"
            " unprivileged user namespaces or a setuid bwrap"
        )
