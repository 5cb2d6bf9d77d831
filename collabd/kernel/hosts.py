"""Kernel hosts: where a session's kernel may run (pure: parse and validate the setting).

`COLLABD_KERNEL_HOSTS` is a JSON list `[{"name", "url", "token"?, "description"?, "cwd"?}]`,
or `@/path/to/file.json` holding one. Each entry is a Jupyter Kernel Gateway (or Enterprise
Gateway). `cwd` is the folder on that machine that stands for the hub's notebook root: a
session's kernel is asked to work in the notebook's folder below it (`kernel_start_body`). The
host `local` (a kernel beside the hub, through jupyter_client) is always there and cannot be
redefined.

A host's `url` and `token` are secrets of the hub: they are never shown (`repr` leaves them
out); the API, the document and the recording only ever name a host.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

LOCAL = "local"
LOCAL_DESCRIPTION = "the hub's own machine"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MAX_DESCRIPTION = 500
KEYS = frozenset({"name", "url", "token", "description", "cwd"})


class HostsError(ValueError):
    """The kernel hosts setting is not valid; the message says where and why."""


@dataclass(frozen=True, slots=True)
class KernelHost:
    name: str
    url: str = field(default="", repr=False)  # "" for the local host
    token: str | None = field(default=None, repr=False)
    description: str = ""
    cwd: str = ""  # the gateway machine's folder for the hub's notebook root ("" not mapped)

    @property
    def is_local(self) -> bool:
        return self.name == LOCAL

    def public(self) -> dict[str, Any]:
        """What anyone may see of this host: its name and description, never its address."""
        return {"name": self.name, "description": self.description}


LOCAL_HOST = KernelHost(LOCAL, description=LOCAL_DESCRIPTION)


def parse_hosts(raw: str | None) -> dict[str, KernelHost]:
    """The hosts a setting names, `local` first; raises HostsError saying what is wrong."""
    hosts = {LOCAL: LOCAL_HOST}
    text = (raw or "").strip()
    if not text:
        return hosts
    where = "COLLABD_KERNEL_HOSTS"
    if text.startswith("@"):
        path = Path(text[1:]).expanduser()
        where = f"COLLABD_KERNEL_HOSTS file {path}"
        try:
            text = path.read_text()
        except OSError as exc:
            raise HostsError(f"{where}: cannot be read ({exc.strerror or exc})") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise HostsError(f"{where}: not JSON ({exc})") from None
    if not isinstance(data, list):
        raise HostsError(f'{where}: must be a JSON list of {{"name", "url", "token"?}} objects')
    for n, entry in enumerate(data, start=1):
        host = _host(entry, f"{where}, entry {n}")
        if host.name in hosts:
            what = "is the hub's own host" if host.name == LOCAL else "is used twice"
            raise HostsError(f"{where}, entry {n}: the name {host.name!r} {what}")
        hosts[host.name] = host
    return hosts


def _host(entry: Any, where: str) -> KernelHost:
    if not isinstance(entry, dict):
        raise HostsError(f"{where}: must be an object with a name and a url")
    unknown = sorted(set(entry) - KEYS)
    if unknown:
        raise HostsError(f"{where}: unknown keys {unknown} (allowed: {sorted(KEYS)})")
    name = entry.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise HostsError(
            f'{where}: "name" must be 1-64 letters, digits, ".", "_" or "-", got {name!r}'
        )
    where = f"{where} ({name})"
    url = entry.get("url")
    if not isinstance(url, str) or not url.strip():
        raise HostsError(f'{where}: "url" must be the gateway\'s http(s) address')
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise HostsError(f'{where}: "url" must be an http:// or https:// address')
    if parts.query or parts.fragment:
        raise HostsError(f'{where}: "url" must have no query or fragment (give "token")')
    token = entry.get("token")
    if token is not None and (not isinstance(token, str) or not token):
        raise HostsError(f'{where}: "token" must be a non-empty string')
    description = entry.get("description", "")
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
        raise HostsError(f'{where}: "description" must be a string of at most {MAX_DESCRIPTION}')
    cwd = entry.get("cwd", "")
    if not isinstance(cwd, str) or (cwd and not posixpath.isabs(cwd)):
        raise HostsError(f'{where}: "cwd" must be an absolute path on the kernel host')
    return KernelHost(name, url, token, description, posixpath.normpath(cwd) if cwd else "")


def kernel_start_body(host: KernelHost, spec: str, folder: str) -> dict[str, Any]:
    """`POST /api/kernels` for a kernel working in the notebook's `folder` (relative to the
    hub's root, "" for the root itself). `path` is that folder below the gateway's own root
    (Kernel Gateway and Enterprise Gateway start the kernel there, or in the nearest folder
    above it that exists). With the host's `cwd`, `KERNEL_WORKING_DIR` names it absolutely
    (Enterprise Gateway starts its container kernels there with `EG_MIRROR_WORKING_DIRS`)."""
    folder = posixpath.normpath(folder) if folder else ""
    if folder in (".", "") or folder.startswith("..") or posixpath.isabs(folder):
        folder = ""
    body: dict[str, Any] = {"name": spec, "path": folder}
    if host.cwd:
        body["env"] = {"KERNEL_WORKING_DIR": posixpath.join(host.cwd, folder).rstrip("/") or "/"}
    return body


def redact(text: str, host: KernelHost) -> str:
    """`text` (an error from a library, say) with the host's address and token replaced."""
    if host.token:
        text = text.replace(host.token, "***")
    if host.url:
        text = text.replace(host.url, f"<{host.name}>")
        parts = urlsplit(host.url)
        if parts.netloc:
            text = text.replace(parts.netloc, f"<{host.name}>")
    return text
