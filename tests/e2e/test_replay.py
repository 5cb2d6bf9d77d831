"""The playback page: a short scripted session (two people, a run, an idle stretch), then the page
shows the notebook, who was there and the outputs as they were at a few moments; plays at 16x
skipping the idle stretch; jumps to a run; downloads the .ipynb of the moment; forks."""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from collabd.client import NotebookClient
from tests.support.hubproc import REPLAY_TOKEN, TOKEN, start_replay

from .conftest import SCREENSHOTS, WAIT_MS, Participant, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.kernel]


async def _script(edit_url: str) -> dict[str, float]:
    """Plays the session; returns the moments (Unix s) the test looks at."""
    moments: dict[str, float] = {}
    async with (
        NotebookClient.from_link(edit_url, name="Ada") as ada,
        NotebookClient.from_link(edit_url, name="Bob") as bob,
    ):

        async def settle(name: str) -> None:
            await ada.wait_for(lambda: ada.cells() == bob.cells(), timeout=30)
            await asyncio.sleep(0.3)
            moments[name] = time.time()
            await asyncio.sleep(0.3)

        first = ada.cell_ids()[0]
        await ada.set_presence(cell=first)
        await settle("start")
        ada.set_source(first, "a = 1\nprint('hello', a)")
        await settle("typed")
        notes = bob.insert_cell(1, "# Notes from Bob", cell_type="markdown")
        await bob.set_presence(cell=notes)
        await settle("bob")
        await ada.run(first)
        await ada.wait_for(lambda: "hello 1" in ada.output_text(first), timeout=60)
        await bob.wait_for(lambda: "hello 1" in bob.output_text(first), timeout=30)
        await settle("ran")
        await asyncio.sleep(6.5)  # an idle stretch
        ada.insert_text(first, len(ada.source(first)), "\nb = 2")
        await settle("end")
    return moments


def _seek(page: Page, t: float) -> None:
    page.evaluate("(t) => window.collabd.replay.seek(t)", t)
    page.wait_for_function(
        "(t) => Math.abs(Number(document.body.dataset.replayShown) - t) < 1e-3", arg=t
    )


def _cells(page: Page) -> Any:
    return page.locator(".cells > .cell")


def test_replay_page_shows_the_session_as_it_was(
    notebook_session: Any, join: Any, hub: Any
) -> None:
    session = notebook_session(["a = 1"], name="replay.ipynb")
    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API holds this thread's event loop
        moments = pool.submit(asyncio.run, _script(session["edit_url"])).result()
    # a browser participant types: its cursor (y-codemirror's awareness field) is recorded too
    cleo: Participant = join(session["edit_url"], "Cleo")
    cleo.type_at_end(0, "  # Cleo was here")
    time.sleep(1.0)
    moments["cleo"] = time.time()
    time.sleep(0.5)
    cleo.context.close()
    replay_url = f"{hub.base}/s/{session['id']}/replay#token={session['view_token']}"
    viewer: Participant = join(replay_url, None)
    page = viewer.page
    expect(page.locator(".replay-badge")).to_have_text("Replay")
    expect(page.locator(".fork-button")).to_have_count(0)  # a view link cannot fork
    rows = page.locator(".replay-row[data-name]")
    expect(rows.filter(has_text="Ada")).to_have_count(1)
    expect(rows.filter(has_text="Bob")).to_have_count(1)
    expect(page.locator(".replay-run-marker")).to_have_count(1)

    _seek(page, moments["typed"])
    expect(_cells(page)).to_have_count(1)
    expect(_cells(page).nth(0)).to_contain_text("print('hello', a)")
    expect(_cells(page).nth(0).locator(".cell-outputs")).to_be_hidden()
    viewer.screenshot("replay-1-typed")

    _seek(page, moments["bob"])
    expect(_cells(page)).to_have_count(2)
    expect(_cells(page).nth(1)).to_contain_text("Notes from Bob")
    people = page.locator(".participants-list .participant-name")
    expect(people).to_have_text(["Ada", "Bob"])
    expect(_cells(page).nth(1).locator(".presence-chip")).to_have_count(1)
    viewer.screenshot("replay-2-bob-joined-in")

    _seek(page, moments["ran"])
    expect(_cells(page).nth(0).locator(".cell-outputs")).to_contain_text("hello 1")
    viewer.screenshot("replay-3-ran")

    _seek(page, moments["cleo"])
    expect(_cells(page).nth(0)).to_contain_text("Cleo was here")
    expect(_cells(page).nth(0).locator(".cm-ySelectionCaret")).to_have_count(1)
    expect(page.locator(".participants-list .participant-name")).to_contain_text(["Cleo"])
    viewer.screenshot("replay-3b-cleo-cursor")

    _seek(page, moments["start"])  # backwards
    expect(_cells(page)).to_have_count(1)
    expect(_cells(page).nth(0)).not_to_contain_text("print")
    expect(page.locator(".cell-outputs:visible")).to_have_count(0)

    # jump to the run: just after it ended, its output shown
    page.locator(".replay-run").first.click()
    page.wait_for_function(
        "(a) => a < Number(document.body.dataset.replayShown)", arg=moments["bob"]
    )
    expect(_cells(page).nth(0).locator(".cell-outputs")).to_contain_text("hello 1")

    # the run history: searchable, exportable
    runs = page.locator(".replay-run-list .replay-run")
    expect(runs).to_have_count(1)
    expect(page.locator(".replay-run-output")).to_contain_text("hello 1")
    page.locator(".runs-search").fill("no such text")
    expect(runs).to_have_count(0)
    # said beside the numbered list, not as its item "1."
    expect(page.locator(".runs-panel .runs-empty")).to_have_text("No run matches")
    expect(page.locator(".replay-run-list li")).to_have_count(0)
    page.locator(".runs-search").fill("HELLO")
    expect(runs).to_have_count(1)
    page.locator(".runs-status").select_option("error")
    expect(runs).to_have_count(0)
    page.locator(".runs-status").select_option("ok")
    page.locator(".runs-by").select_option("Ada")
    expect(runs).to_have_count(1)
    with page.expect_download() as info:
        page.locator(".runs-csv").click()
    csv_text = Path(info.value.path()).read_text(encoding="utf-8")
    assert csv_text.startswith("seq,request_id") and "print('hello', a)" in csv_text

    # download the notebook as of the moment shown
    _seek(page, moments["typed"])
    with page.expect_download() as info:
        page.locator(".download-button").click()
    download = info.value
    assert download.suggested_filename.startswith("replay-at-")
    nb = json.loads(Path(download.path()).read_text(encoding="utf-8"))
    assert ["".join(c["source"]) for c in nb["cells"]] == ["a = 1\nprint('hello', a)"]

    # play from the run at 16x, skipping the idle stretch, to the end
    _seek(page, moments["ran"])
    page.locator(".replay-speed").select_option("16")
    started = time.monotonic()
    page.locator(".replay-play").click()
    page.wait_for_function("() => document.body.dataset.replayPlaying === 'false'", timeout=WAIT_MS)
    summary_end = page.evaluate("() => window.collabd.replay.summary.end")
    assert float(page.evaluate("() => Number(document.body.dataset.replayShown)")) == summary_end
    expect(_cells(page).nth(0)).to_contain_text("b = 2")
    viewer.screenshot("replay-4-end")
    played = time.monotonic() - started
    print(f"played {moments['end'] - moments['ran']:.1f} s of recording in {played:.1f} s")
    viewer.assert_no_page_errors()

    # an edit link can start a new session from the moment shown
    editor: Participant = join(
        f"{hub.base}/s/{session['id']}/replay#token={session['edit_token']}", None
    )
    _seek(editor.page, moments["bob"])
    editor.page.locator(".fork-button").click()
    link = editor.page.locator(".fork-link")
    expect(link).to_be_visible()
    href = link.get_attribute("href") or ""
    assert f"{hub.base}/s/" in href and "#token=" in href
    sessions = wait_until(lambda: len(hub.api("GET", "/api/sessions")[1]) == 2, "the fork")
    assert sessions
    forked = next(s for s in hub.api("GET", "/api/sessions")[1] if s["id"] != session["id"])
    assert forked["path"].startswith("replay-at-")
    status, nb = hub.api("GET", f"/api/sessions/{forked['id']}/notebook")
    assert status == 200 and len(nb["cells"]) == 2
    editor.screenshot("replay-5-forked")
    editor.assert_no_page_errors()

    # the exported file, served on its own by `collabd replay`, plays the same
    status, data, _ = hub.get(f"/api/sessions/{session['id']}/recording/export", TOKEN)
    assert status == 200
    file = hub.root.parent / "replay.collabd"
    file.write_bytes(data)
    served = start_replay(file, hub.root.parent)
    try:
        offline: Participant = join(
            f"{served.base}/s/{session['id']}/replay#token={REPLAY_TOKEN}", None
        )
        expect(offline.page.locator(".replay-badge")).to_have_text("Recording file")
        expect(offline.page.locator(".fork-button")).to_have_count(0)
        _seek(offline.page, moments["ran"])
        expect(_cells(offline.page)).to_have_count(2)
        expect(_cells(offline.page).nth(0).locator(".cell-outputs")).to_contain_text("hello 1")
        offline.screenshot("replay-6-from-file")
        offline.assert_no_page_errors()
    finally:
        served.stop()
    assert (SCREENSHOTS / "replay-4-end.png").is_file()


# --- rebuilt views release what they held; an open page follows a live session ---


async def _edits(edit_url: str, name: str, texts: list[str], pause: float = 0.4) -> float:
    """`name` joins, appends each text to the first cell (one at a time), leaves; returns when the
    last edit was made (Unix s)."""
    async with NotebookClient.from_link(edit_url, name=name) as who:
        first = who.cell_ids()[0]
        await who.set_presence(cell=first)
        for text in texts:
            who.insert_text(first, len(who.source(first)), text)
            await asyncio.sleep(pause)
        made = time.time()
        await asyncio.sleep(0.5)
    return made


def _play(coro: Any) -> Any:
    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API holds this thread's event loop
        return pool.submit(asyncio.run, coro).result()


class _Heap:
    """Counts through the DevTools protocol: live CodeMirror editors in the page's heap (after a
    garbage collection) and the listeners on `document`. Every handle is released after each count:
    a handle held by the protocol would itself keep the objects alive."""

    GROUP = "leak-check"

    def __init__(self, page: Page) -> None:
        self.cdp = page.context.new_cdp_session(page)

    def _handle(self, expression: str) -> str:
        found = self.cdp.send(
            "Runtime.evaluate", {"expression": expression, "objectGroup": self.GROUP}
        )
        object_id = found["result"].get("objectId")
        assert object_id, found
        return str(object_id)

    def editors(self) -> int:
        # EditorView is bundled, not global: reach its prototype through a mounted editor.
        proto = self._handle(
            "Object.getPrototypeOf(document.querySelector('.cm-content').cmTile.root.view)"
        )
        self.cdp.send("HeapProfiler.collectGarbage")
        objects = self.cdp.send(
            "Runtime.queryObjects", {"prototypeObjectId": proto, "objectGroup": self.GROUP}
        )
        length = self.cdp.send(
            "Runtime.callFunctionOn",
            {
                "objectId": objects["objects"]["objectId"],
                "functionDeclaration": "function () { return this.length }",
                "returnByValue": True,
            },
        )
        self.cdp.send("Runtime.releaseObjectGroup", {"objectGroup": self.GROUP})
        return int(length["result"]["value"])

    def document_listeners(self, kind: str) -> int:
        found = self.cdp.send(
            "DOMDebugger.getEventListeners", {"objectId": self._handle("document")}
        )
        self.cdp.send("Runtime.releaseObjectGroup", {"objectGroup": self.GROUP})
        return sum(1 for listener in found["listeners"] if listener["type"] == kind)


def test_backward_seeks_release_the_old_views(notebook_session: Any, join: Any, hub: Any) -> None:
    session = notebook_session(["a = 1", "b = 2", "c = 3", "# notes"], name="seeks.ipynb")
    _play(_edits(session["edit_url"], "Ada", ["\nx = 1", "\ny = 2", "\nz = 3"]))
    viewer: Participant = join(
        f"{hub.base}/s/{session['id']}/replay#token={session['view_token']}", None
    )
    page = viewer.page
    start, end = page.evaluate(
        "() => [window.collabd.replay.summary.start, window.collabd.replay.summary.end]"
    )
    heap = _Heap(page)

    def back_and_forth() -> None:
        _seek(page, end)
        _seek(page, start)  # backwards: a new document, a new view
        expect(_cells(page)).to_have_count(4)
        expect(page.locator(".cells .cm-editor")).to_have_count(4)

    back_and_forth()
    after_one = (
        page.locator(".cm-editor").count(),
        heap.editors(),
        heap.document_listeners("keydown"),
    )
    for _ in range(8):
        back_and_forth()
    after_many = (
        page.locator(".cm-editor").count(),
        heap.editors(),
        heap.document_listeners("keydown"),
    )
    print(f"(DOM editors, live editors, document keydown listeners): {after_one} -> {after_many}")
    assert after_one[1] >= 4
    assert after_many == after_one
    _seek(page, end)
    expect(_cells(page).nth(0)).to_contain_text("z = 3")
    viewer.screenshot("replay-7-after-many-seeks")
    viewer.assert_no_page_errors()


def test_a_far_seek_shows_the_indexed_notebook_then_the_recording(
    notebook_session: Any, join: Any, hub: Any
) -> None:
    """Where the hub's seek index reaches, a seek back shows the notebook it gives at once (one
    small JSON read, not the recorded document's whole history), then the recorded document
    takes its place, and playing on from there works as ever."""
    session = notebook_session(["a = 1", "b = 2"], name="preview.ipynb")
    sid, view = session["id"], session["view_token"]
    _play(_edits(session["edit_url"], "Ada", ["\nx = 1", "\ny = 2", "\nz = 3"]))

    def indexed() -> dict[str, Any] | None:  # opening the recording has the hub index it
        status, summary = hub.api("GET", f"/api/sessions/{sid}/recording", token=view)
        done = status == 200 and summary["seek_index"]["behind"] == 0
        return summary if done else None

    summary = wait_until(indexed, "the seek index to reach the end")
    start, end = summary["start"], summary["end"]
    # opened at the end: the window it loads starts there, so going back is a far seek
    viewer: Participant = join(f"{hub.base}/s/{sid}/replay#token={view}&t={end!r}", None)
    page = viewer.page
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "indexed=1" in r.url else None)
    expect(_cells(page).nth(0)).to_contain_text("z = 3")
    _seek(page, start)  # backwards: a new document
    expect(_cells(page)).to_have_count(2)
    expect(_cells(page).nth(0)).not_to_contain_text("x = 1")
    assert any(f"t={start}" in url for url in asked), asked
    page.wait_for_function("() => !window.collabd.replay.previewing")
    expect(_cells(page).nth(0)).not_to_contain_text("x = 1")
    page.evaluate("(t) => window.collabd.replay.seek(t)", end)  # forwards from the recording
    expect(_cells(page).nth(0)).to_contain_text("z = 3")
    status, body = hub.api(
        "GET", f"/api/sessions/{sid}/recording/notebook?t={start - 3600}&indexed=1", token=view
    )
    assert status == 422 and body["error"] == "before_start"
    viewer.assert_no_page_errors()


def test_open_page_follows_the_live_session(notebook_session: Any, join: Any, hub: Any) -> None:
    session = notebook_session(["a = 1"], name="live.ipynb")
    _play(_edits(session["edit_url"], "Ada", ["\nb = 2"]))
    viewer: Participant = join(
        f"{hub.base}/s/{session['id']}/replay#token={session['view_token']}", None
    )
    page = viewer.page
    expect(page.locator(".replay-live")).to_be_visible()
    page.locator(".replay-live").click()  # to the end: from here on the page follows
    page.wait_for_function("() => document.body.dataset.replayLive === 'true'")
    expect(_cells(page).nth(0)).to_contain_text("b = 2")
    opened_end = float(page.evaluate("() => window.collabd.replay.summary.end"))
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))

    made = _play(_edits(session["edit_url"], "Dan", ["\ndan = 4"]))
    assert made > opened_end
    # on the timeline: Dan's row, an end past the edit; the playhead stayed at the (new) end
    expect(page.locator(".replay-row[data-name='Dan']")).to_have_count(1)
    page.wait_for_function("(t) => window.collabd.replay.summary.end >= t", arg=made)
    expect(_cells(page).nth(0)).to_contain_text("dan = 4")
    page.wait_for_function(
        "() => document.body.dataset.replayLive === 'true'"
        " && Number(document.body.dataset.replayShown) === window.collabd.replay.summary.end"
    )
    viewer.screenshot("replay-8-following-live")

    # cheap: no reload, and every poll asks only for what follows the last entry it has
    polls = [u for u in requests if "/recording/events" in u and "updates=1" in u]
    assert polls, requests
    assert all("after_seq=" in u for u in polls), polls
    assert not any(u.split("#")[0].endswith("/replay") for u in requests), requests
    viewer.assert_no_page_errors()
