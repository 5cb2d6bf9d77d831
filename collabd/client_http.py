"""HTTP/1.1 keep-alive for the Python participant: one connection reused across requests.

A new TCP connection per request (what `urllib.request` does) costs a connect, uvicorn's
per-connection setup and a teardown every time: ~1 ms of a run's round trip on loopback.
Blocking, like `http.client`, and safe across threads: each request takes an idle connection
or opens one, and puts it back when the response was read in full.
"""

from __future__ import annotations

import http.client
import threading
import time
from urllib.parse import urlsplit

# uvicorn closes a connection idle for 5 s (`timeout_keep_alive`); one idle for less than this
# is reused, so a request rarely meets a connection the server is closing at that moment.
IDLE_REUSE_S = 2.0
# What a reused connection raises when the server closed it while idle: the request never
# reached the application, so it is sent once more on a new connection.
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


class Response:
    def __init__(self, status: int, body: bytes) -> None:
        self.status, self.body = status, body


class HttpPool:
    def __init__(self, base_url: str, timeout: float = 60.0) -> None:
        parts = urlsplit(base_url)
        self._https = parts.scheme == "https"
        self._netloc = parts.netloc
        self._base_path = parts.path.rstrip("/")  # a hub served under a prefix
        self._timeout = timeout
        self._idle: list[tuple[http.client.HTTPConnection, float]] = []
        self._lock = threading.Lock()

    def request(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> Response:
        path = self._base_path + path
        conn, reused = self._take()
        try:
            try:
                response = _send(conn, method, path, body, headers)
            except _STALE:
                if not reused:
                    raise
                conn.close()
                conn = self._new()
                response = _send(conn, method, path, body, headers)
        except BaseException:
            conn.close()
            raise
        status, data, will_close = response
        if will_close:
            conn.close()
        else:
            with self._lock:
                self._idle.append((conn, time.monotonic()))
        return Response(status, data)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn, _ in idle:
            conn.close()

    def _take(self) -> tuple[http.client.HTTPConnection, bool]:
        now = time.monotonic()
        with self._lock:
            while self._idle:
                conn, since = self._idle.pop()
                if now - since < IDLE_REUSE_S:
                    return conn, True
                conn.close()
        return self._new(), False

    def _new(self) -> http.client.HTTPConnection:
        if self._https:
            return http.client.HTTPSConnection(self._netloc, timeout=self._timeout)
        return http.client.HTTPConnection(self._netloc, timeout=self._timeout)


def _send(
    conn: http.client.HTTPConnection,
    method: str,
    path: str,
    body: bytes | None,
    headers: dict[str, str],
) -> tuple[int, bytes, bool]:
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    return resp.status, data, resp.will_close
