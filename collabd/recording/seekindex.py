"""The seek index: a notebook at any moment of its recording, at the cost of the change.

A seek by snapshot applies the snapshot, whose size is the whole history's: 0.2-0.6 s for a
3.7 MB document on the machines we measure on, however near the snapshot the moment is. The
index keeps, in blocks (`SeekBlock`), the notebook's content as JSON at a checkpoint and each
logged update's effect on it (`collabd.recording.mirror`); the notebook at t is the newest block
starting at or before t, its checkpoint and its operations up to t: work in proportion to the
notebook's content and to what changed, not to the history.

A block is cut when its operations reach the size of its checkpoint (at least `MIN_BLOCK_BYTES`)
or `MAX_BLOCK_UPDATES` updates, so the index holds about as much again as the content that
changed, and a seek reads at most about twice the notebook's content. The index is derived data:
`extend` builds it from the log in the hub's recording worker (`collabd.recording.indexing`
says when), in bounded steps, and a seek where it does not reach (not built yet, a block that
does not read) falls back to the snapshot.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import zstandard
from pycrdt import Doc

from collabd import notebook
from collabd.recording import mirror
from collabd.store import SeekBlock, Store
from collabd.store.base import UPDATE, LogEntry

log = logging.getLogger("collabd.recording")

FORMAT = 1
MIN_BLOCK_BYTES = 64 * 1024  # of operations, as JSON: below it a checkpoint is not worth its size
MAX_BLOCK_UPDATES = 20_000  # bounds the operations a seek applies (~2 µs each)
EXTEND_STEP = 5_000  # updates per `extend` call: ~0.1-0.3 s of the worker, between two seeks
_LEVEL = 3
_PAGE = 2000


class BadBlock(ValueError):
    """A stored block that this version cannot read."""


def encode(checkpoint: str, updates: list[list[Any]]) -> bytes:
    """A block's data: the checkpoint (roots as JSON text) and [seq, ts, ops] per update."""
    text = f'{{"v":{FORMAT},"roots":{checkpoint},"updates":{mirror.dumps(updates)}}}'
    return zstandard.ZstdCompressor(level=_LEVEL).compress(text.encode())


def decode(data: bytes) -> tuple[mirror.Roots, list[list[Any]]]:
    try:
        block = json.loads(zstandard.ZstdDecompressor().decompress(data))
    except (zstandard.ZstdError, ValueError) as exc:
        raise BadBlock(f"a seek block does not read: {exc}") from None
    version = block.get("v") if isinstance(block, dict) else None
    if version != FORMAT:
        raise BadBlock(f"a seek block of format {version!r}: written by a newer collabd?")
    return block["roots"], block["updates"]


# seeking


def notebook_at(store: Store, room: str, t: float) -> notebook.NotebookJSON | None:
    """The notebook at `t` from the index, or None where the index does not reach t."""
    block = store.seek_block(room, until_ts=t)
    if block is None:
        return None
    if t > block.end_ts and _next_update_by(store, room, block.end_seq, t):
        return None  # updates after the block, up to t, are not indexed yet
    try:
        roots, updates = decode(block.data)
        for _seq, ts, ops in updates:
            if ts > t:  # updates are logged in time order
                break
            mirror.apply(roots, ops)
    except (BadBlock, LookupError, TypeError, ValueError) as exc:
        log.warning("seek index of %s at seq %d not used: %s", room, block.seq, exc)
        return None
    return mirror.notebook_from(roots)


def _next_update_by(store: Store, room: str, after: int, t: float) -> bool:
    following = store.entries(room, after_seq=after, kinds=(UPDATE,), limit=1)
    return bool(following) and following[0].ts <= t


# building


@dataclass(slots=True)
class _Builder:
    """The index as far as it is built: the document at `seq` with its recorder, and the block
    under way (its checkpoint as JSON text and its updates' operations)."""

    seq: int
    ts: float
    doc: Doc[Any]
    recorder: mirror.Recorder
    block_seq: int
    block_ts: float
    checkpoint: str
    updates: list[list[Any]] = field(default_factory=list)
    ops_bytes: int = 0
    count: int = 0

    def add(self, entry: LogEntry) -> None:
        self.doc.apply_update(entry.data)
        ops = self.recorder.take()
        if ops:
            self.updates.append([entry.seq, entry.ts, ops])
            self.ops_bytes += len(mirror.dumps(ops))
        self.seq, self.ts = entry.seq, entry.ts
        self.count += 1

    @property
    def full(self) -> bool:
        big = self.ops_bytes >= max(len(self.checkpoint), MIN_BLOCK_BYTES)
        return big or self.count >= MAX_BLOCK_UPDATES

    def block(self) -> SeekBlock:
        data = encode(self.checkpoint, self.updates)
        return SeekBlock(self.block_seq, self.block_ts, self.seq, self.ts, data)

    def next_block(self) -> None:
        self.block_seq, self.block_ts = self.seq, self.ts
        self.checkpoint = mirror.dumps(mirror.roots_of(self.doc))
        self.updates, self.ops_bytes, self.count = [], 0, 0


def extend(store: Store, room: str, *, step: int = EXTEND_STEP) -> bool:
    """Index up to `step` more of the room's updates; True while more are left to index."""
    builder = _resume(store, room)
    if builder is None:
        return False
    done, more = 0, False
    after = builder.seq
    while not more:
        page = store.entries(room, after_seq=after, kinds=(UPDATE,), limit=_PAGE)
        for entry in page:
            if done >= step:
                more = True
                break
            done += 1
            try:
                builder.add(entry)
            except mirror.Unsupported as exc:
                # the document is right, its change has no operations: the block ends before
                # this update and a new one starts after it, from the document itself
                log.warning("room %s: update %d indexed by a checkpoint (%s)", room, entry.seq, exc)
                if builder.count:
                    store.add_seek_block(room, builder.block())
                builder.seq, builder.ts = entry.seq, entry.ts
                builder.next_block()
                continue
            if builder.full:
                store.add_seek_block(room, builder.block())
                builder.next_block()
        if len(page) < _PAGE:
            break
        after = page[-1].seq
    if done and builder.count:
        store.add_seek_block(room, builder.block())  # the block under way, as far as it goes
    _WARM.put(store, room, builder)
    return more


def _resume(store: Store, room: str) -> _Builder | None:
    """The builder where the room's index ends: kept from the last call, else rebuilt."""
    end = store.seek_index_end(room)
    warm = _WARM.take(store, room)
    if warm is not None and end is not None and warm.seq == end[0]:
        return warm
    last = store.seek_block(room, until_ts=math.inf)
    if last is None or end is None:
        return _first(store, room)
    from collabd.recording.reader import doc_at_seq  # the reader seeks by this module

    doc = doc_at_seq(store, room, end[0]).doc()
    recorder = mirror.Recorder(doc)
    if last.end_seq == end[0]:
        try:  # carry on with the last block if it has room
            roots, updates = decode(last.data)
        except BadBlock:
            pass
        else:
            ongoing = _Builder(
                end[0], end[1], doc, recorder, last.seq, last.ts, mirror.dumps(roots), updates
            )
            ongoing.ops_bytes = sum(len(mirror.dumps(u[2])) for u in updates)
            ongoing.count = len(updates)  # those without operations are not counted: no matter
            if not ongoing.full:
                return ongoing
    builder = _Builder(end[0], end[1], doc, recorder, end[0], end[1], "")
    builder.next_block()
    return builder


def _first(store: Store, room: str) -> _Builder | None:
    first = store.entries(room, kinds=(UPDATE,), limit=1)
    if not first:
        return None
    # a trimmed log starts with a snapshot (`Store.trim`): the index starts there
    base = store.snapshot_before(room, seq=first[0].seq - 1)
    doc: Doc[Any] = Doc()
    if base is not None:
        doc.apply_update(base.state)
    seq, ts = (base.seq, base.ts) if base is not None else (0, 0.0)
    builder = _Builder(seq, ts, doc, mirror.Recorder(doc), seq, ts, "")
    builder.next_block()
    return builder


class _WarmBuilders:
    """The builders of the last few rooms indexed (a worker indexes a room in steps)."""

    def __init__(self, size: int = 4) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._kept: OrderedDict[tuple[int, str], tuple[weakref.ref[Store], _Builder]] = (
            OrderedDict()
        )

    def take(self, store: Store, room: str) -> _Builder | None:
        with self._lock:
            kept = self._kept.pop((id(store), room), None)
        return kept[1] if kept is not None and kept[0]() is store else None

    def put(self, store: Store, room: str, builder: _Builder) -> None:
        with self._lock:
            self._kept[(id(store), room)] = (weakref.ref(store), builder)
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()


_WARM = _WarmBuilders()
