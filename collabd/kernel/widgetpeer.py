"""The session's widget peer: the kernel's widget messages into the document, editors' changes
to the kernel (the I/O around `collabd.kernel.widgets`).

Whoever reads the kernel's messages (the run being carried out, or the session's worker between
runs) offers each to `take` first. Kernel changes to the models are written into the document's
`widgets` map at most every `widget_update_interval_s` (a progress bar's flood of updates becomes
a few writes; a write of more than `WRITE_BYTES` stretches the wait in proportion); an editor's
change is written at once. When the kernel restarts, dies or is
switched every model is marked gone (kept read-only); when the next kernel is ready, the gone
models no cell shows any more are dropped.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from pycrdt import Doc

from collabd import notebook, widgetstate
from collabd.kernel import docstate
from collabd.kernel.base import Kernel, KernelMessage
from collabd.kernel.widgets import (
    CONTROL_TARGET,
    CONTROL_VERSION,
    Path,
    WidgetError,
    WidgetModels,
)
from collabd.sync.liveroom import LiveRoom

log = logging.getLogger("collabd.kernel.widgets")

ORIGIN = "kernel"
# Each write replaces a model's whole entry: past this many bytes a write, the next one waits
# longer in proportion (an Output widget filling up is not rewritten 20 times a second).
WRITE_BYTES = 64 * 1024
_OURS_KEPT = 1000  # ids of messages we sent, whose status and stray outputs are ours to drop
_NO_CUSTOM = object()


class WidgetPeer:
    def __init__(self, live: LiveRoom, kernel: Callable[[], Kernel | None]) -> None:
        settings = live.settings
        self.live = live
        self.models = WidgetModels(
            max_models=settings.widget_max_models,
            max_state_bytes=settings.widget_max_state_bytes,
        )
        self.writes = 0  # document writes made, for the logs and tests
        self._kernel = kernel  # the running kernel, None while there is none
        self._interval = settings.widget_update_interval_s
        self._gap = self._interval  # before the next write of the kernel's changes
        self._timer: asyncio.TimerHandle | None = None
        self._written_at = 0.0
        self._ours: OrderedDict[str, None] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()

    def load(self) -> bool:
        """The room was (re)loaded: no kernel of ours has these models yet (they are gone until
        a re-attached kernel says it still has them). Whether any of them was live."""
        entries = widgetstate.entries(self.live.doc)
        self.models.load(entries)
        self.write()
        return any(not entry.get("gone") for entry in entries.values())

    # the kernel's messages

    def take(self, message: KernelMessage) -> bool:
        """Handle the message if it is the widgets' (True); else leave it to the caller."""
        if self.models.wants(message):
            self.models.receive(message)
            self._schedule()
            return True
        # the replies to our own comm messages: the kernel busy with them, and what their
        # handlers print outside any Output widget (JupyterLab shows that nowhere either)
        return message.parent_id is not None and message.parent_id in self._ours

    # editors' changes

    async def update(
        self,
        model_id: str,
        state: dict[str, Any],
        buffers: dict[Path, bytes],
        custom: Any = _NO_CUSTOM,
    ) -> None:
        """Send an editor's change (`state`, `buffers`) and custom message to the kernel and
        show the change to everyone at once; WidgetError if it cannot be made."""
        self.models.editable(model_id)
        kernel = self._kernel()
        if kernel is None:
            raise WidgetError("no_kernel", "the session's kernel is not running")
        if state or buffers:
            data, raw = self.models.check_update(model_id, state, buffers)
            msg_id = await self._send(kernel, model_id, data, raw)
            self.models.editor_update(model_id, state, buffers, msg_id)
            self.write()
        if custom is not _NO_CUSTOM:
            await self._send(kernel, model_id, {"method": "custom", "content": custom}, [])

    async def _send(
        self, kernel: Kernel, comm_id: str, data: dict[str, Any], buffers: list[bytes]
    ) -> str:
        try:
            msg_id = await kernel.send("comm_msg", {"comm_id": comm_id, "data": data}, buffers)
        except Exception as exc:  # a kernel that is going away, a host that cannot take it
            log.warning("room %s: a widget message was not sent: %r", self.live.id, exc)
            raise WidgetError("no_kernel", f"the kernel did not take the message: {exc}") from None
        self._remember(msg_id)
        return msg_id

    def _remember(self, msg_id: str) -> None:
        self._ours[msg_id] = None
        while len(self._ours) > _OURS_KEPT:
            self._ours.popitem(last=False)

    # the kernel's life

    def on_status(self, previous: str | None, status: str) -> None:
        """The kernel's status changed (`collabd.kernel.life`)."""
        if status in ("restarting", "dead"):
            self.models.all_gone()
            self.write()
        elif status == "idle" and previous in ("starting", "restarting"):
            self._started()

    def _started(self) -> None:
        """A new kernel is ready: drop the gone models no cell shows; a kernel that outlived the
        hub (a gateway's, re-attached) is asked for the models it still has, which come back
        live. (A fresh kernel has none: asking it would only log an unknown comm target.)"""
        shown = widgetstate.shown_model_ids(
            output for cell in notebook.cells(self.live.doc) for output in _outputs(cell)
        )
        current = {m: model.entry() for m, model in self.models.models.items()}
        self.models.prune(widgetstate.referenced(current, shown))
        self.write()
        kernel = self._kernel()
        if kernel is not None and getattr(kernel, "attached", False):
            task = asyncio.create_task(self._request_states(kernel))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _request_states(self, kernel: Kernel) -> None:
        """ipywidgets' control comm: the kernel sends back every model's full state."""
        comm_id = uuid.uuid4().hex
        self.models.control_id = comm_id
        try:
            content = {"comm_id": comm_id, "target_name": CONTROL_TARGET, "data": {}}
            opened = await kernel.send("comm_open", content, metadata={"version": CONTROL_VERSION})
            self._remember(opened)
            asked = {"comm_id": comm_id, "data": {"method": "request_states"}}
            self._remember(await kernel.send("comm_msg", asked))
        except Exception as exc:
            log.info("room %s: could not ask the kernel for its widgets: %r", self.live.id, exc)

    # writing

    def _schedule(self) -> None:
        if self._timer is not None:
            return
        wait = self._written_at + self._gap - time.monotonic()
        if wait <= 0:
            self.write()
        else:
            self._timer = asyncio.get_running_loop().call_later(wait, self._due)

    def _due(self) -> None:
        self._timer = None
        self.write()

    def write(self) -> None:
        """Write every model changed since the last write, in one transaction."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        size = self.models.dirty_bytes()
        dirty, problems = self.models.take_dirty(), self.models.take_problems()
        if (not dirty and not problems) or self.live.closed:
            return
        if problems:  # one line per write, however many widgets hit a limit meanwhile
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            log.warning("room %s: %s%s", self.live.id, problems[-1], more)

        def edit(doc: Doc[Any]) -> None:
            with doc.transaction(origin=ORIGIN):
                for model_id, entry in dirty.items():
                    widgetstate.put(doc, model_id, entry)
                if any(entry is not None for entry in dirty.values()):
                    widgetstate.supersede_file_state(doc)
                if problems:
                    docstate.set_last_event(doc, "widget_limit", problems[-1])

        self.live.change(ORIGIN, edit)
        self._written_at = time.monotonic()
        self._gap = self._interval * max(1.0, size / WRITE_BYTES)
        self.writes += 1

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for task in self._tasks:
            task.cancel()


def _outputs(cell: Any) -> list[Any]:
    outputs = cell.get("outputs")
    return list(outputs.to_py()) if outputs is not None and hasattr(outputs, "to_py") else []
