"""Named links in a cluster: a participant relayed by another hub carries its link's name, and
revoking, rotating or deleting on a hub that does not own the session reaches every hub."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from collabd.client import NotebookClient
from collabd.sync.wire import Close
from tests.cluster.conftest import Cluster

pytestmark = [pytest.mark.slow]
WAIT = 30.0


async def closed_with(c: NotebookClient, timeout: float = WAIT) -> int | None:
    deadline = time.monotonic() + timeout
    while c.close_code is None and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return c.close_code


async def test_links_across_hubs(cluster_factory: Any) -> None:
    cluster: Cluster = cluster_factory(2)
    h0, h1 = cluster.hubs
    s = h0.create_session("people.ipynb")
    sid = s["id"]
    status, ada = h1.api("POST", f"/api/sessions/{sid}/links", {"name": "Ada", "role": "edit"})
    assert status == 201, ada
    status, listed = h0.api("GET", f"/api/sessions/{sid}/links")
    assert status == 200 and [link["id"] for link in listed["links"]] == [ada["id"]]

    anon = NotebookClient(h0.base, sid, s["edit_token"], name="anon")
    await anon.connect()
    await anon.wait_synced()
    owner = cluster.owner_of(sid)
    other = cluster.hubs[1 - owner]
    # Ada (and a second anonymous editor) come through the hub that does not own the session.
    named = NotebookClient(other.base, sid, ada["token"], name="Mallory")
    relayed_anon = NotebookClient(other.base, sid, s["edit_token"], name="anon2")
    last: NotebookClient | None = None
    for c in (named, relayed_anon):
        await c.connect()
        await c.wait_synced()
    try:
        await named.set_presence(cursor=1)
        await anon.wait_for(
            lambda: any(
                st.get("user") == {"name": "Ada", "verified": True} for st in anon.others().values()
            ),
            WAIT,
        )
        # Revoked on the hub that does not own the session: the relayed holder is cut at once.
        status, body = other.api("DELETE", f"/api/sessions/{sid}/links/{ada['id']}")
        assert status == 200 and body["closed"] == 1, body
        assert await closed_with(named) == Close.LINK_REVOKED
        for hub in cluster.hubs:
            status, answer = hub.api("GET", f"/api/sessions/{sid}", token=ada["token"])
            assert status == 401 and answer["error"] == "link_revoked"
        # Rotated there too: the anonymous editors on both hubs go, the old token works nowhere.
        status, body = other.api("POST", f"/api/sessions/{sid}/links/rotate", {"role": "edit"})
        assert status == 200 and body["closed"] == 2, body
        assert await closed_with(anon) == Close.LINK_REVOKED
        assert await closed_with(relayed_anon) == Close.LINK_REVOKED
        for hub in cluster.hubs:
            assert hub.api("GET", f"/api/sessions/{sid}", token=s["edit_token"])[0] == 401
            assert hub.api("GET", f"/api/sessions/{sid}", token=body["token"])[0] == 200
        # Deleted through the other hub: its participants are told, its history is gone.
        last = NotebookClient(other.base, sid, body["token"], name="last")
        await last.connect()
        await last.wait_synced()
        status, deleted = other.api("DELETE", f"/api/sessions/{sid}")
        assert status == 200, deleted
        assert await closed_with(last) == Close.NOT_FOUND
        for hub in cluster.hubs:
            assert hub.api("GET", f"/api/sessions/{sid}")[0] == 404
            assert hub.api("GET", f"/api/sessions/{sid}", token=body["token"])[0] == 401
    finally:
        for c in (anon, named, relayed_anon, last):
            if c is not None:
                await c.close()


async def test_a_signed_in_user_relayed_by_another_hub(cluster_factory: Any) -> None:
    """Signed in by a trusted proxy's header: through the hub that does not own the session
    the user's presence still carries their name, verified, and taking their grant away on
    that hub closes their relayed connection with 4410."""
    header = "X-Forwarded-User"
    env = {"COLLABD_TRUSTED_USER_HEADER": header, "COLLABD_TRUSTED_PROXIES": "127.0.0.1"}
    cluster: Cluster = cluster_factory(2, env=env)
    h0 = cluster.hubs[0]
    s = h0.create_session("team.ipynb")
    sid = s["id"]
    alice = NotebookClient(h0.base, sid, s["edit_token"], name="alice")
    await alice.connect()
    await alice.wait_synced()
    owner = cluster.owner_of(sid)
    other = cluster.hubs[1 - owner]
    status, _ = other.api("POST", f"/api/sessions/{sid}/grants", {"user": "bob", "role": "edit"})
    assert status == 201
    bob = NotebookClient(other.base, sid, "", name="Mallory", headers={header: "bob"})
    await bob.connect()
    await bob.wait_synced()
    try:
        await bob.set_presence(cursor=1)
        await alice.wait_for(
            lambda: any(
                st.get("user") == {"name": "bob", "verified": True}
                for st in alice.others().values()
            ),
            WAIT,
        )
        status, body = other.api("DELETE", f"/api/sessions/{sid}/grants/users/bob")
        assert status == 200 and body["closed"] == 1, body
        assert await closed_with(bob) == Close.LINK_REVOKED
        assert alice.connected
    finally:
        await bob.close()
        await alice.close()
