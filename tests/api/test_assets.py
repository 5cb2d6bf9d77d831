"""The web client's built files go out compressed where the browser accepts it, and the hashed
ones are kept by browsers for good (the hub in process; the files `make web` built)."""

from __future__ import annotations

import gzip
from pathlib import Path

import httpx
import pytest

from collabd.api.assets import IMMUTABLE, accepted
from collabd.api.web import STATIC
from tests.support.inproc import InProcHub

BROWSER = "gzip, deflate, br, zstd"  # what Chromium sends


def main_chunk() -> Path:
    """The largest script the build wrote (the page's main chunk, ~1 MB)."""
    chunks = sorted((STATIC / "assets").glob("*.js"), key=lambda p: p.stat().st_size)
    assert chunks, "the web client is not built (make web)"
    return chunks[-1]


def fetch(app: InProcHub, path: str, **headers: str) -> tuple[httpx.Response, bytes]:
    """The response and its body as sent (not decoded)."""
    with app.client.stream("GET", path, headers=headers) as response:
        return response, b"".join(response.iter_raw())


def test_accept_encoding_is_read_as_http_says() -> None:
    assert {"br", "gzip"} <= accepted(BROWSER)
    assert accepted("br;q=0, gzip;q=0.5") == {"gzip"}
    assert accepted(" GZIP ; Q=1 ") == {"gzip"}
    assert {"br", "gzip"} <= accepted("*")
    assert accepted("br;q=nonsense") == set()
    assert accepted("") == set()


def test_the_main_chunk_goes_out_as_brotli_and_is_kept_for_good(app: InProcHub) -> None:
    chunk = main_chunk()
    whole = chunk.read_bytes()
    response, raw = fetch(app, f"/static/assets/{chunk.name}", **{"Accept-Encoding": BROWSER})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "br"
    assert raw == chunk.with_name(chunk.name + ".br").read_bytes()
    assert len(raw) < len(whole) / 3
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["vary"] == "Accept-Encoding"
    assert response.headers["cache-control"] == IMMUTABLE
    # asked again with what it got: not sent again
    again, body = fetch(
        app,
        f"/static/assets/{chunk.name}",
        **{"Accept-Encoding": BROWSER, "If-None-Match": response.headers["etag"]},
    )
    assert again.status_code == 304 and body == b""


def test_gzip_is_the_file_and_a_client_without_encodings_gets_it_plain(app: InProcHub) -> None:
    chunk = main_chunk()
    whole = chunk.read_bytes()
    response, raw = fetch(app, f"/static/assets/{chunk.name}", **{"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert gzip.decompress(raw) == whole
    for headers in (
        {"Accept-Encoding": "identity"},
        {"Accept-Encoding": BROWSER, "Range": "bytes=0-"},
    ):
        plain, raw = fetch(app, f"/static/assets/{chunk.name}", **headers)
        assert "content-encoding" not in plain.headers
        assert raw == whole
    # the gzip copy and the file are different representations: their ETags differ
    assert response.headers["etag"] != plain.headers["etag"]


@pytest.mark.parametrize("path", ["/", "/s/some-session"])
def test_the_page_itself_is_asked_for_again_each_time(app: InProcHub, path: str) -> None:
    # a new build's page names new chunks: the page may never be kept
    response = app.client.get(path)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache"
