"""Reading a session's recording: the notebook and the presence at any moment, and a summary.

Pure over a `Store` (blocking calls: the hub runs these on its I/O thread). The recording is the
room's log: "update" entries make up the document, "awareness" entries the presence and "event"
entries the rest (join, leave, run, kernel). Snapshots (the whole document as of a log seq) bound
the cost of a seek: the document at time t is the newest snapshot taken at or before t plus the
updates after it up to t, and `backfill_snapshots` makes sure no stretch of the log has more than
`every` updates without one.
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pycrdt import Decoder, Doc

from collabd import chat, notebook
from collabd.recording import seekindex
from collabd.recording.history import RunRecord, runs_from_events
from collabd.store import LogEntry, Snapshot, Store
from collabd.store.base import AWARENESS, EVENT, UPDATE, EntryInfo
from collabd.store.cadence import SnapshotCadence
from collabd.store.replay import apply_all, rebuild

ALL_KINDS = (UPDATE, AWARENESS, EVENT)
# Yjs clients renew their presence every 15 s and drop a state not renewed for 30 s: a state
# older than this window at time t is one nobody saw any more.
PRESENCE_WINDOW_S = 60.0
IDLE_GAP_S = 5.0  # no edit, run or join for this long: an idle stretch a player may skip
ACTIVITY_BUCKETS = 200
_PAGE = 2000


class BeforeStart(ValueError):
    """The moment asked for is before the kept history (never recorded, or trimmed away)."""


@dataclass(frozen=True, slots=True)
class DocState:
    """The document as of log entry `seq`: a snapshot and the updates after it. Building it is
    the cost of a seek (the snapshot's size plus `replayed` updates), so it is done only once,
    by whichever of `doc()` or `state()` is needed."""

    seq: int
    ts: float
    snapshot: Snapshot | None
    updates: list[LogEntry]

    @property
    def replayed(self) -> int:
        return len(self.updates)

    def doc(self) -> Doc[Any]:
        return rebuild(self.snapshot.state if self.snapshot else None, self._updates())

    def state(self) -> bytes:
        """The whole document as one update (the snapshot's bytes as they are when possible)."""
        if not self.updates:
            return self.base_state()
        if self.snapshot is None and len(self.updates) == 1:
            return self.updates[0].data
        return self.doc().get_update()

    def base_state(self) -> bytes:
        """What the updates apply to: the snapshot's bytes as stored (an empty document's
        without one)."""
        return self.snapshot.state if self.snapshot else Doc().get_update()

    def _updates(self) -> Iterator[bytes]:
        return (e.data for e in self.updates)


def start_of(store: Store, room: str) -> float | None:
    """When the kept recording starts: its first entry, or the snapshot a trim left there."""
    snaps = store.snapshot_index(room)
    first = store.entries(room, kinds=ALL_KINDS, limit=1)
    times = [t for t in (snaps[0][1] if snaps else None, first[0].ts if first else None) if t]
    return min(times) if times else None


def bounds(index: list[EntryInfo], start: float | None) -> tuple[float, float]:
    if start is None:
        return 0.0, 0.0
    return start, max(start, index[-1].ts if index else start)


def doc_at(store: Store, room: str, t: float) -> DocState:
    """The document as it was at time `t` (every update logged at or before t)."""
    start = start_of(store, room)
    if start is None or t < start:
        raise BeforeStart(f"t={t} is before the recording starts")
    snapshot = store.latest_snapshot(room, until_ts=t)
    updates = list(_updates_until(store, room, snapshot.seq if snapshot else 0, t))
    return _build(snapshot, updates)


def doc_at_seq(store: Store, room: str, seq: int) -> DocState:
    """The document as of log entry `seq`."""
    snapshot = store.snapshot_before(room, seq=seq)
    after = snapshot.seq if snapshot else 0
    updates = [e for e in _pages(store, room, after) if e.seq <= seq]
    return _build(snapshot, updates)


def _build(snapshot: Snapshot | None, updates: list[LogEntry]) -> DocState:
    last = updates[-1] if updates else None
    seq = last.seq if last else (snapshot.seq if snapshot else 0)
    ts = last.ts if last else (snapshot.ts if snapshot else 0.0)
    return DocState(seq, ts, snapshot, updates)


def _pages(
    store: Store, room: str, after: int, kinds: Iterable[str] = (UPDATE,)
) -> Iterator[LogEntry]:
    """Entries after `after`, read a page at a time (stop iterating to stop reading)."""
    kinds = tuple(kinds)
    while True:
        page = store.entries(room, after_seq=after, kinds=kinds, limit=_PAGE)
        yield from page
        if len(page) < _PAGE:
            return
        after = page[-1].seq


def _updates_until(store: Store, room: str, after: int, t: float) -> Iterator[LogEntry]:
    """Updates after seq `after` logged at or before t. Updates are logged in time order, so the
    first one after t ends the scan: the cost is bounded by the snapshot spacing."""
    for entry in _pages(store, room, after):
        if entry.ts > t:
            return
        yield entry


def notebook_of(doc: Doc[Any]) -> notebook.NotebookJSON:
    """nbformat JSON of a document; a state caught between two edits that does not validate is
    returned as the YNotebook schema reads it."""
    try:
        return notebook.to_json(doc)
    except Exception:
        from jupyter_ydoc import YNotebook

        return dict(YNotebook(doc).get())


def chat_at(store: Store, room: str, t: float) -> list[chat.Message]:
    """The chat as the recording has it at `t` (none before the recording starts)."""
    try:
        doc = doc_at(store, room, t).doc()
    except BeforeStart:
        return []
    return chat.messages(doc)


def indexed_notebook_at(store: Store, room: str, t: float) -> notebook.NotebookJSON | None:
    """The notebook at `t` from the seek index alone (None where it does not reach)."""
    start = start_of(store, room)
    if start is None or t < start:
        raise BeforeStart(f"t={t} is before the recording starts")
    return seekindex.notebook_at(store, room, t)


def indexed_state_at(store: Store, room: str, t: float) -> bytes | None:
    """`indexed_notebook_at` as one Yjs update of a new document holding that notebook and
    nothing of its history (~9 ms and ~150 KB for 200 cells where the recorded document is 3.7
    MB): what a player shows at once while the recorded document loads."""
    nb = indexed_notebook_at(store, room, t)
    if nb is None:
        return None
    doc: Doc[Any] = Doc()
    notebook.load_into(doc, nb)
    return doc.get_update()


def notebook_at(store: Store, room: str, t: float) -> notebook.NotebookJSON:
    """The notebook as it was at time `t`: from the seek index where it reaches, else rebuilt
    from a snapshot. A document rebuilt for a seek is kept (`SEEKS`), so a seek a little later
    than one before applies only the updates in between."""
    indexed = indexed_notebook_at(store, room, t)
    if indexed is not None:
        return indexed
    snaps = store.snapshot_index(room)
    # the snapshot a cold seek would start from: newest taken at or before t
    floor = max((seq for seq, ts in snaps if ts <= t), default=0)
    kept = SEEKS.take(store, room, floor, t)
    if kept is None:
        base = doc_at(store, room, t)
        kept = _Kept(base.seq, base.ts, base.doc())
    else:
        later = list(_updates_until(store, room, kept.seq, t))
        apply_all(kept.doc, (e.data for e in later))
        if later:
            kept = _Kept(later[-1].seq, later[-1].ts, kept.doc)
    try:
        return notebook_of(kept.doc)
    finally:
        SEEKS.put(store, room, kept)


@dataclass(slots=True)
class _Kept:
    seq: int  # the last update applied
    ts: float  # its time
    doc: Doc[Any]


class SeekCache:
    """The last few documents rebuilt for seeks (LRU, across rooms and stores).

    A kept document holds every update up to `seq`; it serves a seek to t when that update was
    logged at or before t and it is no older than the snapshot a cold seek would use (so it never
    costs more than one). A seek takes it out while it applies updates to it, so two threads
    never share a document, and puts it back after."""

    def __init__(self, size: int = 6) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._kept: OrderedDict[tuple[int, str], tuple[weakref.ref[Store], _Kept]] = OrderedDict()
        self._ids = itertools.count()

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()

    def take(self, store: Store, room: str, floor: int, t: float) -> _Kept | None:
        with self._lock:
            best: tuple[int, str] | None = None
            for key, (ref, kept) in self._kept.items():
                usable = ref() is store and key[1] == room and kept.seq >= floor and kept.ts <= t
                if usable and (best is None or kept.seq > self._kept[best][1].seq):
                    best = key
            if best is None:
                return None
            return self._kept.pop(best)[1]

    def put(self, store: Store, room: str, kept: _Kept) -> None:
        with self._lock:
            self._kept[(next(self._ids), room)] = (weakref.ref(store), kept)
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)
            for key in [k for k, (ref, _) in self._kept.items() if ref() is None]:
                del self._kept[key]


SEEKS = SeekCache()


# presence


def decode_awareness(update: bytes) -> list[tuple[int, dict[str, Any] | None]]:
    """(client id, state or None when the client left) for each client an update speaks of."""
    decoder = Decoder(update)
    result: list[tuple[int, dict[str, Any] | None]] = []
    for _ in range(decoder.read_var_uint()):
        client_id = decoder.read_var_uint()
        decoder.read_var_uint()  # clock
        raw = decoder.read_var_string()
        state = json.loads(raw) if raw else None
        result.append((client_id, state if isinstance(state, dict) else None))
    return result


def presence_at(store: Store, room: str, t: float) -> dict[int, dict[str, Any]]:
    """Client id -> awareness state of everyone present at `t`."""
    entries = store.entries(
        room, kinds=(AWARENESS, EVENT), from_ts=t - PRESENCE_WINDOW_S, until_ts=t
    )
    states: dict[int, dict[str, Any]] = {}
    owner: dict[int, str] = {}
    for entry in sorted(entries, key=lambda e: (e.ts, e.seq)):
        if entry.kind == AWARENESS:
            for client_id, state in decode_awareness(entry.data):
                if state is None:
                    states.pop(client_id, None)
                else:
                    states[client_id], owner[client_id] = state, entry.origin
        elif entry.origin == "leave":
            peer = f"peer:{_event(entry).get('peer')}"
            for client_id in [c for c, o in owner.items() if o == peer]:
                states.pop(client_id, None)
    return states


# events for a player


def _event(entry: LogEntry) -> dict[str, Any]:
    try:
        data = json.loads(entry.data)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def entry_json(entry: LogEntry, *, with_data: bool) -> dict[str, Any]:
    """One log entry as a player reads it."""
    item: dict[str, Any] = {"seq": entry.seq, "ts": entry.ts, "kind": entry.kind}
    item["origin"] = entry.origin
    if entry.kind == EVENT:
        data = _event(entry)
        item["kind"] = str(data.pop("type", entry.origin))
        item["data"] = data
    elif entry.kind == AWARENESS:
        item["states"] = [{"client_id": c, "state": s} for c, s in decode_awareness(entry.data)]
    else:
        item["size"] = len(entry.data)
    if with_data and entry.kind != EVENT:
        item["update"] = base64.b64encode(entry.data).decode()
    return item


def events_between(
    store: Store, room: str, start: float, end: float, *, limit: int = 20000
) -> list[dict[str, Any]]:
    """Every entry logged between two moments (updates without their bytes), oldest first."""
    found = store.entries(room, kinds=ALL_KINDS, from_ts=start, until_ts=end, limit=limit)
    return [entry_json(e, with_data=False) for e in found]


def playback_window(
    store: Store,
    room: str,
    start: float,
    end: float,
    *,
    after_seq: int | None = None,
    limit: int = 20000,
    base_parts: bool = False,
) -> dict[str, Any]:
    """What a player needs to show [start, end]: the document and presence at `start` and every
    entry after that state up to `end`, updates with their bytes (base64). With `after_seq`
    (a player going on from where it is) there is no base, only the entries after that seq.

    With `base_parts` the document at `start` comes as the snapshot it is built from (`state`)
    and the updates after it (`updates`), for the player to apply in one transaction, instead of
    rebuilt here: rebuilding holds the GIL (pycrdt does not release it) for as long as applying
    the snapshot takes, ~200 ms for a 3.7 MB document, and every room of the hub waits."""
    base = None if after_seq is not None else doc_at(store, room, start)
    entries: list[dict[str, Any]] = []
    truncated = False
    for entry in _pages(store, room, base.seq if base else after_seq or 0, ALL_KINDS):
        if entry.ts > end:
            break
        if len(entries) >= limit:
            truncated = True
            break
        entries.append(entry_json(entry, with_data=True))
    result: dict[str, Any] = {
        "from": start,
        "to": entries[-1]["ts"] if truncated else end,
        "truncated": truncated,
        "base": None,
        "entries": entries,
    }
    if base is not None:
        presence = presence_at(store, room, start)
        result["base"] = {"seq": base.seq, **_base_document(base, base_parts)}
        result["base"]["presence"] = [{"client_id": c, "state": s} for c, s in presence.items()]
    return result


def _base_document(base: DocState, parts: bool) -> dict[str, Any]:
    if not parts:
        return {"state": base64.b64encode(base.state()).decode()}
    return {
        "state": base64.b64encode(base.base_state()).decode(),
        "updates": [base64.b64encode(e.data).decode() for e in base.updates],
    }


# summary


def runs(store: Store, room: str) -> list[RunRecord]:
    return runs_from_events(store.entries(room, kinds=(EVENT,)))


def summary(store: Store, room: str) -> dict[str, Any]:
    index = store.entry_index(room, kinds=ALL_KINDS)
    start, end = bounds(index, start_of(store, room))
    events = store.entries(room, kinds=(EVENT,))
    run_list = runs_from_events(events)
    people = _participants(store, room, index, events, run_list)
    width = max(end - start, 1e-9) / ACTIVITY_BUCKETS
    for person in people:
        origins = set(person.pop("origins"))
        person["activity"] = _activity(
            (e for e in index if e.kind == UPDATE and e.origin in origins), start, width
        )
    kernel = _activity((e for e in index if e.origin == "kernel"), start, width)
    return {
        "start": start,
        "end": end,
        "duration": end - start,
        "participants": people,
        "runs": [r.to_json() for r in run_list],
        "counts": _counts(store, room, index, run_list),
        "activity": {"buckets": ACTIVITY_BUCKETS, "bucket_s": width, "kernel": kernel},
        "idle": _idle(index, start, end),
        "seek_index": _seek_index(store, room),
    }


def _seek_index(store: Store, room: str) -> dict[str, Any]:
    """How far the seek index (`seekindex`) reaches: derived data, not in the counts."""
    end = store.seek_index_end(room)
    behind = store.count(room, after_seq=end[0] if end else 0)  # updates not indexed yet
    return {
        "until": end[1] if end else None,
        "behind": behind,
        "bytes": store.seek_index_bytes(room),
    }


def _counts(
    store: Store, room: str, index: list[EntryInfo], runs: list[RunRecord]
) -> dict[str, Any]:
    by_kind: dict[str, int] = {}
    by_origin: dict[str, int] = {}
    for e in index:
        by_kind[e.kind] = by_kind.get(e.kind, 0) + 1
        if e.kind == UPDATE:
            by_origin[e.origin] = by_origin.get(e.origin, 0) + 1
    return {
        "updates": by_kind.get(UPDATE, 0),
        "presence": by_kind.get(AWARENESS, 0),
        "events": by_kind.get(EVENT, 0),
        "runs": len(runs),
        "snapshots": len(store.snapshot_index(room)),
        "bytes": store.storage_bytes(room),
        "updates_by_origin": by_origin,
    }


def _activity(entries: Iterable[EntryInfo], start: float, width: float) -> list[list[int]]:
    """[bucket, count] pairs of the non-empty buckets."""
    counts: dict[int, int] = {}
    for e in entries:
        bucket = min(int((e.ts - start) / width), ACTIVITY_BUCKETS - 1)
        counts[bucket] = counts.get(bucket, 0) + 1
    return [[b, n] for b, n in sorted(counts.items())]


def _idle(index: list[EntryInfo], start: float, end: float) -> list[list[float]]:
    """Stretches longer than IDLE_GAP_S with no edit and no event (presence renewals ignored)."""
    times = [start, *(e.ts for e in index if e.kind != AWARENESS), end]
    return [[a, b] for a, b in itertools.pairwise(times) if b - a > IDLE_GAP_S]


def _participants(
    store: Store,
    room: str,
    index: list[EntryInfo],
    events: list[LogEntry],
    run_list: list[RunRecord],
) -> list[dict[str, Any]]:
    """Everyone who joined, by name (a reconnect under the same name is the same person)."""
    peers: dict[str, dict[str, Any]] = {}

    def peer(origin: str) -> dict[str, Any]:
        return peers.setdefault(origin, {"origin": origin, "client_ids": set(), "roles": set()})

    for entry in events:
        data = _event(entry)
        if entry.origin in ("join", "leave") and "peer" in data:
            info = peer(f"peer:{data['peer']}")
            info.setdefault("joined" if entry.origin == "join" else "left", entry.ts)
            if entry.origin == "leave":
                info["left"] = entry.ts
            if data.get("role"):
                info["roles"].add(str(data["role"]))
            if isinstance(data.get("name"), str):
                info["name"] = data["name"]
    for entry in store.first_by_origin(room, kind=AWARENESS):
        info = peer(entry.origin)
        for client_id, state in decode_awareness(entry.data):
            info["client_ids"].add(client_id)
            user = (state or {}).get("user")
            if isinstance(user, dict) and isinstance(user.get("name"), str):
                info.setdefault("name", user["name"])
                info.setdefault("color", user.get("color"))
    updates: dict[str, int] = {}
    for e in index:
        if e.kind == UPDATE and e.origin.startswith("peer:"):
            updates[e.origin] = updates.get(e.origin, 0) + 1
            peer(e.origin)
    return _by_name(peers, updates, run_list)


def _by_name(
    peers: dict[str, dict[str, Any]], updates: dict[str, int], run_list: list[RunRecord]
) -> list[dict[str, Any]]:
    people: dict[str, dict[str, Any]] = {}
    for origin, info in peers.items():
        name = info.get("name") or f"anonymous {origin.split(':', 1)[-1]}"
        person = people.setdefault(
            name,
            {"name": name, "color": None, "peers": [], "client_ids": set(), "roles": set()},
        )
        person["color"] = person["color"] or info.get("color")
        person["peers"].append(origin)
        person["client_ids"] |= info["client_ids"]
        person["roles"] |= info["roles"]
        for key, pick in (("joined", min), ("left", max)):
            if key in info:
                person[key] = pick(person.get(key, info[key]), info[key])
        person["updates"] = person.get("updates", 0) + updates.get(origin, 0)
    for person in people.values():
        ids = person["client_ids"]
        person["runs"] = sum(
            1 for r in run_list if r.by_name == person["name"] or r.by_client in ids
        )
        person["origins"] = person["peers"]
        person["client_ids"] = sorted(ids)
        person["roles"] = sorted(person["roles"])
    return sorted(people.values(), key=lambda p: (p.get("joined", float("inf")), p["name"]))


# snapshots along the way


def backfill_snapshots(store: Store, room: str, every: int) -> int:
    """Add snapshots wherever the log goes on without one for longer than the hub's cadence
    allows (`collabd.store.cadence`: `every` updates, or the newest snapshot's size in update
    bytes), so that a seek anywhere replays what a seek in a live room's recording would.
    Returns how many were added."""
    updates = store.entry_index(room)
    snapshots = store.snapshot_sizes(room)
    cadence = SnapshotCadence(every)
    doc: Doc[Any] | None = None
    entries: Iterator[LogEntry] = iter(())
    added, next_snap = 0, 0
    for i, update in enumerate(updates):
        while next_snap < len(snapshots) and snapshots[next_snap][0] < update.seq:
            cadence.taken(snapshots[next_snap][1])
            next_snap += 1
        following = updates[i + 1].seq if i + 1 < len(updates) else None
        covered = next_snap < len(snapshots) and (
            following is None or snapshots[next_snap][0] < following
        )
        due = cadence.due(1, update.size)
        cadence.logged(1, update.size)
        if not due or covered:
            continue
        if doc is None:  # built once, at the first gap, then carried forward
            base = store.snapshot_before(room, seq=update.seq)
            doc = Doc()
            if base is not None:
                doc.apply_update(base.state)
            entries = _pages(store, room, base.seq if base else 0)
        batch = []
        for entry in entries:
            batch.append(entry.data)
            if entry.seq >= update.seq:
                break
        apply_all(doc, batch)
        stored = store.add_snapshot(room, Snapshot(update.seq, update.ts, doc.get_update()))
        cadence.taken(stored)
        added += 1
    return added
