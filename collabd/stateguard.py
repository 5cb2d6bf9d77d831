"""The hub is the only author of the execution state it publishes: what a participant's update
does to those keys of the `state` map is undone.

`state.kernel`, `state.queue`, `state.input_request`, `state.last_event` and
`state.kernel_choice` say what the shared kernel is doing, who waits, whose `input()` prompt is
open and where the kernel runs. Every page shows them as the hub's word, so an editor who wrote
there could show everyone a fake queue, a kernel "restarting" or a password prompt in someone
else's name. The guard keeps the values the hub last wrote (a Yjs observer on the map, called
only for transactions that touch it); after a participant's update that changed one of these
keys, the repair puts them back, in the same batch as the update, so others never see the
forgery. Other keys of `state` are left to the clients (JupyterLab's own, say). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pycrdt import Doc, Map, MapEvent

from collabd import notebook
from collabd.extension import Extension, RoomLoad

ORIGIN = "state"
HUB_KEYS = frozenset({"kernel", "queue", "input_request", "last_event", "kernel_choice"})

Edit = Callable[[Doc[Any]], None]


class StateGuard:
    """A room's update guard (`Room.guards`) for the hub's keys of the `state` map."""

    origin = ORIGIN

    def __init__(self, doc: Doc[Any]) -> None:
        self._map: Map[Any] = notebook.state(doc)
        self._accepted = self._hub_values()
        self._watching = False
        self._touched = False
        self.repairs = 0  # how many updates needed one (for tests and logs)
        self._subscription = self._map.observe(self._on_change)  # kept: pycrdt drops it else

    def _hub_values(self) -> dict[str, Any]:
        return {k: _plain(self._map.get(k)) for k in HUB_KEYS if k in self._map}

    def _on_change(self, event: MapEvent) -> None:
        if not self._watching:
            self._accepted = self._hub_values()  # the hub's own change (or its repair)
        elif HUB_KEYS.intersection(event.keys):  # type: ignore[attr-defined]  # untyped in pycrdt
            self._touched = True

    def before(self) -> None:
        self._watching, self._touched = True, False

    def after(self, peer: int) -> Edit | None:
        self._watching = False
        if not self._touched:
            return None
        self._touched = False
        self.repairs += 1
        accepted = dict(self._accepted)

        def repair(doc: Doc[Any]) -> None:
            shared = notebook.state(doc)
            with doc.transaction(origin=ORIGIN):
                for key in HUB_KEYS:
                    if key not in accepted:
                        if key in shared:
                            del shared[key]
                    elif _plain(shared.get(key)) != accepted[key]:
                        shared[key] = accepted[key]

        return repair


def _plain(value: Any) -> Any:
    """A value as JSON: the hub writes plain values; a forged one may be a shared type."""
    to_py = getattr(value, "to_py", None)
    return to_py() if callable(to_py) else value


class StateGuardExtension(Extension):
    """Puts a `StateGuard` on every room as it loads."""

    async def on_load(self, load: RoomLoad) -> None:
        load.live.room.guards.append(StateGuard(load.live.doc))
