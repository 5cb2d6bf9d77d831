"""What another participant's cursor costs a page showing a long notebook.

Starts `collabd serve` as `web_open.py` does, writes an N-cell notebook and opens it in two
Chromium pages (Debian's, headless). Ada moves her cursor `--moves` times in one cell; each move is
a presence change at Ben's page. Ben's page is read through Chromium's DevTools `Performance`
metrics before and after: style recalculation and layout time, and counts, per move. Needs the
web client built (`make web`).

    .venv/bin/python bench/web_presence.py [--cells 1000] [--moves 40]
"""

from __future__ import annotations

import argparse

from playwright.sync_api import Page, sync_playwright
from web_open import CHROMIUM_ARGS, READY, big_notebook_served

METRICS = ("RecalcStyleDuration", "RecalcStyleCount", "LayoutDuration", "LayoutCount")


def opened(browser: object, url: str, name: str) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
    context.add_init_script(
        f"try {{ localStorage.setItem('collabd.name', '{name}') }} catch (e) {{}}"
    )
    page: Page = context.new_page()
    page.goto(url)
    page.wait_for_function(READY, polling="raf", timeout=120_000)
    return page


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cells", type=int, default=1000)
    parser.add_argument("--moves", type=int, default=40)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    with big_notebook_served(args.cells) as url, sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=args.chromium, headless=True, args=CHROMIUM_ARGS
        )
        ada, ben = opened(browser, url, "Ada"), opened(browser, url, "Ben")
        cdp = ben.context.new_cdp_session(ben)
        cdp.send("Performance.enable")
        ada.locator(".cells > .cell").nth(1).locator(".cell-editor").click()
        ada.keyboard.press("Control+End")
        ben.wait_for_timeout(1000)

        def metrics() -> dict[str, float]:
            got = cdp.send("Performance.getMetrics")["metrics"]
            return {m["name"]: float(m["value"]) for m in got if m["name"] in METRICS}

        before = metrics()
        for i in range(args.moves):
            ada.keyboard.press("ArrowLeft" if i % 2 == 0 else "ArrowRight")
            ada.wait_for_timeout(100)
        ben.wait_for_timeout(500)
        after = metrics()
        browser.close()
    print(f"web_presence: {args.cells} cells, {args.moves} cursor moves by another participant")
    for name in METRICS:
        delta = after[name] - before[name]
        per = delta / args.moves * (1000 if name.endswith("Duration") else 1)
        unit = "ms" if name.endswith("Duration") else ""
        print(f"{name:22} per move {per:8.2f} {unit}")


if __name__ == "__main__":
    main()
