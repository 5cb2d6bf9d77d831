"""Hooks at a room's lifecycle points. Extensions run in the order they were given."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collabd.store import SessionRecord
    from collabd.sync.liveroom import LiveRoom


class Extension:
    """Override what you need; every hook is optional."""

    async def on_load(self, live: LiveRoom, record: SessionRecord) -> None:
        """The room was just loaded (or created) and is about to accept peers."""

    async def on_unload(self, live: LiveRoom) -> None:
        """The room is being unloaded (idle, or the hub is stopping). Write what you hold."""

    def busy(self, live: LiveRoom) -> bool:
        """True keeps an idle room loaded (a kernel still running, say)."""
        return False

    async def on_stop(self) -> None:
        """The hub is stopping, after every room was unloaded."""
