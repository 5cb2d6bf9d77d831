"""Where a session's kernel runs: the choice kept in the document, and the factory that obeys it.

The choice is `state.kernel_choice = {"host", "spec"}` in the shared document (written by the
hub when someone selects a kernel), so it is stored, replayed and survives restarts with the
document. For a kernel on a gateway the hub also keeps `kernel_id` and `attach`: an HMAC (keyed
by the admin token) of the session, host and kernel id, so that after the hub was killed it
re-attaches to that kernel, and only to a kernel that this hub started for this session (a
kernel id copied in from another session does not verify). No address or token of a host is
ever written there.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pycrdt import Doc

from collabd.kernel.base import (
    NO_EXTRAS,
    Kernel,
    KernelFactory,
    KernelMessage,
    KernelStartError,
    RunExtras,
)
from collabd.kernel.gateway import GRACE_S, GatewayKernel
from collabd.kernel.hosts import LOCAL, KernelHost
from collabd.kernel.inflight import RUNNING_KEY
from collabd.notebook import state
from collabd.sync.liveroom import LiveRoom

log = logging.getLogger("collabd.kernel.choice")

CHOICE_KEY = "kernel_choice"
ORIGIN = "kernel"


@dataclass(frozen=True, slots=True)
class KernelChoice:
    host: str
    spec: str
    kernel_id: str | None = None
    attach: str | None = None
    session: str | None = None  # the websocket session the kernel's messages are buffered for

    def to_doc(self) -> dict[str, Any]:
        value: dict[str, Any] = {"host": self.host, "spec": self.spec}
        if self.kernel_id and self.attach:
            value.update(kernel_id=self.kernel_id, attach=self.attach)
            if self.session:
                value.update(session=self.session)
        return value


def read_choice(doc: Doc[Any]) -> KernelChoice | None:
    value = state(doc).get(CHOICE_KEY)
    if not isinstance(value, dict):
        return None
    host, spec = value.get("host"), value.get("spec")
    if not isinstance(host, str) or not isinstance(spec, str) or not host or not spec:
        return None
    kernel_id, attach = value.get("kernel_id"), value.get("attach")
    session = value.get("session")
    return KernelChoice(
        host,
        spec,
        kernel_id if isinstance(kernel_id, str) else None,
        attach if isinstance(attach, str) else None,
        session if isinstance(session, str) and session else None,
    )


def reattachable(choice: KernelChoice | None) -> bool:
    """Whether the choice names a kernel on a host that a restarted hub may re-attach to (the
    factory still checks its signature)."""
    return choice is not None and choice.host != LOCAL and bool(choice.kernel_id and choice.attach)


def set_choice(doc: Doc[Any], choice: KernelChoice) -> None:
    state(doc)[CHOICE_KEY] = choice.to_doc()


def attach_mac(key: str, session_id: str, host: str, kernel_id: str) -> str:
    return _mac(key, f"collabd-attach\0{session_id}\0{host}\0{kernel_id}")


def _mac(key: str, text: str) -> str:
    return hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest()[:32]


class UnavailableKernel:
    """Stands in for a kernel that cannot be made (its host is not configured): start says why."""

    def __init__(self, name: str, host: str, reason: str) -> None:
        self.name, self.host, self.reason = name, host, reason

    async def start(self) -> None:
        raise KernelStartError(self.reason)

    async def execute(self, code: str, extras: RunExtras = NO_EXTRAS) -> str:
        raise RuntimeError(self.reason)

    async def receive(self, timeout: float) -> KernelMessage | None:
        return None

    async def request(
        self, msg_type: str, content: dict[str, Any], timeout: float
    ) -> dict[str, Any]:
        raise RuntimeError(self.reason)

    def answer_input(self, value: str) -> None:
        raise RuntimeError(self.reason)

    async def send(
        self,
        msg_type: str,
        content: dict[str, Any],
        buffers: Sequence[bytes] = (),
        metadata: dict[str, Any] | None = None,
    ) -> str:
        raise RuntimeError(self.reason)

    async def interrupt(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def exit_code(self) -> int | None:
        return -1


class HostFactory:
    """A session's `KernelFactory`: a local kernel or one on a gateway, as the document says.

    Without a choice the local factory gets the notebook's own kernelspec name.
    """

    def __init__(
        self,
        live: LiveRoom,
        hosts: dict[str, KernelHost],
        local: KernelFactory,
        *,
        key: str,
        folder: str = "",
        grace_s: float = GRACE_S,
    ) -> None:
        self.live = live
        self.hosts = hosts
        self.local = local
        self._key = key
        self._folder = folder
        self._grace_s = grace_s

    def __call__(self, name: str, cwd: Path) -> Kernel:
        choice = read_choice(self.live.doc)
        if choice is None or choice.host == LOCAL:
            return self.local(choice.spec if choice else name, cwd)
        host = self.hosts.get(choice.host)
        if host is None:
            reason = (
                f"the kernel host {choice.host!r} is not configured on this hub "
                "(COLLABD_KERNEL_HOSTS); select another"
            )
            return UnavailableKernel(choice.spec, choice.host, reason)
        attach = None
        if choice.kernel_id and choice.attach:
            expected = attach_mac(self._key, self.live.id, choice.host, choice.kernel_id)
            if hmac.compare_digest(expected, choice.attach):
                attach = choice.kernel_id
            else:
                log.warning("room %s: a kernel id this hub did not sign; ignored", self.live.id)
        room, key = self.live.id, self._key
        return GatewayKernel(
            choice.spec,
            host,
            kernel_id=attach,
            session_id=choice.session if attach else None,
            folder=self._folder,
            grace_s=self._grace_s,
            on_started=self._remember(choice),
            signer=lambda text: _mac(key, f"collabd-{room}\0{text}"),
        )

    def _remember(self, choice: KernelChoice) -> Callable[[str, str], None]:
        """Once a gateway kernel runs, keep its id (signed) and its websocket session with the
        choice, for re-attaching; the run in flight in that same kernel stays recorded."""

        def remember(kernel_id: str, session: str) -> None:
            if self.live.closed:
                return
            mac = attach_mac(self._key, self.live.id, choice.host, kernel_id)
            kept = KernelChoice(choice.host, choice.spec, kernel_id, mac, session)

            def edit(doc: Doc[Any]) -> None:
                with doc.transaction(origin=ORIGIN):
                    current = read_choice(doc)
                    if current and (current.host, current.spec) == (choice.host, choice.spec):
                        value = kept.to_doc()
                        running = state(doc)[CHOICE_KEY].get(RUNNING_KEY)
                        if current.kernel_id == kernel_id and running is not None:
                            value[RUNNING_KEY] = running
                        state(doc)[CHOICE_KEY] = value

            self.live.change(ORIGIN, edit)

        return remember
