"""The Python client's keep-alive: one connection for many requests, and a connection the
server closed while idle is replaced without the caller seeing it. A real HTTP/1.1 server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from collabd.client_http import HttpPool


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.requests.append((self.client_address, body))
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        # a server ending an idle keep-alive connection says nothing before it does
        self.close_connection = self.server.drop_after_each

    def log_message(self, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[tuple[tuple[str, int], bytes]] = []
        self.drop_after_each = False


@pytest.fixture
def server() -> Iterator[_Server]:
    srv = _Server()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()


def _url(srv: _Server) -> str:
    host, port = srv.server_address[:2]
    return f"http://{host!s}:{port}"


def test_requests_share_one_connection(server: _Server) -> None:
    pool = HttpPool(_url(server))
    for n in range(3):
        resp = pool.request("POST", "/x", f"{n}".encode(), {})
        assert (resp.status, resp.body) == (200, f"{n}".encode())
    pool.close()
    assert len({addr for addr, _ in server.requests}) == 1


def test_a_connection_the_server_closed_is_replaced(server: _Server) -> None:
    server.drop_after_each = True
    pool = HttpPool(_url(server))
    bodies = [pool.request("POST", "/x", f"{n}".encode(), {}).body for n in range(3)]
    pool.close()
    assert bodies == [b"0", b"1", b"2"]
    # each request reached the server exactly once, each on a connection of its own
    assert [body for _, body in server.requests] == [b"0", b"1", b"2"]
    assert len({addr for addr, _ in server.requests}) == 3
