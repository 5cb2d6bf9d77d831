"""The web client: its pages and built assets, with headers that keep kernel output contained."""

from __future__ import annotations

from html import escape
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route

from collabd.api.assets import BuiltAssets

STATIC = Path(__file__).parent.parent / "static"

# Kernel HTML is shown in sandboxed iframes; the page itself runs only its own scripts.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self' ws: wss:; "
        "frame-src 'self' blob: data:; object-src 'none'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'self'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


# The document each kernel HTML output runs in (the page posts the HTML in, /static/frame.js writes
# it). Its own CSP lets that HTML's scripts run, inline or from anywhere, as in Jupyter; its CSP
# sandbox (as the iframe's) keeps its origin opaque: no way to the page, its storage or token.
FRAME_HEADERS = {
    "Content-Security-Policy": (
        "sandbox allow-scripts allow-popups; default-src 'self' data: blob: https:; "
        "script-src 'self' 'unsafe-inline' 'unsafe-eval' data: blob: https:; "
        "style-src 'self' 'unsafe-inline' data: blob: https:; object-src 'none'; "
        "frame-ancestors 'self'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}
FRAME = '<!doctype html><meta charset="utf-8"><script src="{prefix}/static/frame.js"></script>'


def prefix_of(request: Request) -> str:
    """The path collabd is served under ("" or "/services/collabd"): where the app is mounted."""
    return str(request.scope.get("root_path", "")).rstrip("/")


async def frame(request: Request) -> Response:
    return HTMLResponse(FRAME.format(prefix=prefix_of(request)), headers=FRAME_HEADERS)


def page_html(built: str, prefix: str) -> str:
    """The built page for collabd served under `prefix`: its assets (built relative, `./assets/`)
    under `{prefix}/static/`, and the prefix in a meta tag for the page's API and websocket
    addresses."""
    html = built.replace('"./assets/', f'"{prefix}/static/assets/')
    meta = f'<meta name="collabd-base" content="{escape(prefix, quote=True)}" />'
    return html.replace("<head>", f"<head>\n    {meta}", 1)


async def page(request: Request) -> Response:
    index = STATIC / "index.html"
    if not index.is_file():
        return JSONResponse(
            {
                "error": "web_client_missing",
                "detail": "the web client is not built: run `npm ci && npm run build` in web/",
            },
            status_code=503,
        )
    html = page_html(index.read_text(encoding="utf-8"), prefix_of(request))
    return HTMLResponse(html, headers=PAGE_HEADERS)


live_pages = [Route("/", page), Route("/s/{session_id}", page)]
replay_pages = [Route("/s/{session_id}/replay", page)]
assets = [
    Route("/frame", frame),
    Mount("/static", app=BuiltAssets(directory=STATIC, check_dir=False), name="static"),
]
