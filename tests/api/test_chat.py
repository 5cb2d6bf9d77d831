"""Chat and cell comments, in process: an editor writes the document's `chat` array as a Yjs
client (as an older page did: the hub rewrites it with the connection's identity), a viewer
posts through the hub; both reach everyone and a late joiner; a viewer changes nothing else;
limits; named-link identity; hide and resolve; the recording and the export file carry the
messages, the .ipynb does not (but for ?comments=1); hidden text cannot be read back from the
recording but by the admin."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest
from pycrdt import Array, Doc, Map
from starlette.testclient import TestClient

from collabd import chat
from collabd.api.app import create_replay_app
from collabd.recording import reader
from collabd.recording.file import open_recording
from tests.support.inproc import InProcHub, Peer


def texts(peer: Peer) -> list[str]:
    return [m["text"] for m in chat.messages(peer.doc)]


def post(app: InProcHub, s: dict[str, Any], token: str, **body: Any) -> tuple[int, Any]:
    return app.api("POST", f"/api/sessions/{s['id']}/chat", body, token)


def editor_says(peer: Peer, text: str, **extra: Any) -> dict[str, Any]:
    message = {
        "id": chat.new_id(),
        "by": {"name": "Ed", "client_id": peer.client_id},
        "at": time.time(),
        "text": text,
        **extra,
    }
    peer.doc.get("chat", type=Array).append(message)

    def repaired() -> dict[str, Any] | None:  # the hub rewrites what a page writes directly
        found = [m for m in chat.messages(peer.doc) if m["id"] == message["id"]]
        return found[0] if found and found[0]["by"].get("verified") is False else None

    return peer.wait_for(repaired)


def everything_but_chat(doc: Doc[Any]) -> dict[str, Any]:
    return {
        key: doc.get(key, type=Map).to_py() if key != "cells" else doc.get(key, type=Array).to_py()
        for key in ("cells", "meta", "state")
    }


def test_an_editor_and_a_viewer_reach_everyone_and_a_late_joiner(app: InProcHub) -> None:
    s = app.create_session("chat.ipynb")
    with app.peer(s, name="Ed") as ed, app.peer(s, s["view_token"], name="Vi") as vi:
        editor_says(ed, "hello from the editor")
        vi.wait_for(lambda: texts(vi) == ["hello from the editor"])

        status, body = post(
            app, s, s["view_token"], text="hi, **viewer** here", name="Vi", client_id=vi.client_id
        )
        assert status == 201, body
        sent = body["message"]
        assert sent["by"] == {"name": "Vi", "client_id": vi.client_id, "verified": False}
        assert sent["text"] == "hi, **viewer** here" and isinstance(sent["at"], float)
        ed.wait_for(lambda: len(texts(ed)) == 2)
        vi.wait_for(lambda: len(texts(vi)) == 2)
        assert chat.messages(ed.doc)[1] == sent
        with app.peer(s, s["view_token"], name="Late") as late:
            assert texts(late) == ["hello from the editor", "hi, **viewer** here"]


def test_a_viewer_changes_nothing_else_and_cannot_moderate(app: InProcHub) -> None:
    s = app.create_session("v.ipynb")
    with app.peer(s, name="Ed") as ed:
        ed.set_source(ed.cell_ids()[0], "x = 1")
        first = editor_says(ed, "a thread", cell_id=ed.cell_ids()[0])
        live = app.hub.loaded(s["id"])
        assert live is not None
        ed.wait_for(lambda: len(chat.messages(live.doc)) == 1)
        before = everything_but_chat(live.doc)
        nb_before = app.notebook(s)
        for body in (
            {"text": "reply", "reply_to": first["id"]},
            {"text": "cell", "cell_id": "whatever"},
            {"text": "x", "cell_id": ed.cell_ids()[0], "resolved": True, "hidden": True},
        ):
            status, answer = post(app, s, s["view_token"], **body)
            assert status == 201, answer
            assert "resolved" not in answer["message"] and "hidden" not in answer["message"]
        ed.wait_for(lambda: len(texts(ed)) == 4)
        reply = chat.messages(ed.doc)[1]
        assert reply["reply_to"] == first["id"] and reply["cell_id"] == ed.cell_ids()[0]
        assert everything_but_chat(live.doc) == before
        assert app.notebook(s) == nb_before
        for action, body in (("hide", {}), ("resolve", {"resolved": True})):
            status, answer = app.api(
                "POST",
                f"/api/sessions/{s['id']}/chat/{first['id']}/{action}",
                body,
                s["view_token"],
            )
            assert (status, answer["error"]) == (403, "forbidden")
        assert chat.messages(live.doc)[0] == first  # untouched


def test_limits_give_clear_errors(app_factory: Any) -> None:
    app = app_factory(chat_rate="3/60", chat_max_chars=20)
    s = app.create_session("l.ipynb")
    status, body = post(app, s, s["view_token"], text="x" * 21)
    assert status == 413 and body["error"] == "too_large" and "20 characters" in body["detail"]
    for bad in (
        {"text": ""},
        {"text": "  "},
        {"text": 3},
        {"text": "a", "name": "\x07"},
        {"text": "a", "cell_id": 5},
    ):
        status, body = post(app, s, s["view_token"], **bad)
        assert status == 422, (bad, body)
    status, body = post(app, s, s["view_token"], text="a", reply_to="nope")
    assert (status, body["error"]) == (404, "unknown_message")
    for i in range(3):
        assert post(app, s, s["view_token"], text=f"m{i}", client_id=7)[0] == 201
    status, body = post(app, s, s["view_token"], text="one too many", client_id=7)
    assert status == 429 and body["error"] == "rate_limited"
    assert "at most 3 messages in 60 s" in body["detail"]
    # another holder of the same anonymous link has their own allowance …
    assert post(app, s, s["view_token"], text="me too", client_id=8)[0] == 201
    # … up to five times one person's for the link as a whole
    sent = sum(
        post(app, s, s["view_token"], text="crowd", client_id=100 + i)[0] == 201 for i in range(20)
    )
    assert sent == 15 - 4
    assert post(app, s, s["edit_token"], text="editors have theirs")[0] == 201
    status, body = post(app, s, "wrong", text="x")
    assert status == 401


def test_a_named_link_posts_under_its_own_name(app: InProcHub) -> None:
    s = app.create_session("n.ipynb")
    status, link = app.api(
        "POST", f"/api/sessions/{s['id']}/links", {"name": "Grace Hopper", "role": "view"}
    )
    assert status == 201, link
    status, body = post(app, s, link["token"], text="it's me", name="Mallory")
    assert status == 201, body
    assert body["message"]["by"] == {
        "name": "Grace Hopper",
        "client_id": None,
        "verified": True,
        "link_id": link["id"],
    }
    status, body = post(app, s, s["view_token"], text="claim", name="Grace Hopper")
    assert body["message"]["by"]["verified"] is False
    app.api("DELETE", f"/api/sessions/{s['id']}/links/{link['id']}")
    status, body = post(app, s, link["token"], text="still here?")
    assert (status, body["error"]) == (401, "link_revoked")


def test_editors_hide_messages_and_resolve_threads(app: InProcHub) -> None:
    s = app.create_session("h.ipynb")
    status, body = post(app, s, s["view_token"], text="rude words", name="Troll")
    rude = body["message"]
    with app.peer(s, name="Ed") as ed:
        thread = editor_says(ed, "is this right?", cell_id=ed.cell_ids()[0])
        ed.wait_for(lambda: len(texts(ed)) == 2)
        base = f"/api/sessions/{s['id']}/chat"
        status, body = app.api(
            "POST", f"{base}/{rude['id']}/hide", {"by": {"name": "Ed"}}, s["edit_token"]
        )
        assert status == 200, body
        assert body["message"]["hidden"] is True and body["message"]["text"] == ""
        ed.wait_for(lambda: chat.messages(ed.doc)[0].get("hidden"))
        assert "rude words" not in json.dumps(chat.messages(ed.doc))
        assert [m["id"] for m in chat.messages(ed.doc)] == [rude["id"], thread["id"]]

        status, reply = post(app, s, s["edit_token"], text="yes", reply_to=thread["id"])
        status, body = app.api(
            "POST", f"{base}/{reply['message']['id']}/resolve", {"resolved": True}, s["edit_token"]
        )
        assert (status, body["error"]) == (422, "not_a_thread")
        status, body = app.api(
            "POST", f"{base}/{thread['id']}/resolve", {"resolved": True}, s["edit_token"]
        )
        assert status == 200 and body["message"]["resolved"] is True
        ed.wait_for(lambda: chat.messages(ed.doc)[1].get("resolved") is True)
        status, body = app.api(
            "POST", f"{base}/{thread['id']}/resolve", {"resolved": False}, s["edit_token"]
        )
        assert status == 200 and "resolved" not in body["message"]
        status, body = app.api("POST", f"{base}/nope/hide", {}, s["edit_token"])
        assert status == 404


def test_the_recording_at_t_and_the_export_carry_the_chat_not_the_ipynb(
    app: InProcHub, tmp_path: Path
) -> None:
    s = app.create_session("r.ipynb")
    assert post(app, s, s["view_token"], text="before", name="V")[0] == 201
    time.sleep(0.05)
    t = time.time()
    time.sleep(0.05)
    assert post(app, s, s["view_token"], text="after", name="V")[0] == 201
    base = f"/api/sessions/{s['id']}/recording"
    status, at_t = app.api("GET", f"{base}/chat?t={t}", token=s["view_token"])
    assert status == 200 and [m["text"] for m in at_t["messages"]] == ["before"]
    status, now = app.api("GET", f"{base}/chat", token=s["view_token"])
    assert [m["text"] for m in now["messages"]] == ["before", "after"]
    status, early = app.api("GET", f"{base}/chat?t=1", token=s["view_token"])
    assert status == 200 and early["messages"] == []

    # the .ipynb (live, at t, on disk) has no chat
    assert "before" not in json.dumps(app.notebook(s))
    response = app.request("GET", f"{base}/notebook?t={time.time()}", token=s["view_token"])
    assert response.status_code == 200 and "before" not in response.text
    app.api("POST", f"/api/sessions/{s['id']}/save", {}, s["edit_token"])
    on_disk = (app.root / "r.ipynb").read_text()
    assert "chat" not in json.loads(on_disk) and "before" not in on_disk

    # the export file carries them: read back, and served by `collabd replay`
    export = app.request("GET", f"{base}/export", token=s["view_token"])
    file = tmp_path / "r.collabd"
    file.write_bytes(export.content)
    recording = open_recording(file)
    doc = reader.doc_at(recording.store, s["id"], time.time()).doc()
    assert [m["text"] for m in chat.messages(doc)] == ["before", "after"]
    replay_app = create_replay_app(recording, "rt")
    with TestClient(replay_app) as client:
        answer = client.get(f"{base}/chat?t={t}", headers={"Authorization": "Bearer rt"})
        assert answer.status_code == 200
        assert [m["text"] for m in answer.json()["messages"]] == ["before"]
        refused = client.post(
            f"/api/sessions/{s['id']}/chat",
            json={"text": "x"},
            headers={"Authorization": "Bearer rt"},
        )
        assert refused.status_code in (404, 405)


@pytest.mark.parametrize("rate", ["x", "0/1", "3/0"])
def test_a_bad_chat_rate_is_refused(rate: str) -> None:
    with pytest.raises(ValueError):
        chat.parse_rate(rate)


def test_the_rate_window_slides() -> None:
    now = [0.0]
    limit = chat.RateLimit(2, 10.0, clock=lambda: now[0])
    assert limit.take("a") == 0 and limit.take("a") == 0
    assert limit.take("a") == pytest.approx(10.0)
    now[0] = 5.0
    assert limit.take("b") == 0 and limit.take("a") == pytest.approx(5.0)
    now[0] = 10.0
    assert limit.take("a") == 0


def test_the_download_carries_comment_threads_only_when_asked(app: InProcHub) -> None:
    s = app.create_session("c.ipynb")
    base = f"/api/sessions/{s['id']}"
    with app.peer(s, name="Ed") as ed:
        first, second = ed.cell_ids()[0], ed.insert_cell(1, "y = 2")
    edit = s["edit_token"]
    _, root = post(app, s, edit, text="why **1**?", cell_id=first, name="Ann")
    _, reply = post(app, s, edit, text="because", reply_to=root["message"]["id"], name="Bob")
    _, rude = post(app, s, edit, text="rude reply", reply_to=root["message"]["id"], name="Tr")
    _, gone = post(app, s, edit, text="rude thread", cell_id=second, name="Tr")
    _, other = post(app, s, edit, text="fine thread", cell_id=second, name="Bob")
    assert post(app, s, edit, text="just chat", name="Ann")[0] == 201
    for hidden in (rude, gone):
        app.api("POST", f"{base}/chat/{hidden['message']['id']}/hide", {}, edit)
    app.api("POST", f"{base}/chat/{root['message']['id']}/resolve", {"resolved": True}, edit)

    plain = app.request("GET", f"{base}/notebook?download=1", token=s["view_token"])
    assert plain.status_code == 200 and "collabd_comments" not in plain.text

    response = app.request("GET", f"{base}/notebook?download=1&comments=1", token=s["view_token"])
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    nbformat.validate(nbformat.reads(response.text, as_version=nbformat.NO_CONVERT))
    assert "rude" not in response.text and "just chat" not in response.text
    cells = json.loads(response.text)["cells"]
    threads = [c["metadata"].get("collabd_comments") for c in cells]
    assert threads[0] == [
        {
            "id": root["message"]["id"],
            "by": "Ann",
            "at": root["message"]["at"],
            "text": "why **1**?",
            "resolved": True,
            "replies": [
                {
                    "id": reply["message"]["id"],
                    "by": "Bob",
                    "at": reply["message"]["at"],
                    "text": "because",
                }
            ],
        }
    ]
    assert [t["text"] for t in threads[1]] == ["fine thread"]
    assert threads[1][0]["id"] == other["message"]["id"]


def doc_from_window(window: dict[str, Any], until: float) -> Doc[Any]:
    doc: Doc[Any] = Doc()
    if window["base"] is not None:
        doc.apply_update(base64.b64decode(window["base"]["state"]))
    for entry in window["entries"]:
        if entry["kind"] == "update" and entry["ts"] <= until:
            doc.apply_update(base64.b64decode(entry["update"]))
    return doc


def test_a_hidden_message_cannot_be_read_back_from_the_recording(
    app_factory: Any, tmp_path: Path
) -> None:
    app = app_factory(snapshot_every=2)  # snapshots taken while the text was there
    s = app.create_session("hide.ipynb")
    base = f"/api/sessions/{s['id']}"
    _, sent = post(app, s, s["view_token"], text="my password is hunter2", name="Stu")
    assert post(app, s, s["view_token"], text="an ordinary question", name="Stu")[0] == 201
    for i in range(4):
        assert post(app, s, s["edit_token"], text=f"filler {i}", name="Ed")[0] == 201
    time.sleep(0.05)
    before_hide = time.time()
    time.sleep(0.05)
    status, _ = app.api("POST", f"{base}/chat/{sent['message']['id']}/hide", {}, s["edit_token"])
    assert status == 200

    def texts_at(token: str) -> list[str]:
        status, body = app.api("GET", f"{base}/recording/chat?t={before_hide}", token=token)
        assert status == 200, body
        return [m["text"] for m in body["messages"]]

    for token in (s["view_token"], s["edit_token"]):
        assert texts_at(token)[:2] == ["", "an ordinary question"]
    assert texts_at(app.token)[0] == "my password is hunter2"  # the admin may

    # the player's bytes: the text is blank at every moment, the rest replays as it was
    start = app.api("GET", f"{base}/recording", token=s["view_token"])[1]["start"]
    window_url = f"{base}/recording/events?updates=1&from={start}&to={time.time() + 1}"
    for token in (s["view_token"], s["edit_token"]):
        response = app.request("GET", window_url, token=token)
        assert response.status_code == 200
        window = response.json()
        blobs = [base64.b64decode(e["update"]) for e in window["entries"] if "update" in e]
        assert not any(b"hunter2" in blob for blob in blobs)
        at = chat.messages(doc_from_window(window, before_hide))
        assert at[0]["id"] == sent["message"]["id"] and not at[0]["text"].strip()
        assert at[1]["text"] == "an ordinary question"
    seek = app.request(
        "GET",
        f"{base}/recording/events?updates=1&from={before_hide}&to={time.time() + 1}",
        token=s["view_token"],
    )
    assert seek.status_code == 200 and seek.json()["base"] is not None
    assert b"hunter2" not in base64.b64decode(seek.json()["base"]["state"])
    in_parts = app.request(  # the player's way: the snapshot and the updates after it
        "GET",
        f"{base}/recording/events?updates=1&base=parts&from={before_hide}&to={time.time() + 1}",
        token=s["view_token"],
    ).json()["base"]
    blobs = [base64.b64decode(b) for b in [in_parts["state"], *in_parts["updates"]]]
    assert in_parts["updates"] and not any(b"hunter2" in blob for blob in blobs)
    admin = app.request("GET", window_url).json()
    assert any(
        b"hunter2" in base64.b64decode(e["update"]) for e in admin["entries"] if "update" in e
    )

    # the export file: blank for a view link, kept for the admin
    for token, expected in ((s["view_token"], False), (app.token, True)):
        file = tmp_path / f"{expected}.collabd"
        file.write_bytes(app.request("GET", f"{base}/recording/export", token=token).content)
        recording = open_recording(file)
        doc = reader.doc_at(recording.store, s["id"], before_hide).doc()
        assert (chat.messages(doc)[0]["text"] == "my password is hunter2") is expected
        everything = [e.data for e in recording.store.entries(s["id"])]
        snaps = recording.store.snapshot_index(s["id"])
        assert snaps  # the snapshots were blanked too
        everything += [recording.store.snapshot_before(s["id"], seq=q).state for q, _ in snaps]  # type: ignore[union-attr]
        assert any(b"hunter2" in blob for blob in everything) is expected
