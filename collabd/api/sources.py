"""Where the recording endpoints read from: a live hub's store, or one exported file.

Each app puts its `RecordingSources` in `app.state.recordings`; the recording router asks it for
the session a request names (after checking the token) and never knows which app it serves.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.requests import Request

from collabd import auth, chat, chatredact
from collabd.api.access import hub_of, session_access, token_of
from collabd.api.errors import ApiError
from collabd.cluster.node import OwnedElsewhere
from collabd.recording import reader
from collabd.recording.offload import Rebuilds, WorkerGone
from collabd.store import SessionRecord, Store

RunIO = Callable[..., Awaitable[Any]]


HiddenIds = Callable[[], Awaitable[frozenset[str]]]


async def _to_thread(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return await asyncio.to_thread(fn, *args, **kwargs)


@dataclass(frozen=True, slots=True)
class Source:
    store: Store
    record: SessionRecord
    run_io: RunIO
    replay: bool
    # the chat messages hidden now, whose text this caller must not get at any moment (None:
    # the caller may read everything: the admin, or whoever holds an exported file)
    hidden: HiddenIds | None = None
    # reads that rebuild a document (`collabd.recording.offload`): out of the hub's process
    # where it can, so that they do not hold up its rooms
    rebuild_io: RunIO = _to_thread


class RecordingSources(Protocol):
    async def source(self, request: Request) -> Source:
        """The recording the request names, once its token is checked (edit or view)."""
        ...


class LiveSources:
    """Recordings of a live hub's sessions."""

    async def source(self, request: Request) -> Source:
        record, access = await session_access(request)
        hub = hub_of(request)
        rebuilds = hub.rebuilds
        rebuilds.warm()  # someone opened a recording: a seek or a diff is likely next
        hub.indexing.request(record.id)  # and seeks are fast where its index reaches
        rebuild_io = answering(rebuilds)
        try:
            live = hub.loaded(record.id) or await hub.room(record)  # a new session is imported
        except OwnedElsewhere:  # its owner stores before it sends: the store has all it showed
            hidden = None
            if access is not auth.Access.ADMIN:
                hidden = _hidden_in_store(rebuild_io, hub.store, record)
            return Source(hub.store, record, _to_thread, False, hidden, rebuild_io)
        await live.flush()  # what was shown to anyone is in the recording
        # Reads of history run on their own thread (the store locks each query), so a long
        # summary never holds up the one I/O thread that live edits are written through.
        hidden = None if access is auth.Access.ADMIN else _hidden_in_doc(live.doc)
        return Source(hub.store, record, _to_thread, False, hidden, rebuild_io)


def answering(rebuilds: Rebuilds) -> RunIO:
    """`rebuilds.run`, with a worker that died twice on a read answered as 503: nothing of
    anyone's was lost, and the next read starts another worker."""

    async def run(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return await rebuilds.run(fn, *args, **kwargs)
        except WorkerGone as exc:
            raise ApiError(503, "unavailable", f"{exc}; try again") from None

    return run


def _hidden_in_doc(doc: Any) -> HiddenIds:
    async def hidden() -> frozenset[str]:
        return chatredact.hidden_ids(chat.messages(doc))

    return hidden


def _hidden_in_store(rebuild_io: RunIO, store: Store, record: SessionRecord) -> HiddenIds:
    async def hidden() -> frozenset[str]:
        messages = await rebuild_io(reader.chat_at, store, record.id, time.time())
        return chatredact.hidden_ids(messages)

    return hidden


@dataclass(frozen=True, slots=True)
class ReplaySources:
    """What `collabd replay` serves: one recorded session, read-only, behind one token."""

    store: Store
    session: SessionRecord
    token: str
    rebuild_io: RunIO = _to_thread

    async def source(self, request: Request) -> Source:
        if not auth.same(token_of(request), self.token):  # first: ids cannot be probed
            raise ApiError(401, "unauthorized", "the token is not valid for this recording")
        if request.path_params["session_id"] != self.session.id:
            raise ApiError(404, "not_found", "no such session")
        return Source(self.store, self.session, _to_thread, True, rebuild_io=self.rebuild_io)


def sources_of(request: Request) -> RecordingSources:
    sources: RecordingSources = request.app.state.recordings
    return sources
