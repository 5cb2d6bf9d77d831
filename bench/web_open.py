"""How long a big notebook takes to open in the browser and take typing.

Starts `collabd serve` on a free loopback port with a temporary root and store, writes an
N-cell notebook, creates its session and opens the edit link in headless Chromium (Debian's,
driven by Playwright; never downloaded), first with the room cold (the hub loads the .ipynb) and
then warm. Prints, per open: time from navigation to the first editable cell, split into page
load, sync with the hub and drawing the cells, and the bytes the page fetched. Needs the web
client built (`make web`).

Each open is a new browser profile (nothing cached). `--network 10,40` has Chromium's DevTools
throttle every open to 10 Mbit/s with 40 ms round trips, as on a school's Wi-Fi, and open the page
a second time in the same profile (a return visit: what the browser kept).

    .venv/bin/python bench/web_open.py [--cells 500] [--opens 3] [--network MBIT,RTT_MS]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
TOKEN = "bench-" + "x" * 32
READY = (
    "() => document.body.dataset.ready === 'true'"
    " && document.querySelector('.cm-content[contenteditable=true]')"
)
MARKS = (
    "() => Object.fromEntries(performance.getEntriesByType('mark').map(m => [m.name, m.startTime]))"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def request(base: str, path: str, body: Any) -> Any:
    req = urllib.request.Request(f"{base}{path}", data=json.dumps(body).encode(), method="POST")
    req.add_header("Authorization", f"Bearer {TOKEN}")
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read())


def wait_up(base: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("the hub exited early")
        try:
            urllib.request.urlopen(f"{base}/api/health", timeout=1).read()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the hub did not start")


@contextlib.contextmanager
def serving(root: Path, data: Path, token: str) -> Iterator[str]:
    """`collabd serve` on a free loopback port, on `root` and `data`: its base URL, until the
    block ends."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "collabd.cli", "serve", "--port", str(port),
           "--root", str(root), "--data", str(data), "--token", token]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_up(base, proc)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


# bytes over the wire for the page and everything it loaded (0 for what came from the cache)
FETCHED = (
    "() => [performance.getEntriesByType('navigation')[0],"
    " ...performance.getEntriesByType('resource')].reduce((n, e) => n + (e.transferSize || 0), 0)"
)


def visit(page: Page, url: str) -> dict[str, float]:
    page.goto(url)
    page.wait_for_function(READY, polling="raf", timeout=120_000)
    editable = float(page.evaluate("() => performance.now()"))
    nav = page.evaluate("() => performance.getEntriesByType('navigation')[0].toJSON()")
    marks = page.evaluate(MARKS)
    return {
        "editable": editable,
        "loaded": float(nav["domContentLoadedEventEnd"]),
        "sync": float(marks["collabd:synced"]) - float(marks["collabd:info"]),
        "draw": float(marks["collabd:drawn"]) - float(marks["collabd:synced"]),
        "editors": float(page.locator(".cm-editor").count()),
        "kib": float(page.evaluate(FETCHED)) / 1024,
    }


@contextlib.contextmanager
def big_notebook_served(cells: int) -> Iterator[str]:
    """A hub serving a new notebook of `cells` small code cells: its session's edit link."""
    with tempfile.TemporaryDirectory() as tmp:
        root, data = Path(tmp) / "root", Path(tmp) / "data"
        root.mkdir()
        nb = nbformat.v4.new_notebook()
        nb.cells = [
            nbformat.v4.new_code_cell(f"# cell {i}\nx{i} = {i} * 2\nprint(x{i})")
            for i in range(cells)
        ]
        nbformat.write(nb, root / "big.ipynb")
        with serving(root, data, TOKEN) as base:
            yield request(base, "/api/sessions", {"path": "big.ipynb"})["edit_url"]


def open_once(
    browser: Browser, url: str, network: tuple[float, float] | None
) -> list[dict[str, float]]:
    """One new profile's visit (two with `network`: the second a return visit)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.add_init_script("try { localStorage.setItem('collabd.name', 'bench') } catch (e) {}")
    try:
        page = context.new_page()
        if network is None:
            return [visit(page, url)]
        mbit, rtt_ms = network
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        rate = mbit * 1e6 / 8
        cdp.send(
            "Network.emulateNetworkConditions",
            {
                "offline": False,
                "latency": rtt_ms,
                "downloadThroughput": rate,
                "uploadThroughput": rate,
            },
        )
        first = visit(page, url)
        page.goto("about:blank")  # else the same URL (its #token) is not loaded again
        return [first, visit(page, url)]
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cells", type=int, default=500)
    parser.add_argument("--opens", type=int, default=3, help="warm opens after the cold one")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--network", help="MBIT,RTT_MS: throttle each open, and visit twice")
    args = parser.parse_args()
    network: tuple[float, float] | None = None
    if args.network:
        mbit, rtt_ms = args.network.split(",")
        network = float(mbit), float(rtt_ms)
    with big_notebook_served(args.cells) as url, sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=args.chromium, headless=True, args=CHROMIUM_ARGS
        )
        runs: list[tuple[str, dict[str, float]]] = []
        for i in range(args.opens + 1):
            name = "cold" if i == 0 else f"warm {i}"
            visits = open_once(browser, url, network)
            runs.append((name, visits[0]))
            runs += [(f"{name}, again", v) for v in visits[1:]]
        browser.close()
    print(f"web_open: {args.cells} cells")
    if network is not None:
        print(f"network: {network[0]:g} Mbit/s, {network[1]:g} ms round trips")
    head = ["editable ms", "page ms", "sync ms", "draw ms", "editors", "fetched KiB"]
    print(f"{'open':14} " + " ".join(f"{h:>12}" for h in head))
    for name, f in runs:
        keys = ["editable", "loaded", "sync", "draw", "editors", "kib"]
        print(f"{name:14} " + " ".join(f"{f[k]:12.0f}" for k in keys))


if __name__ == "__main__":
    main()
