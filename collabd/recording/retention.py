"""Retention: trim the oldest history of a recording without breaking playback of what is kept.

A trim at log seq `cut` writes a snapshot of the document as of `cut` (timestamped with the last
entry it replaces) and drops everything up to it in the same transaction, so the kept recording
starts at that moment and a seek anywhere after it gives exactly what it gave before. The same
maintenance pass adds missing snapshots (`reader.backfill_snapshots`) so seeks stay bounded.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from collabd.extension import Extension, RoomLoad
from collabd.recording import reader
from collabd.store import Snapshot, Store
from collabd.store.base import EntryInfo

if TYPE_CHECKING:
    from collabd.hub import Hub

log = logging.getLogger("collabd.recording.retention")
MAINTENANCE_EVERY_S = 600.0
DAY = 86400.0


@dataclass(frozen=True, slots=True)
class Policy:
    max_age_s: float = 0.0  # 0: no limit
    max_bytes: int = 0  # 0: no limit

    @property
    def active(self) -> bool:
        return self.max_age_s > 0 or self.max_bytes > 0


def cut_point(
    index: list[EntryInfo],
    policy: Policy,
    now: float,
    snapshot_bytes: int,
    snapshots: list[int],
    max_seq: int,
) -> int | None:
    """The seq up to which history goes (None: keep all). Age: everything older than the limit.
    Size: the oldest entries until what is left (log, later snapshots, the new start snapshot)
    fits. The newest entry, and everything after `max_seq`, is always kept."""
    limit = len(index) - 2  # the last position that may be cut
    while limit >= 0 and index[limit].seq > max_seq:
        limit -= 1
    cut = -1
    if policy.max_age_s > 0:
        oldest = now - policy.max_age_s
        while cut < limit and index[cut + 1].ts < oldest:
            cut += 1
    if policy.max_bytes > 0:
        snaps = sorted(snapshots)
        left = sum(e.size for e in index)
        after = [left := left - e.size for e in index]  # log bytes kept when cut at i

        now_bytes = sum(e.size for e in index) + len(snaps) * snapshot_bytes

        def kept(i: int) -> int:
            if i < 0:
                return now_bytes
            later = len(snaps) - bisect.bisect_right(snaps, index[i].seq)
            return after[i] + (later + 1) * snapshot_bytes

        while cut < limit and kept(cut) > policy.max_bytes:
            cut += 1
    return index[cut].seq if cut >= 0 else None


def trim(store: Store, room: str, policy: Policy, now: float | None = None) -> dict[str, Any]:
    """Apply `policy` to one room's recording (blocking).

    The cut never passes the newest snapshot: a room loading at the same moment reads that
    snapshot and the log after it, and both stay as they were."""
    newest = store.latest_snapshot(room)
    if newest is None:
        return {"room": room, "dropped": 0}
    index = store.entry_index(room, kinds=reader.ALL_KINDS)
    snaps = [seq for seq, _ in store.snapshot_index(room)]
    now = time.time() if now is None else now
    stored = newest.size or len(newest.state)  # what a snapshot takes in the store
    cut = cut_point(index, policy, now, stored, snaps, newest.seq)
    if cut is None:
        return {"room": room, "dropped": 0}
    state = reader.doc_at_seq(store, room, cut)
    ts = next(e.ts for e in index if e.seq == cut)
    dropped = store.trim(room, Snapshot(cut, max(ts, state.ts), state.state()))
    log.info("room %s: retention dropped %d entries up to seq %d", room, dropped, cut)
    return {"room": room, "dropped": dropped, "start_seq": cut, "start": ts}


def maintain(store: Store, room: str, policy: Policy, snapshot_every: int) -> dict[str, Any]:
    added = reader.backfill_snapshots(store, room, snapshot_every)
    result = trim(store, room, policy) if policy.active else {"room": room, "dropped": 0}
    result["snapshots_added"] = added
    return result


def policy_of(days: float, max_bytes: int) -> Policy:
    return Policy(max_age_s=max(0.0, days) * DAY, max_bytes=max(0, max_bytes))


class Retention(Extension):
    """Runs the maintenance pass over every session now and then (and on demand)."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self._task: asyncio.Task[None] | None = None
        self._done_at: dict[str, int] = {}  # room -> entry count at its last pass

    async def on_load(self, load: RoomLoad) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._forever(), name="retention")

    async def on_stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def run(
        self, policy: Policy | None = None, rooms: list[str] | None = None
    ) -> list[dict[str, Any]]:
        settings = self.hub.settings
        policy = policy or policy_of(settings.retention_days, settings.retention_bytes)
        if rooms is None:
            rooms = [s.id for s in await self.hub.sessions()]
        results = []
        for room in rooms:
            live = self.hub.loaded(room)
            if live is not None:
                await live.flush()
            # Off the I/O thread: history below the live end is never rewritten, and the store
            # locks each query, so live writes go on between the steps. In the recording's
            # worker process where there is one: a snapshot added or a trim rebuilds the
            # document, which on a thread would hold every room up (`collabd.recording.offload`).
            results.append(
                await self.hub.rebuilds.run(
                    maintain, self.hub.store, room, policy, settings.snapshot_every
                )
            )
        return results

    async def _forever(self) -> None:
        while True:
            await asyncio.sleep(MAINTENANCE_EVERY_S)
            try:
                await self.run(rooms=await self._changed_rooms())
            except Exception:
                log.exception("retention: the maintenance pass failed; trying again later")

    async def _changed_rooms(self) -> list[str]:
        changed = []
        for record in await self.hub.sessions():
            count = await self.hub.run_io(self.hub.store.count, record.id, kinds=reader.ALL_KINDS)
            if self._done_at.get(record.id) != count:
                self._done_at[record.id] = count
                changed.append(record.id)
        return changed
