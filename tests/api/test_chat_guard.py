"""Editors cannot forge chat: through a hub process over real websockets, a page that writes the
`chat` array directly (another's name on its message, someone else's message edited or deleted)
is repaired by the hub, and everyone, the store and a late joiner see the true identity."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

import pytest
from pycrdt import Array

from collabd import chat
from collabd.client import NotebookClient
from tests.support.hubproc import HubProcess

pytestmark = [pytest.mark.slow]  # a hub process: real websockets

_paths = itertools.count()


def chat_of(client: NotebookClient) -> list[dict[str, Any]]:
    return chat.messages(client.doc)


def by_text(client: NotebookClient, text: str) -> dict[str, Any] | None:
    return next((m for m in chat_of(client) if m["text"] == text), None)


def write_directly(client: NotebookClient, message: dict[str, Any]) -> None:
    """What a forging page does: append to the Yjs array itself."""
    client.doc.get("chat", type=Array).append(message)


def forged(client: NotebookClient, text: str, name: str, **extra: Any) -> dict[str, Any]:
    message = {
        "id": chat.new_id(),
        "by": {"name": name, "client_id": client.client_id, "verified": True},
        "at": 1.0,
        "text": text,
        **extra,
    }
    write_directly(client, message)
    return message


def client(hub: HubProcess, s: dict[str, Any], token: str, name: str) -> NotebookClient:
    return NotebookClient(hub.base, s["id"], token, name=name)


async def test_a_forged_name_reaches_everyone_with_the_true_one(shared_hub: HubProcess) -> None:
    s = shared_hub.create_session(f"forge{next(_paths)}.ipynb")
    status, link = shared_hub.api(
        "POST", f"/api/sessions/{s['id']}/links", {"name": "Grace Hopper", "role": "edit"}
    )
    assert status == 201, link
    ann = client(shared_hub, s, s["edit_token"], "Ann")
    bob = client(shared_hub, s, s["edit_token"], "Bob")
    grace = client(shared_hub, s, link["token"], "Mallory")
    viewer = client(shared_hub, s, s["view_token"], "Vi")
    for c in (ann, bob, grace, viewer):
        await c.connect()
    try:
        sent = forged(ann, "I am Bob, trust me", "Bob")
        forged(grace, "named and forging", "Bob")

        def repaired(c: NotebookClient) -> bool:
            names = sorted(m["by"]["name"] for m in chat_of(c))
            return names == ["Ann", "Grace Hopper"]

        for c in (bob, viewer, ann, grace):
            await c.wait_for(lambda c=c: repaired(c))
        for c in (bob, viewer, ann, grace):
            got = by_text(c, "I am Bob, trust me")
            assert got is not None and got["id"] == sent["id"]
            assert got["by"] == {
                "name": "Ann",
                "client_id": ann.client_id,
                "verified": False,
                "corrected": True,
            }
            named = by_text(c, "named and forging")
            assert named is not None
            assert named["by"]["name"] == "Grace Hopper" and named["by"]["verified"] is True
            assert named["by"]["link_id"] == link["id"] and named["by"]["corrected"] is True
            raw = c.doc.get("chat", type=Array).to_py()
            assert [m for m in raw if m["by"]["name"] == "Bob"] == []

        # the store: the recording (any moment) and a late joiner
        await ann.flush()
        await grace.flush()
        status, now = shared_hub.api(
            "GET", f"/api/sessions/{s['id']}/recording/chat", token=s["view_token"]
        )
        assert status == 200
        assert sorted(m["by"]["name"] for m in now["messages"]) == ["Ann", "Grace Hopper"]
        late = client(shared_hub, s, s["view_token"], "Late")
        async with late:
            assert sorted(m["by"]["name"] for m in chat_of(late)) == ["Ann", "Grace Hopper"]
    finally:
        for c in (ann, bob, grace, viewer):
            await c.close()


async def test_someone_elses_message_edited_or_deleted_is_restored(
    shared_hub: HubProcess,
) -> None:
    s = shared_hub.create_session(f"restore{next(_paths)}.ipynb")
    ann = client(shared_hub, s, s["edit_token"], "Ann")
    bob = client(shared_hub, s, s["edit_token"], "Bob")
    for c in (ann, bob):
        await c.connect()
    try:
        first = (await bob.request("POST", "/chat", {"text": "bob's first", "name": "Bob"}))[
            "message"
        ]
        second = (await bob.request("POST", "/chat", {"text": "bob's second", "name": "Bob"}))[
            "message"
        ]
        await ann.wait_for(lambda: len(chat_of(ann)) == 2)
        array = ann.doc.get("chat", type=Array)
        with ann.doc.transaction():  # rewrite Bob's first, delete his second
            del array[0:2]
            array.append({**first, "text": "bob says ann is right"})
        await ann.flush()
        for c in (ann, bob):
            await c.wait_for(
                lambda c=c: [m["text"] for m in chat_of(c)] == ["bob's first", "bob's second"]
            )
        assert chat_of(bob) == [first, second]
        assert chat_of(ann) == [first, second]

        # hiding and resolving by others are the hub's endpoints; a direct "hide" is undone
        array.append({**first, "hidden": True, "text": ""})
        await ann.flush()
        await ann.wait_for(lambda: chat_of(ann) == [first, second])
        status, hidden = shared_hub.api(
            "POST", f"/api/sessions/{s['id']}/chat/{first['id']}/hide", {}, s["edit_token"]
        )
        assert status == 200, hidden
        await bob.wait_for(lambda: chat_of(bob)[0].get("hidden") is True)
    finally:
        for c in (ann, bob):
            await c.close()


async def test_an_editors_own_messages_replies_and_moderation_keep_working(
    shared_hub: HubProcess,
) -> None:
    s = shared_hub.create_session(f"own{next(_paths)}.ipynb")
    ann = client(shared_hub, s, s["edit_token"], "Ann")
    bob = client(shared_hub, s, s["edit_token"], "Bob")
    for c in (ann, bob):
        await c.connect()
    try:
        cell = ann.cell_ids()[0]
        # through the hub (what the page does) and, as an older page did, directly
        root = (
            await ann.request(
                "POST",
                "/chat",
                {
                    "text": "is this right?",
                    "cell_id": cell,
                    "name": "Ann",
                    "client_id": ann.client_id,
                },
            )
        )["message"]
        own = {
            "id": chat.new_id(),
            "by": {"name": "Ann", "client_id": ann.client_id},
            "at": time.time(),
            "text": "written directly, under my own name",
        }
        write_directly(ann, own)
        reply = {**own, "id": chat.new_id(), "text": "a direct reply", "reply_to": root["id"]}
        write_directly(ann, reply)
        await ann.flush()
        await bob.wait_for(lambda: len(chat_of(bob)) == 3)
        direct = by_text(bob, "written directly, under my own name")
        assert direct is not None and direct["id"] == own["id"]
        assert direct["by"] == {"name": "Ann", "client_id": ann.client_id, "verified": False}
        answered = by_text(bob, "a direct reply")
        assert answered is not None
        assert answered["reply_to"] == root["id"] and answered["cell_id"] == cell

        # Bob resolves Ann's thread and hides her direct message, through the hub
        base = f"/api/sessions/{s['id']}/chat"
        status, body = shared_hub.api(
            "POST", f"{base}/{root['id']}/resolve", {"resolved": True}, s["edit_token"]
        )
        assert status == 200, body
        status, body = shared_hub.api("POST", f"{base}/{own['id']}/hide", {}, s["edit_token"])
        assert status == 200, body

        def found(message_id: str) -> dict[str, Any]:
            return next(m for m in chat_of(ann) if m["id"] == message_id)

        await ann.wait_for(lambda: found(root["id"]).get("resolved") is True)
        await ann.wait_for(lambda: found(own["id"]).get("hidden") is True)
        assert "under my own name" not in json.dumps(chat_of(bob))
    finally:
        for c in (ann, bob):
            await c.close()
