"""The shared-kernel extension: every loaded room gets its `SessionKernel`.

The parts, one concept each: `session` (one session's kernel and its worker), `queue` (the run
queue, pure), `cellrun` (one run: code sent, messages collected, input()), `life` (the kernel's
life, death and status transitions), `queueview` and `docstate` (what everyone sees in the
document), `outputs` (kernel messages into cell outputs, pure), `base` / `local` (the kernel seam
and jupyter_client beside the hub).
"""

from __future__ import annotations

import asyncio
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from collabd.extension import Extension, RoomLoad
from collabd.kernel import runrequest
from collabd.kernel.base import Kernel, KernelFactory
from collabd.kernel.choice import HostFactory
from collabd.kernel.confine import Confinement, confinement
from collabd.kernel.hosts import KernelHost, parse_hosts
from collabd.kernel.local import JupyterKernel
from collabd.kernel.session import ExecutionError, SessionKernel
from collabd.settings import Settings
from collabd.sync.liveroom import LiveRoom
from collabd.sync.requests import Asked, RequestRefused
from collabd.sync.room import Role
from collabd.tracking.mlflow import MlflowSink
from collabd.tracking.tracker import Tracker

if TYPE_CHECKING:
    from collabd.hub import Hub


class Execution(Extension):
    """Gives every loaded room its session kernel; stops them all with the hub."""

    def __init__(
        self,
        hub: Hub,
        factory: KernelFactory | None = None,
        hosts: dict[str, KernelHost] | None = None,
    ) -> None:
        """`factory` makes local kernels; `hosts` (default: the `kernel_hosts` setting, which
        raises `HostsError` if it is not valid) are where else a session may run its kernel."""
        self._hub = hub
        self.confinement = _confinement(hub.settings)
        self._factory = factory or self._local_kernel
        self.hosts = hosts if hosts is not None else parse_hosts(hub.settings.kernel_hosts)
        self._sessions: dict[str, SessionKernel] = {}
        uri = hub.settings.mlflow_tracking_uri
        self.mlflow = MlflowSink(uri) if uri and hub.settings.track_runs else None

    def _local_kernel(self, name: str, cwd: Path) -> Kernel:
        return JupyterKernel(
            name, cwd, secrets=(self._hub.admin_token,), confinement=self.confinement
        )

    def session(self, live: LiveRoom) -> SessionKernel:
        session = self._sessions.get(live.id)
        if session is None:
            raise ExecutionError("not_loaded", "the session is not loaded")
        return session

    async def on_load(self, load: RoomLoad) -> None:
        live = load.live
        cwd = self._hub.notebook_path(load.record).parent
        factory = HostFactory(
            live,
            self.hosts,
            self._factory,
            key=self._hub.admin_token,
            folder=PurePosixPath(load.record.path).parent.as_posix(),
            grace_s=self._hub.settings.kernel_host_grace_s,
        )
        holder: list[SessionKernel] = []
        tracker = Tracker(
            live,
            path=load.record.path,
            host=lambda: holder[0].host if holder else "",
            enabled=self._hub.settings.track_runs,
            submit=self.mlflow.submit if self.mlflow is not None else None,
        )
        session = SessionKernel(live, cwd=cwd, factory=factory, tracker=tracker)
        holder.append(session)
        self._sessions[live.id] = session
        session.start(
            with_kernel=self._hub.settings.kernel_start_with_session, fresh=load.imported_from_disk
        )
        live.requests["execute"] = lambda asked: self._execute(live, asked)

    def _execute(self, live: LiveRoom, asked: Asked) -> dict[str, Any]:
        """A run asked for over the websocket: the same checks and answer as
        `POST …/execute`, the name vouched for by how the peer joined."""
        if asked.role is not Role.EDIT:
            raise RequestRefused(403, "forbidden", "a view link cannot change anything")
        cell_ids, is_list = runrequest.cell_ids_of(asked.fields)
        by = runrequest.by_of(asked.fields, runrequest.verified_by_join(asked.joined))
        try:
            made = self.session(live).submit(cell_ids, by)
        except ExecutionError as exc:
            raise RequestRefused(runrequest.status_of(exc.code), exc.code, exc.detail) from None
        result: dict[str, Any] = {"request_id": made[0].request_id}
        if is_list:
            result.update(request_ids=[r.request_id for r in made], batch_id=made[0].batch_id)
        return result

    def kernels(self) -> list[SessionKernel]:
        return list(self._sessions.values())

    async def on_unload(self, live: LiveRoom) -> None:
        session = self._sessions.pop(live.id, None)
        if session is not None:
            await session.close("the session was closed; its kernel was shut down")

    def busy(self, live: LiveRoom) -> bool:
        session = self._sessions.get(live.id)
        return session is not None and session.busy

    async def on_stop(self) -> None:
        for session_id in list(self._sessions):
            session = self._sessions.pop(session_id)
            await session.close("the hub stopped; its kernel was shut down")
        if self.mlflow is not None:
            await asyncio.to_thread(self.mlflow.close)


def _confinement(settings: Settings) -> Confinement:
    """The local kernels' confinement; `ConfinementError` (at start-up) if it cannot work."""
    return confinement(
        transport=settings.kernel_transport,
        sandbox=settings.kernel_sandbox,
        user=settings.kernel_user,
        root=settings.root,
        hidden=secret_paths(settings),
    )


def secret_paths(settings: Settings) -> list[Path]:
    """What a sandboxed kernel must not see: the data folder and the files secrets came from."""
    files = [settings.token_file, settings.link_key_file]
    if settings.kernel_hosts.startswith("@"):
        files.append(settings.kernel_hosts[1:])
    return [settings.data, *(Path(f).resolve() for f in files if f)]
