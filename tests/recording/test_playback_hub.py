"""Recording and playback against real hub processes: participants edit at random while the test
notes what each of them held and when; playback must give exactly that, from the hub, from an
exported file served by `collabd replay`, and after retention has trimmed the start."""

from __future__ import annotations

import asyncio
import base64
import json
import random
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest
from pycrdt import Doc

from collabd import notebook
from collabd.api.web import FRAME_HEADERS
from collabd.client import NotebookClient
from tests.support.hubproc import REPLAY_TOKEN, TOKEN, HubFactory, HubProcess, start_replay
from tests.support.kernel import hub_has

Moment = tuple[float, dict[str, Any]]


def _nb(client: NotebookClient) -> dict[str, Any]:
    return notebook.to_json(client.doc)


async def _random_edit(client: NotebookClient, rng: random.Random) -> None:
    ids = client.cell_ids()
    roll = rng.random()
    if roll < 0.15 or not ids:
        client.insert_cell(rng.randint(0, len(ids)), rng.choice(["x = 1", "# note", ""]))
    elif roll < 0.22 and len(ids) > 2:
        client.delete_cell(rng.choice(ids))
    elif roll < 0.35:
        await client.set_presence(cell=rng.choice(ids), cursor=rng.randint(0, 9))
    else:
        cell = rng.choice(ids)
        text = client.text(cell)
        if len(text) and rng.random() < 0.3:
            start = rng.randrange(len(text))
            del text[start : start + min(2, len(text) - start)]
        else:
            client.insert_text(cell, rng.randint(0, len(text)), rng.choice("abc(1)+\n "))


async def _converged(clients: list[NotebookClient]) -> dict[str, Any]:
    """Wait until every participant holds the same notebook (then the hub has logged it all)."""

    def same() -> bool:
        first = _nb(clients[0])
        return all(_nb(c) == first for c in clients[1:])

    await clients[0].wait_for(same, timeout=30)
    return _nb(clients[0])


async def _session_with_history(
    hub: HubProcess, rounds: int, seed: int
) -> tuple[dict[str, Any], list[Moment]]:
    """Three participants and a watcher edit at random; returns what they held, with times."""
    s = hub.create_session("nb.ipynb")
    rng = random.Random(seed)
    names = ["ada", "bob", "cy"]
    clients = [NotebookClient.from_link(s["edit_url"], name=n) for n in names]
    watcher = NotebookClient.from_link(s["view_url"], name="watcher")
    for c in [*clients, watcher]:
        await c.connect()
    moments: list[Moment] = [(time.time(), await _converged([*clients, watcher]))]
    try:
        for _ in range(rounds):
            for c in rng.sample(clients, rng.randint(1, 3)):  # concurrent edits
                for _ in range(rng.randint(1, 3)):
                    await _random_edit(c, rng)
            held = await _converged([*clients, watcher])
            moments.append((time.time(), held))
            await asyncio.sleep(rng.choice([0.0, 0.05, 0.3]))
    finally:
        for c in [*clients, watcher]:
            await c.close()
    return s, moments


def _same(served: dict[str, Any], held: dict[str, Any]) -> bool:
    """Equal as notebooks (on the wire, nbformat splits text into lines)."""
    return bool(nbformat.reads(json.dumps(served), 4) == nbformat.reads(json.dumps(held), 4))


async def _indexed(hub: HubProcess, sid: str, token: str) -> dict[str, Any]:
    """The summary's `seek_index` once it reaches the recording's last update."""
    for _ in range(300):
        status, summary = hub.api("GET", f"/api/sessions/{sid}/recording", token=token)
        assert status == 200
        if summary["seek_index"]["behind"] == 0:
            index: dict[str, Any] = summary["seek_index"]
            return index
        await asyncio.sleep(0.1)
    raise AssertionError(f"the seek index stays behind: {summary['seek_index']}")


def _check_playback(api: Any, sid: str, token: str, moments: list[Moment]) -> None:
    for t, held in moments:
        status, nb = api("GET", f"/api/sessions/{sid}/recording/notebook?t={t!r}", token=token)
        assert status == 200, nb
        assert _same(nb, held), (t, nb["cells"], held["cells"])


@pytest.mark.slow
async def test_playback_gives_what_participants_held(
    hub_factory: HubFactory, tmp_path: Path
) -> None:
    hub = hub_factory(env={"COLLABD_SNAPSHOT_EVERY": "15"})
    s, moments = await _session_with_history(hub, rounds=30, seed=7)
    sid, view = s["id"], s["view_token"]
    _check_playback(hub.api, sid, view, moments)
    # opening the recording (and each snapshot) has the hub's worker index it: then every
    # moment comes from the seek index, and is the same
    index = await _indexed(hub, sid, view)
    assert index["bytes"] > 0 and index["until"] >= moments[-2][0]
    _check_playback(hub.api, sid, view, moments)
    for t, held in moments[::4]:  # what a player shows first after a far seek
        status, nb = hub.api(
            "GET", f"/api/sessions/{sid}/recording/notebook?t={t!r}&indexed=1", token=view
        )
        assert status == 200 and _same(nb, held), (t, nb)
        status, update, _ = hub.get(
            f"/api/sessions/{sid}/recording/notebook?t={t!r}&indexed=1&format=yjs", view
        )
        doc: Doc[Any] = Doc()
        doc.apply_update(update)
        assert status == 200 and _same(notebook.to_json(doc), held)

    status, summary = hub.api("GET", f"/api/sessions/{sid}/recording", token=view)
    assert status == 200
    assert summary["start"] <= moments[0][0] and summary["end"] <= time.time()
    names = {p["name"] for p in summary["participants"]}
    assert {"ada", "bob", "cy", "watcher"} <= names
    assert summary["counts"]["updates"] > 30 and summary["counts"]["snapshots"] >= 2
    assert sum(n for p in summary["participants"] for _, n in p["activity"]) > 0

    # a player's window rebuilds the same states from raw updates
    t0, t1 = moments[5][0], moments[20][0]
    status, window = hub.api(
        "GET", f"/api/sessions/{sid}/recording/events?from={t0!r}&to={t1!r}&updates=1", token=view
    )
    assert status == 200 and not window["truncated"]
    doc: Doc[Any] = Doc()
    doc.apply_update(base64.b64decode(window["base"]["state"]))
    assert notebook.to_json(doc) == moments[5][1]
    for entry in window["entries"]:
        if entry["kind"] == "update":
            doc.apply_update(base64.b64decode(entry["update"]))
    assert notebook.to_json(doc) == moments[20][1]
    # a window of at most 3 entries ends where the third one was logged, and says it was cut
    status, cut = hub.api(
        "GET",
        f"/api/sessions/{sid}/recording/events?from={t0!r}&to={t1!r}&updates=1&limit=3",
        token=view,
    )
    assert status == 200 and cut["truncated"] and cut["entries"] == window["entries"][:3]
    assert cut["to"] == window["entries"][2]["ts"] < t1
    status, plain = hub.api(
        "GET", f"/api/sessions/{sid}/recording/events?from={t0!r}&to={t1!r}", token=view
    )
    assert any(e["kind"] == "awareness" for e in plain["events"])

    # view tokens read but cannot fork; an edit token forks into a new session
    t_fork, held = moments[12]
    status, body = hub.api("POST", f"/api/sessions/{sid}/fork", {"t": t_fork}, token=view)
    assert status == 403 and body["error"] == "forbidden"
    status, body = hub.api("POST", f"/api/sessions/{sid}/fork", {"t": "x"}, token=s["edit_token"])
    assert status == 400
    status, forked = hub.api("POST", f"/api/sessions/{sid}/fork", {"t": t_fork}, s["edit_token"])
    assert status == 201, forked
    assert forked["path"].startswith("nb-at-") and (hub.root / forked["path"]).is_file()
    status, nb = hub.api(
        "GET", f"/api/sessions/{forked['id']}/notebook", token=forked["view_token"]
    )
    forked_cells = nbformat.reads(json.dumps(nb), 4).cells
    assert [c.source for c in forked_cells] == [c["source"] for c in held["cells"]]
    status, body = hub.api("GET", f"/api/sessions/{sid}/recording", token="nope")
    assert status == 401
    status, body = hub.api(
        "GET", f"/api/sessions/{sid}/recording/notebook?t={moments[0][0] - 3600}", token=view
    )
    assert status == 422 and body["error"] == "before_start"

    # export, then serve the file on its own
    status, data, headers = hub.get(f"/api/sessions/{sid}/recording/export", view)
    assert status == 200 and "attachment" in headers.get("content-disposition", "")
    file = tmp_path / "session.collabd"
    file.write_bytes(data)
    replay = start_replay(file, tmp_path)
    try:
        _check_playback(replay.api, sid, REPLAY_TOKEN, moments[::3])
        status, again = replay.api("GET", f"/api/sessions/{sid}/recording", token=REPLAY_TOKEN)
        assert status == 200 and again["counts"] == summary["counts"]
        status, body = replay.api("POST", f"/api/sessions/{sid}/fork", {"t": t_fork}, REPLAY_TOKEN)
        assert status == 403
        status, body = replay.api("GET", f"/api/sessions/{sid}/recording", token="wrong")
        assert status == 401
        status, page, _ = replay.get(f"/s/{sid}/replay", REPLAY_TOKEN)
        assert status == 200, page  # the suite builds the web client first
        status, _frame, headers = replay.get("/frame")
        assert status == 200
        assert headers["content-security-policy"] == FRAME_HEADERS["Content-Security-Policy"]
    finally:
        replay.stop()

    # retention trims the start; what is kept plays back exactly
    status, result = hub.api("POST", "/api/retention", {"bytes": summary["counts"]["bytes"] // 2})
    assert status == 200 and result["rooms"]
    trimmed = next(r for r in result["rooms"] if r["room"] == sid)
    assert trimmed["dropped"] > 0
    status, after = hub.api("GET", f"/api/sessions/{sid}/recording", token=view)
    assert (
        after["start"] > summary["start"] and after["counts"]["bytes"] < summary["counts"]["bytes"]
    )
    kept = [m for m in moments if m[0] >= after["start"]]
    assert 3 <= len(kept) < len(moments)
    _check_playback(hub.api, sid, view, kept)
    status, body = hub.api("POST", "/api/retention", {}, token=view)
    assert status == 401
    # and the room still loads from what is kept after a restart
    hub.stop()
    hub.start()
    async with NotebookClient.from_link(s["edit_url"]) as client:
        assert _nb(client) == moments[-1][1]


@pytest.mark.kernel
async def test_run_history_from_a_real_kernel(hub: HubProcess) -> None:
    s = hub.create_session("runs.ipynb")
    sid = s["id"]
    async with NotebookClient.from_link(s["edit_url"], name="ada") as ada:
        ok = ada.cell_ids()[0]
        ada.set_source(ok, "score = 0.93\nprint('score', score)")
        bad = ada.insert_cell(1, "1/0")
        await hub_has(ada, [ok, bad])  # the hub looks cells up by id: it must have them first
        await ada.run(ok, bad)
        await ada.wait_for(lambda: "ZeroDivisionError" in ada.output_text(bad), timeout=60)
    deadline = time.monotonic() + 30
    while True:
        status, found = hub.api("GET", f"/api/sessions/{sid}/runs", token=s["view_token"])
        if len(found) == 2 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    assert status == 200 and [r["status"] for r in found] == ["ok", "error"]
    first = found[0]
    assert first["cell_id"] == ok and first["by"]["name"] == "ada"
    assert "score 0.93" in first["outputs"] and "print('score'" in first["code"]
    assert first["execution_count"] == 1 and first["ended"] >= first["started"]
    _, hits = hub.api("GET", f"/api/sessions/{sid}/runs?q=zerodivision", token=s["view_token"])
    assert [r["cell_id"] for r in hits] == [bad]
    _, hits = hub.api("GET", f"/api/sessions/{sid}/runs?status=ok&by=ada", token=s["view_token"])
    assert [r["cell_id"] for r in hits] == [ok]
    status, csv_bytes, headers = hub.get(f"/api/sessions/{sid}/runs?format=csv", TOKEN)
    lines = csv_bytes.decode().splitlines()
    assert status == 200 and headers["content-type"].startswith("text/csv")
    assert lines[0].startswith("seq,request_id") and any(bad in line for line in lines)
    status, summary = hub.api("GET", f"/api/sessions/{sid}/recording", token=s["view_token"])
    assert [r["request_id"] for r in summary["runs"]] == [r["request_id"] for r in found]
    assert next(p for p in summary["participants"] if p["name"] == "ada")["runs"] == 2
