"""The web client's built files, sent compressed and kept by browsers.

The build writes a Brotli and a gzip copy beside each text asset (`web/plugins/precompress.ts`):
the page's main chunk is ~1 MB of JavaScript and ~265 KB as Brotli, compressed once at the
highest level instead of on every request, on the event loop. A browser that accepts an
encoding gets that copy (`Content-Encoding`, `Vary: Accept-Encoding`, its own ETag); a range
request, or an asset without a copy, gets the file itself.

The build names every file under `assets/` by a hash of its content, so a browser may keep them
for a year without asking again (`immutable`); a new build has new names. Anything else is
revalidated as before.
"""

from __future__ import annotations

import os
from mimetypes import guess_type
from pathlib import PurePath

from starlette.datastructures import Headers
from starlette.responses import FileResponse, Response
from starlette.staticfiles import NotModifiedResponse, PathLike, StaticFiles
from starlette.types import Scope

# preferred first: Brotli is ~16 % smaller than gzip on our chunks
ENCODINGS = (("br", ".br"), ("gzip", ".gz"))
IMMUTABLE = "public, max-age=31536000, immutable"
HASHED_DIR = "assets"


def accepted(header: str) -> set[str]:
    """The content codings an `Accept-Encoding` header allows (`q=0` refuses one)."""
    codings = set()
    for part in header.split(","):
        name, _, params = part.strip().partition(";")
        name = name.strip().lower()
        if not name:
            continue
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > 0:
            codings.add(name)
    if "*" in codings:
        codings.update(coding for coding, _ in ENCODINGS)
    return codings


class BuiltAssets(StaticFiles):
    def file_response(
        self,
        full_path: PathLike,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        request_headers = Headers(scope=scope)
        base = str(full_path)
        path, stat, coding = base, stat_result, None
        # a range is of the file itself (browsers ask for none of these)
        wanted = (
            set()
            if "range" in request_headers
            else accepted(request_headers.get("accept-encoding", ""))
        )
        variants = False
        for name, suffix in ENCODINGS:
            try:
                found = os.stat(base + suffix)
            except OSError:
                continue
            variants = True
            if name in wanted:  # the first the browser takes, in our order: no more to look at
                path, stat, coding = base + suffix, found, name
                break
        # the type of the file itself, not of its compressed copy
        media_type = guess_type(base)[0] or "text/plain"
        response = FileResponse(path, status_code, stat_result=stat, media_type=media_type)
        if coding is not None:
            response.headers["content-encoding"] = coding
        if variants:
            response.headers["vary"] = "Accept-Encoding"
        if PurePath(full_path).parent.name == HASHED_DIR:
            response.headers["cache-control"] = IMMUTABLE
        if self.is_not_modified(response.headers, request_headers):
            return NotModifiedResponse(response.headers)
        return response
