"""An authenticating proxy's header over real loopback connections: `collabd serve` believes
X-Auth-Request-User only from the configured proxy address (127.0.0.1); the same header from
another local address (127.0.0.2, the client's bind address) is ignored, and said so once."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from collabd.sync.wire import Close
from tests.support.hubproc import HubFactory, HubProcess

pytestmark = [pytest.mark.slow]

HEADER = "X-Auth-Request-User"


def client_from(address: str) -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=30)


@pytest.fixture
def proxied(hub_factory: HubFactory) -> HubProcess:
    return hub_factory(
        env={"COLLABD_TRUSTED_USER_HEADER": HEADER, "COLLABD_TRUSTED_PROXIES": "127.0.0.1/32"}
    )


def test_the_header_signs_in_only_from_the_proxys_address(proxied: HubProcess) -> None:
    alice = {HEADER: "alice"}
    with client_from("127.0.0.1") as proxy, client_from("127.0.0.2") as elsewhere:
        made = proxy.post(f"{proxied.base}/api/sessions", json={"path": "p.ipynb"},
                          headers={HEADER: "alice"})  # fmt: skip
        assert made.status_code == 201 and made.json()["role"] == "owner", made.text
        sid = made.json()["id"]
        assert proxy.get(f"{proxied.base}/api/me", headers=alice).json()["user"] == "alice"
        # The same header from an address that is not the proxy's: nobody.
        assert elsewhere.get(f"{proxied.base}/api/me", headers=alice).json()["user"] is None
        forged = elsewhere.get(f"{proxied.base}/api/sessions/{sid}", headers={HEADER: "alice"})
        assert forged.status_code == 401
        again = elsewhere.get(f"{proxied.base}/api/sessions", headers={HEADER: "alice"})
        assert again.status_code == 401
        assert proxy.get(f"{proxied.base}/api/sessions/{sid}", headers=alice).status_code == 200
    said = "not one of COLLABD_TRUSTED_PROXIES"
    ignored = [line for line in proxied.log().splitlines() if said in line]
    assert len(ignored) == 1 and "127.0.0.2" in ignored[0]


async def test_the_websocket_by_header_only_from_the_proxy(proxied: HubProcess) -> None:
    with client_from("127.0.0.1") as proxy:
        made = proxy.post(f"{proxied.base}/api/sessions", json={"path": "w.ipynb"},
                          headers={HEADER: "alice"})  # fmt: skip
    url = f"ws://127.0.0.1:{proxied.port}/ws/{made.json()['id']}"

    def from_address(address: str) -> socket.socket:
        sock = socket.socket()
        sock.bind((address, 0))
        sock.connect(("127.0.0.1", proxied.port))
        return sock

    async with connect(url, sock=from_address("127.0.0.1"),
                       additional_headers={HEADER: "alice"}) as ws:  # fmt: skip
        assert isinstance(await asyncio.wait_for(ws.recv(), 20), bytes)  # in: sync step 1
    async with connect(url, sock=from_address("127.0.0.2"),
                       additional_headers={HEADER: "alice"}) as ws:  # fmt: skip
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 20)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == Close.UNAUTHORIZED


async def test_a_signed_in_users_own_chat_write_carries_their_name(proxied: HubProcess) -> None:
    """The page writes the chat array itself; the hub rewrites it under the signed-in name."""
    from pycrdt import Array

    from collabd import chat
    from collabd.client import NotebookClient

    with client_from("127.0.0.1") as proxy:
        made = proxy.post(f"{proxied.base}/api/sessions", json={"path": "c.ipynb"},
                          headers={HEADER: "alice"})  # fmt: skip
    alice = NotebookClient(proxied.base, made.json()["id"], "", name="x", headers={HEADER: "alice"})
    await alice.connect()
    try:
        message = {"id": chat.new_id(), "by": {"name": "Bob", "client_id": alice.client_id},
                   "at": 1.0, "text": "hello"}  # fmt: skip
        alice.doc.get("chat", type=Array).append(message)

        def rewritten() -> bool:
            return any(m["by"]["name"] == "alice" for m in chat.messages(alice.doc))

        await alice.wait_for(rewritten)
        (kept,) = chat.messages(alice.doc)
        assert {"name": "alice", "verified": True, "user": "alice"}.items() <= kept["by"].items()
    finally:
        await alice.close()
