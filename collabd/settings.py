"""Every setting in one place, with the defaults a single machine wants.

Each field can be set from the environment as COLLABD_<NAME> (upper case); the CLI sets the main
ones from its options.
"""

from __future__ import annotations

import dataclasses
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from collabd.datadir import default_data

MiB = 1024 * 1024


@dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = 8765
    root: Path = field(default_factory=Path.cwd)
    data: Path = field(default_factory=lambda: default_data(Path.cwd().resolve()))
    token: str | None = None
    token_file: str = ""  # where the admin token was read from (hidden from sandboxed kernels)
    link_key_file: str = ""  # the key the anonymous links are derived from (collabd.linktokens)
    public_url: str | None = None  # base URL for links when behind a proxy
    metrics_token: str | None = None  # if set, GET /metrics needs it (Bearer)
    log_format: str = "text"  # or "json": one JSON object per line
    base_path: str = ""  # URL path prefix of every page and endpoint (e.g. /services/collabd)

    # sign-in (collabd.signin): people signed in by JupyterHub or by an authenticating proxy
    jupyterhub: bool = False  # a JupyterHub service: sign-in through the hub's OAuth
    trusted_user_header: str = ""  # e.g. X-Auth-Request-User (oauth2-proxy)
    trusted_proxies: tuple[str, ...] = ()  # addresses/CIDRs whose user header is believed
    admin_users: tuple[str, ...] = ()  # signed-in users who administer every session
    users_can_create: bool = True  # signed-in users may create sessions (they own them)

    # a cluster of hubs (all three unset: one hub on its own, SQLite in `data`)
    database_url: str | None = None  # postgresql://… : the store every hub shares
    redis_url: str | None = None  # redis://… : the relay between hubs (needs database_url)
    node_url: str | None = None  # how the other hubs reach this one over HTTP
    lease_ttl_s: float = 5.0  # a dead owner's rooms are taken over after this long

    # websocket limits
    allowed_origins: tuple[str, ...] = ()  # besides the server's own origin
    max_message_bytes: int = 16 * MiB
    rate_messages_per_s: float = 200.0
    rate_burst: int = 2000
    max_participants: int = 200  # edit-link connections per session
    max_viewers: int = 2000  # view-link connections per session (a lecture's audience)
    max_send_buffer_bytes: int = 64 * MiB  # a peer that reads slower than this is dropped
    max_presence_ids: int = 4  # client ids one connection may show presence for
    max_presence_bytes: int = 64 * 1024  # one client's presence state (JSON)

    # document and storage
    snapshot_every: int = 12_000  # at most this many updates between snapshots (store/cadence)
    merge_window_s: float = 0.0  # extra wait before a fan-out, to merge more updates
    save_delay_s: float = 1.0  # write the .ipynb this long after edits pause
    save_max_delay_s: float = 5.0  # and at least this often under constant editing
    watch_interval_s: float = 1.0  # how often to look for outside changes to the .ipynb
    room_idle_unload_s: float = 60.0

    # kernels
    kernel_start_with_session: bool = False
    kernel_idle_shutdown_s: float = 3600.0
    kernel_restart_on_death: bool = True
    queue_order: str = "fifo"  # or "fair": round-robin across participants
    max_queue_length: int = 1000  # run requests waiting in one session
    output_limit_bytes: int = 1 * MiB  # per cell
    stream_flush_s: float = 0.1
    input_timeout_s: float = 300.0
    kernel_hosts: str = ""  # JSON list of Kernel Gateways, or @file.json (collabd.kernel.hosts)
    kernel_host_grace_s: float = 10.0  # an unreachable gateway's kernel is dead after this long
    # what a local kernel (any editor's code) can reach (collabd.kernel.confine)
    kernel_transport: str = "ipc"  # or "tcp" (platforms without unix sockets)
    kernel_sandbox: str = ""  # "bwrap": own PID namespace and /proc, data and secrets hidden
    kernel_user: str = ""  # run kernels as this unprivileged user (the hub runs as root)

    # tracking (collabd.tracking): parameters and metrics recorded with every run
    track_runs: bool = True  # off: no user_expressions are sent, nothing is tracked
    mlflow_tracking_uri: str = ""  # also log every tracked run to MLflow (needs mlflow-skinny)

    # chat (collabd.chat): messages one person may post through the hub, and their length
    chat_rate: str = "10/10"  # at most N messages in any SECONDS
    chat_max_chars: int = 4000

    # shared widgets (collabd.kernel.widgetpeer): the hub is the kernel's ipywidgets peer
    widget_update_interval_s: float = 0.05  # a model's kernel updates written at most this often
    widget_max_models: int = 1000  # widget models kept per session
    widget_max_state_bytes: int = 1 * MiB  # one model's state and buffers
    widget_rate: str = "60/1"  # widget changes one person may post: N in any SECONDS

    # recording
    record: bool = True
    record_presence_interval_s: float = 0.2
    retention_days: float = 0.0  # 0 keeps everything
    retention_bytes: int = 0  # 0 keeps everything

    @property
    def db_path(self) -> Path:
        return self.data / "collabd.sqlite3"

    def seat_limit(self, editor: bool) -> int:
        """Connections a session may have with edit links, or with view links: two separate
        counts, so a crowd of viewers can never take the editors' seats (nor editors the
        audience's)."""
        return self.max_participants if editor else self.max_viewers

    @property
    def internal_url(self) -> str:
        """This hub's own address for the other hubs of a cluster (forwarded requests)."""
        if self.node_url:
            return self.node_url.rstrip("/")
        host = self.host if self.host not in ("0.0.0.0", "::", "") else socket.gethostname()
        return f"http://{host}:{self.port}"

    @property
    def prefix(self) -> str:
        """`base_path` as "" or "/a/b" (a leading slash, no trailing one)."""
        path = self.base_path.strip("/")
        return f"/{path}" if path else ""

    @property
    def signin(self) -> bool:
        """Whether people can sign in (JupyterHub, or a trusted proxy's header)."""
        return self.jupyterhub or bool(self.trusted_user_header)

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        return f"http://{self.host}:{self.port}{self.prefix}"

    def with_env(self, environ: dict[str, str] | None = None) -> Settings:
        """A copy with COLLABD_<NAME> variables applied."""
        environ = dict(os.environ) if environ is None else environ
        changes: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            raw = environ.get(f"COLLABD_{f.name.upper()}")
            if raw is not None:
                changes[f.name] = _parse(raw, getattr(self, f.name), f.name)
        jupyterhub = changes.get("jupyterhub", self.jupyterhub)
        if jupyterhub and "base_path" not in changes and not self.base_path:
            # A JupyterHub service is served under the prefix the hub gives it.
            changes["base_path"] = environ.get("JUPYTERHUB_SERVICE_PREFIX", "")
        return dataclasses.replace(self, **changes)


def _parse(raw: str, current: Any, name: str) -> Any:
    if isinstance(current, bool):
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"COLLABD_{name.upper()}: expected a boolean, got {raw!r}")
    if isinstance(current, Path):
        return Path(raw)
    if isinstance(current, tuple):
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    if isinstance(current, (int, float)):
        try:
            return type(current)(raw)
        except ValueError:
            raise ValueError(f"COLLABD_{name.upper()}: expected a number, got {raw!r}") from None
    return raw
