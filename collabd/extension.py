"""The extension contract: hooks at a room's lifecycle points, and the one runner of them.

An extension (disk sync, the shared kernel, retention; later the cluster relay) is a plain object
that overrides the hooks it needs. The hub runs every extension's hook in the order the
extensions were given, through `Hooks`, which has one error policy:

- `on_load` failing fails that room's load: the extensions already loaded for it are unloaded
  (newest first), the room is closed, and the error reaches whoever asked for the room.
- `on_change`, `on_join`, `on_leave` failing is logged with the room and the extension; the other
  extensions still run and the participant is not affected.
- `on_unload` and `on_stop` failing is logged; the rest still run, and the hub still closes the
  room and the store.

`on_change`, `on_join` and `on_leave` come only after every extension's `on_load` for the room:
what the load itself wrote (the first import, the extensions' own edits) is the state they
start from. Per-room state belongs to the extension (a dict keyed by room id); rooms carry none
of it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from collabd.store import SessionRecord
    from collabd.sync.liveroom import LiveRoom
    from collabd.sync.room import PeerId, Publish, Role

log = logging.getLogger("collabd.extension")
E = TypeVar("E", bound="Extension")


@dataclass(frozen=True, slots=True)
class RoomLoad:
    """What an extension is told about a room that was just loaded."""

    live: LiveRoom
    record: SessionRecord
    imported_from_disk: bool  # the room was created just now from the .ipynb on disk
    last_change_ts: float  # Unix time of the newest stored change (0.0: none)


class Extension:
    """Override what you need; every hook is optional."""

    async def on_load(self, load: RoomLoad) -> None:
        """The room was just loaded (or created) and is about to accept peers."""

    def on_change(self, live: LiveRoom, publishes: list[Publish]) -> None:
        """Document updates were stored and sent (from participants, the hub or the disk)."""

    def on_join(self, live: LiveRoom, peer: PeerId, role: Role) -> None:
        """A participant joined the room."""

    def on_leave(self, live: LiveRoom, peer: PeerId) -> None:
        """A participant left the room."""

    def busy(self, live: LiveRoom) -> bool:
        """True keeps an idle room loaded (a kernel still running, say)."""
        return False

    async def on_unload(self, live: LiveRoom) -> None:
        """The room is being unloaded (idle, or the hub is stopping). Write what you hold."""

    async def on_stop(self) -> None:
        """The hub is stopping, after every room was unloaded."""


class Hooks:
    """Runs the extensions' hooks in order, with the error policy above."""

    def __init__(self, extensions: Sequence[Extension] = ()) -> None:
        self._extensions = list(extensions)

    def __iter__(self) -> Iterator[Extension]:
        return iter(self._extensions)

    def add(self, *extensions: Extension) -> None:
        self._extensions.extend(extensions)

    def find(self, kind: type[E]) -> E:
        """The extension of this type (the first, if several); LookupError if there is none."""
        for extension in self._extensions:
            if isinstance(extension, kind):
                return extension
        raise LookupError(f"no {kind.__name__} extension in this hub")

    async def load(self, load: RoomLoad) -> None:
        loaded: list[Extension] = []
        for extension in self._extensions:
            try:
                await extension.on_load(load)
            except BaseException:
                log.exception("room %s: %r failed to load", load.live.id, extension)
                for done in reversed(loaded):
                    await self._unload_one(done, load.live)
                raise
            loaded.append(extension)

    def change(self, live: LiveRoom, publishes: list[Publish]) -> None:
        for extension in self._extensions:
            try:
                extension.on_change(live, publishes)
            except Exception:
                log.exception("room %s: %r failed on a change", live.id, extension)

    def join(self, live: LiveRoom, peer: PeerId, role: Role) -> None:
        for extension in self._extensions:
            try:
                extension.on_join(live, peer, role)
            except Exception:
                log.exception("room %s: %r failed on a join", live.id, extension)

    def leave(self, live: LiveRoom, peer: PeerId) -> None:
        for extension in self._extensions:
            try:
                extension.on_leave(live, peer)
            except Exception:
                log.exception("room %s: %r failed on a leave", live.id, extension)

    def busy(self, live: LiveRoom) -> bool:
        return any(extension.busy(live) for extension in self._extensions)

    async def unload(self, live: LiveRoom) -> None:
        for extension in self._extensions:
            await self._unload_one(extension, live)

    async def stop(self) -> None:
        for extension in self._extensions:
            try:
                await extension.on_stop()
            except Exception:
                log.exception("%r failed to stop", extension)

    @staticmethod
    async def _unload_one(extension: Extension, live: LiveRoom) -> None:
        try:
            await extension.on_unload(live)
        except Exception:
            log.exception("room %s: %r failed to unload", live.id, extension)
