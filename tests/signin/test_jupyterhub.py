"""Sign-in through a real JupyterHub: its DummyAuthenticator, its configurable-http-proxy, and
collabd as a hub-managed service under /services/collabd/. People sign in with the hub's login
form and the OAuth redirects (an HTTP client that keeps cookies), then use collabd by the
cookie alone: the sessions shared with them, the websocket, runs attributed to them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import nbformat
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from collabd.sync.wire import Close
from tests.support.hubproc import TOKEN
from tests.support.jhub import JupyterHubProcess

pytestmark = [pytest.mark.slow]

ADMIN = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def jhub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterHubProcess]:
    hub = JupyterHubProcess(tmp_path_factory.mktemp("jhub"), groups={"physics": ["dan"]})
    hub.root.mkdir(parents=True)
    for name in ("shared.ipynb", "other.ipynb"):
        nb = nbformat.v4.new_notebook()
        cell = nbformat.v4.new_code_cell("x = 6 * 7\nx")
        cell.id = "c1"
        nb.cells = [cell]
        nbformat.write(nb, hub.root / name)
    hub.start()
    yield hub
    hub.stop()


def admin(hub: JupyterHubProcess, method: str, path: str, body: Any = None) -> Any:
    response = httpx.request(method, f"{hub.service}{path}", json=body, headers=ADMIN, timeout=30)
    assert response.status_code < 300, (response.status_code, response.text)
    return response.json()


def cookie(client: httpx.Client) -> str:
    return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


async def joined(hub: JupyterHubProcess, session_id: str, client: httpx.Client) -> ClientConnection:
    """A websocket to the session through the hub's proxy, signed in by the cookie alone."""
    ws_url = hub.service.replace("http", "ws", 1) + f"/ws/{session_id}"
    return await connect(ws_url, additional_headers={"Cookie": cookie(client)})


async def close_code(ws: ClientConnection, timeout: float = 20.0) -> int | None:
    async def drain() -> int | None:
        try:
            while True:
                await ws.recv()
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd is not None else None

    return await asyncio.wait_for(drain(), timeout)


@pytest.fixture(scope="module")
def sessions(jhub: JupyterHubProcess) -> dict[str, dict[str, Any]]:
    shared = admin(jhub, "POST", "/api/sessions", {"path": "shared.ipynb"})
    other = admin(jhub, "POST", "/api/sessions", {"path": "other.ipynb"})
    grants = f"/api/sessions/{shared['id']}/grants"
    admin(jhub, "POST", grants, {"user": "alice", "role": "edit"})
    admin(jhub, "POST", grants, {"group": "physics", "role": "view"})
    return {"shared": shared, "other": other}


def test_a_signed_in_user_sees_what_is_shared_with_them_and_nothing_else(
    jhub: JupyterHubProcess, sessions: dict[str, dict[str, Any]]
) -> None:
    shared, other = sessions["shared"], sessions["other"]
    with jhub.sign_in("alice") as alice:
        me = alice.get(f"{jhub.service}/api/me").json()
        assert (me["user"], me["admin"]) == ("alice", False)
        listed = alice.get(f"{jhub.service}/api/sessions").json()
        assert [(s["id"], s["role"]) for s in listed] == [(shared["id"], "edit")]
        assert alice.get(f"{jhub.service}/api/sessions/{other['id']}").status_code == 401
        # The cookie is the hub's OAuth token, kept from scripts in the page.
        assert "collabd-hub-token" in alice.cookies
        # The page itself, under the service prefix, with its assets there too.
        page = alice.get(f"{jhub.service}/s/{shared['id']}")
        assert page.status_code == 200 and '"/services/collabd/static/' in page.text
    with jhub.sign_in("dan") as dan:  # a member of the group the session was shared with
        listed = dan.get(f"{jhub.service}/api/sessions").json()
        assert [(s["id"], s["role"]) for s in listed] == [(shared["id"], "view")]
    # Without the cookie nobody is anybody.
    assert httpx.get(f"{jhub.service}/api/sessions/{shared['id']}").status_code == 401


@pytest.mark.kernel
async def test_runs_are_the_signed_in_users_and_bob_is_refused(
    jhub: JupyterHubProcess, sessions: dict[str, dict[str, Any]]
) -> None:
    shared = sessions["shared"]
    sid = shared["id"]
    with jhub.sign_in("alice") as alice:
        ws = await joined(jhub, sid, alice)
        assert isinstance(await asyncio.wait_for(ws.recv(), 20), bytes)  # sync step 1: in
        ran = alice.post(
            f"{jhub.service}/api/sessions/{sid}/execute",
            json={"cell_id": "c1", "by": {"name": "Mallory"}},
        )
        assert ran.status_code == 202, ran.text
        deadline = time.monotonic() + 60
        runs: list[dict[str, Any]] = []
        while time.monotonic() < deadline and not runs:
            found = alice.get(f"{jhub.service}/api/sessions/{sid}/runs").json()
            runs = [r for r in found if r.get("status") == "ok"]
            await asyncio.sleep(0.3)
        assert runs, found
        assert runs[0]["by"]["name"] == "alice"  # not the name the request claimed
        # The recording keeps the whole `by`: the hub vouches for the name.
        recorded = alice.get(f"{jhub.service}/api/sessions/{sid}/recording/events").json()
        done = [e for e in recorded["events"] if e["kind"] == "run"]
        by = done[-1]["data"].get("by") if done else None
        assert by is not None and by | {"client_id": None} == {
            "name": "alice", "client_id": None, "verified": True, "user": "alice",
        }, recorded["events"]  # fmt: skip
        await ws.close()
    with jhub.sign_in("bob") as bob:
        assert bob.get(f"{jhub.service}/api/sessions/{sid}").status_code == 401
        assert bob.post(f"{jhub.service}/api/sessions/{sid}/execute",
                        json={"cell_id": "c1"}).status_code == 401  # fmt: skip
        refused = await joined(jhub, sid, bob)
        assert await close_code(refused) == Close.UNAUTHORIZED


async def test_taking_alices_grant_away_closes_her_connection(
    jhub: JupyterHubProcess, tmp_path: Path
) -> None:
    s = admin(jhub, "POST", "/api/sessions", {"path": "revoked.ipynb"})
    admin(jhub, "POST", f"/api/sessions/{s['id']}/grants", {"user": "alice", "role": "edit"})
    with jhub.sign_in("alice") as alice:
        ws = await joined(jhub, s["id"], alice)
        assert isinstance(await asyncio.wait_for(ws.recv(), 20), bytes)
        gone = admin(jhub, "DELETE", f"/api/sessions/{s['id']}/grants/users/alice")
        assert gone["closed"] == 1
        assert await close_code(ws) == Close.LINK_REVOKED
        assert alice.get(f"{jhub.service}/api/sessions/{s['id']}").status_code == 401
