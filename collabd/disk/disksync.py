"""Keeps each session's .ipynb on disk in step with its room, both ways.

Out: the notebook is written atomically (temporary file, fsync, rename) `save_delay_s` after
edits pause, and at least every `save_max_delay_s` under constant editing.
In: a change made to the file by someone else is merged into the room as an ordinary edit
(cells by id, text by diff). The check for an outside change always runs just before a save,
so a save never overwrites an outside change it has not merged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pycrdt import Doc

from collabd import notebook
from collabd.disk import ipynb, merge
from collabd.extension import Extension, RoomLoad
from collabd.store import SessionRecord
from collabd.sync.liveroom import LiveRoom
from collabd.sync.room import Publish

log = logging.getLogger("collabd.disk")

Stat = tuple[int, int]  # (mtime_ns, size)


@dataclass
class _State:
    path: Path
    stat: Stat | None = None
    written: str | None = None
    # what `written` holds, with the session's cell ids (the base of the next merge)
    written_nb: notebook.NotebookJSON | None = None
    # ... or, until it is needed, the room's state when it held exactly the file: a base
    # costs ~60 ms per 1,000 cells to make, and most rooms never merge an outside change
    written_state: bytes | None = None
    saved: str | None = None  # what the hub itself last wrote (or imported): never outside text
    first_dirty: float | None = None
    last_dirty: float = 0.0
    task: asyncio.Task[None] | None = None
    # the check of a reloaded room against its file, while it runs (after the room opened)
    reconciling: asyncio.Task[None] | None = None
    wake: asyncio.Event | None = None
    stopping: bool = False


class DiskSync(Extension):
    def __init__(self, notebook_path: Callable[[SessionRecord], Path]) -> None:
        self._path_of = notebook_path
        self._states: dict[str, _State] = {}  # room id -> its file's state

    async def on_load(self, load: RoomLoad) -> None:
        live = load.live
        state = _State(self._path_of(load.record), wake=asyncio.Event())
        check = self._reconcile_on_load(load, state, live.doc.get_update())
        if load.imported_from_disk:  # the room was made from the file just now: one read
            await check
        else:
            # A reloaded room is compared with its file once it is open (~90 ms per 1,000
            # cells, on a thread), against the room as loaded: what people type meanwhile is
            # neither the file's nor part of the comparison. An outside edit found then is
            # merged as any later one is.
            state.reconciling = asyncio.create_task(check, name=f"disk-check:{live.id}")
        self._states[live.id] = state
        state.task = asyncio.create_task(self._run(live, state), name=f"disk:{live.id}")

    def on_change(self, live: LiveRoom, publishes: list[Publish]) -> None:
        state = self._states.get(live.id)
        if state is not None:
            self._dirty(state)

    async def on_unload(self, live: LiveRoom) -> None:
        state = self._states.pop(live.id, None)
        if state is None:
            return
        if state.task:
            # Asked to end, not cancelled: a cancel does not stop a write already in its thread,
            # which could then land after (and over) the last save below.
            state.stopping = True
            assert state.wake is not None
            state.wake.set()
            await asyncio.gather(state.task, return_exceptions=True)
        await live.flush()
        if not live.fenced_out:
            await self._merge_outside(live, state)
            await self._save(live, state)

    async def save_now(self, live: LiveRoom) -> None:
        """Write the notebook now (Ctrl-S), after merging any outside change to the file."""
        state = self._states.get(live.id)
        if state is not None:
            await self._reconciled(live, state)
            await live.flush()
            await self._merge_outside(live, state)
            await self._save(live, state)

    # the loop

    def _dirty(self, state: _State) -> None:
        now = time.monotonic()
        state.last_dirty = now
        if state.first_dirty is None:
            state.first_dirty = now
            # the loop sleeps until the next look at the file: wake it to time the save. Later
            # edits only move the save later, which the loop sees when it wakes for the first
            # deadline: no wake-up (a task step) for every edit
            assert state.wake is not None
            state.wake.set()

    async def _reconciled(self, live: LiveRoom, state: _State) -> None:
        """Once the reloaded room has been compared with its file (a failed check is logged:
        the file is then watched as usual, and an outside version merged as one)."""
        task = state.reconciling
        if task is None:
            return
        try:
            await asyncio.shield(task)
        except Exception:
            if state.reconciling is task:  # said once, by the first to see it
                log.exception("room %s: comparing it with %s failed", live.id, state.path)
        state.reconciling = None

    async def _run(self, live: LiveRoom, state: _State) -> None:
        await self._reconciled(live, state)
        settings = live.settings
        assert state.wake is not None
        next_watch = time.monotonic() + settings.watch_interval_s
        while not state.stopping:
            wake_at = next_watch
            if state.first_dirty is not None:
                wake_at = min(wake_at, self._due_at(live, state))
            # asyncio.timeout, not wait_for: Python 3.11's wait_for swallows a cancel that
            # comes as the event is set (an edit just before an unload), and this loop would
            # never end.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, wake_at - time.monotonic())):
                    await state.wake.wait()
            state.wake.clear()
            if state.stopping:
                return
            now = time.monotonic()
            save = state.first_dirty is not None and now >= self._due_at(live, state)
            if not save and now < next_watch:
                continue  # an edit only moved the save deadline: no file work on the hot path
            next_watch = now + settings.watch_interval_s
            try:
                await self._merge_outside(live, state)
                if save:
                    await self._save(live, state)
            except Exception:
                log.exception("room %s: keeping %s in step failed", live.id, state.path)
                next_watch = time.monotonic() + settings.watch_interval_s
                if save:  # try the save again after the usual pause (a full disk frees up)
                    state.first_dirty = state.last_dirty = time.monotonic()

    def _due_at(self, live: LiveRoom, state: _State) -> float:
        assert state.first_dirty is not None
        return min(
            state.last_dirty + live.settings.save_delay_s,
            state.first_dirty + live.settings.save_max_delay_s,
        )

    # both directions

    async def _reconcile_on_load(self, load: RoomLoad, state: _State, loaded: bytes) -> None:
        """After a restart the file may be stale (hub killed before a save) or edited meanwhile.
        `loaded`: the room's state as loaded."""
        live = load.live
        found = await asyncio.to_thread(_read, state.path)
        if found is None:
            state.first_dirty = state.last_dirty = time.monotonic()
            return
        text, stat = found
        if load.imported_from_disk or await asyncio.to_thread(_same, text, loaded):
            state.stat, state.written = stat, text  # the room held exactly this file
            state.written_state, state.saved = loaded, text
            return
        # A file the hub wrote is dated when its text was taken (_write_atomically), so one
        # newer than every stored change was edited while we were away; else it is stale.
        if stat[0] / 1e9 > load.last_change_ts:
            # against the room as loaded (what a merge at load time had as its base): what
            # people typed since the room opened is kept, what changed on disk is applied
            base = await asyncio.to_thread(_json_of, loaded)
            await self._merge_text(live, state, text, stat, base)
        else:
            state.stat = stat
            state.first_dirty = state.last_dirty = time.monotonic()  # stale: write ours

    async def _merge_outside(self, live: LiveRoom, state: _State) -> None:
        stat = await asyncio.to_thread(_stat, state.path)
        if stat is None or stat == state.stat:
            return
        found = await asyncio.to_thread(_read, state.path)
        if found is None:
            return
        text, stat = found
        if text == state.written:
            state.stat = stat
            return
        await self._merge_text(live, state, text, stat)

    async def _merge_text(
        self,
        live: LiveRoom,
        state: _State,
        text: str,
        stat: Stat,
        base: notebook.NotebookJSON | None = None,
    ) -> None:
        state.stat = stat
        base = base if base is not None else _written_base(state)
        try:
            opened = ipynb.read(text, ids_from=(base or _base_form(live.doc))["cells"])
        except Exception as exc:  # half-written or broken: wait for the next version
            log.warning(
                "room %s: %s changed on disk but is not valid: %s", live.id, state.path, exc
            )
            return
        outside = opened.nb
        state.written = text  # the file now holds this: the base of the next merge
        state.written_nb, state.written_state = outside, None
        log.info("room %s: merging an outside change to %s", live.id, state.path)

        def merge_in(doc: Doc[Any]) -> None:
            merge.merge_outside(doc, outside, base)
            ipynb.set_format(doc, opened.format)  # the file's format follows the file

        live.change("disk", merge_in)
        live.record_event("disk_merge", {"path": state.path.name})
        await live.flush()

    async def _save(self, live: LiveRoom, state: _State) -> None:
        state.first_dirty = None
        if live.fenced_out:
            return  # another hub owns the room now, and the file with it
        taken_ns = time.time_ns()  # the file holds the room as of now, whenever it lands
        try:
            nb = notebook.to_json(live.doc)
            fmt = ipynb.format_of(live.doc)
            outputs = bool(ipynb.settings_of(live.doc)["save_outputs"])
            text = await asyncio.to_thread(ipynb.write, nb, fmt, save_outputs=outputs)
        except Exception as exc:
            log.error("room %s: not saving, the notebook is not valid: %s", live.id, exc)
            return
        state.written_nb, state.written_state = _base_form(live.doc, nb), None
        if text == state.written:
            state.saved = text
            return
        state.stat = await asyncio.to_thread(_write_atomically, state.path, text, taken_ns)
        state.written = state.saved = text

    def last_saved(self, live: LiveRoom) -> str | None:
        """The text the hub itself last wrote to the session's file (or imported from it);
        a change made to the file outside collabd is not, until the hub has saved it."""
        state = self._states.get(live.id)
        return state.saved if state is not None else None

    def path_of(self, live: LiveRoom) -> Path | None:
        state = self._states.get(live.id)
        return state.path if state is not None else None


def _same(text: str, state: bytes) -> bool:
    """Whether the file says what a room in `state` holds (compared as notebooks, not as text;
    on a thread, with a document of its own)."""
    try:
        doc = _doc_of(state)
        nb = notebook.to_json(doc)
        fmt = ipynb.format_of(doc)
        opened = ipynb.read(text, ids_from=nb["cells"])
        outputs = bool(ipynb.settings_of(doc)["save_outputs"])
        ours = ipynb.file_form(nb, fmt, save_outputs=outputs)
        return bool(ipynb.file_form(opened.nb, opened.format) == ours)
    except Exception:
        return False


def _doc_of(state: bytes) -> Doc[Any]:
    """A document of its own holding `state` (a room's, taken as bytes): usable on a thread."""
    doc: Doc[Any] = Doc()
    doc.apply_update(state)
    return doc


def _json_of(state: bytes) -> notebook.NotebookJSON:
    """The notebook a room in `state` holds (on a thread, with a document of its own)."""
    return notebook.to_json(_doc_of(state))


def _written_base(state: _State) -> notebook.NotebookJSON | None:
    """The base of the next merge: what the file held when the hub last wrote or read it."""
    if state.written_nb is None and state.written_state is not None:
        state.written_nb, state.written_state = _base_form(_doc_of(state.written_state)), None
    return state.written_nb


def _base_form(doc: Doc[Any], nb: notebook.NotebookJSON | None = None) -> notebook.NotebookJSON:
    """The document's notebook as its file holds it, but with the session's cell ids: the base
    an outside version is merged against."""
    try:
        nb = nb if nb is not None else notebook.to_json(doc)
    except Exception:
        return {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    fmt = ipynb.format_of(doc)
    outputs = bool(ipynb.settings_of(doc)["save_outputs"])
    form = ipynb.file_form(nb, fmt, save_outputs=outputs)
    for cell, source in zip(form.cells, nb["cells"], strict=True):
        cell["id"] = source["id"]
    return dict(form)


def _stat(path: Path) -> Stat | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_mtime_ns, st.st_size


def _read(path: Path) -> tuple[str, Stat] | None:
    try:
        stat = _stat(path)
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    return (text, stat) if stat else None


def _write_atomically(path: Path, text: str, taken_ns: int) -> Stat:
    """Write `text` (the room as of `taken_ns`) in place of the file, which is dated `taken_ns`.

    The date is what a hub loading the room next compares with its newest stored edit (see
    `_reconcile_on_load`): edits made while the text was being written are stored with later
    times, so the file is rightly taken as stale then, not as an outside edit that removes them.
    """
    tmp = path.with_name(f".{path.name}.collabd-{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.utime(tmp, ns=(taken_ns, taken_ns))
    os.replace(tmp, path)
    stat = _stat(path)
    assert stat is not None
    return stat
