"""The player's seek as a person sees it: in Chromium, from asking for a moment to the page
showing it, on a long recording.

Writes a recording of `--updates` updates (`recording_bench.generate`, the `--pattern` given,
snapshots taken as the hub's defaults take them) into a new store, starts `collabd serve` on it,
opens the replay page in headless Chromium (Debian's, driven by Playwright; never downloaded)
and seeks it, through the page's own `window.collabd.replay.seek`, to moments in turn at the
start, middle and end. Each such seek is *cold*: the moments are further apart than the window
the player fetches, so each one asks the hub for a new window (`base=parts`: the snapshot and
the updates after it), applies it to a new document and draws the notebook again. A *near* seek
follows each (1 s of recorded time later: the updates in between applied to the document
shown). Times are the page's own (`performance.now()`), to two animation frames after the seek
resolved (the notebook drawn).

    .venv/bin/python bench/player_seek.py [--updates 200000] [--pattern random] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))

from recording_bench import T0, generate
from web_open import CHROMIUM_ARGS, serving

from collabd import notebook
from collabd.settings import Settings
from collabd.store import SessionRecord, SQLiteStore

TOKEN = "bench-" + "p" * 40
VIEW = "v" * 43
SEEK = """async (t) => {
  const started = performance.now()
  await window.collabd.replay.seek(t)
  const sought = performance.now()
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))
  return [sought - started, performance.now() - started]
}"""
READY = "() => document.body.dataset.ready === 'true' && window.collabd && window.collabd.replay"


def recorded(data: Path, root: Path, updates: int, pattern: str) -> tuple[SessionRecord, float]:
    store = SQLiteStore(data / "collabd.sqlite3")
    record = SessionRecord("playerbench", "long.ipynb", "e" * 43, VIEW, T0)
    store.add_session(record)
    end = generate(store, record.id, updates, Settings().snapshot_every, pattern)
    store.close()
    (root / record.path).write_text(notebook.to_text(notebook.empty_notebook()))
    return record, end


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--updates", type=int, default=200_000)
    parser.add_argument("--pattern", default="random", choices=["random", "typing"])
    parser.add_argument("--rounds", type=int, default=3, help="cold seeks per region")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root, data = Path(tmp) / "root", Path(tmp) / "data"
        root.mkdir()
        data.mkdir(mode=0o700)
        record, end = recorded(data, root, args.updates, args.pattern)
        span = end - T0
        regions = {"start": T0 + 1, "middle": T0 + span * 0.5, "end": end - 1}
        times: dict[str, list[float]] = {f"{r} {k}": [] for r in regions for k in ("cold", "near")}
        drawn: dict[str, list[float]] = {k: [] for k in times}
        with serving(root, data, TOKEN) as base, sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=args.chromium, headless=True, args=CHROMIUM_ARGS
            )
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(f"{base}/s/{record.id}/replay#token={VIEW}")
            page.wait_for_function(READY, timeout=300_000)
            for i in range(args.rounds):
                for name, t in regions.items():
                    t = min(end, t + i * 0.37)  # another moment each round, still cold
                    for kind, moment in (("cold", t), ("near", min(end, t + 1))):
                        sought, shown = page.evaluate(SEEK, moment)
                        print(f"{name} {kind}: {sought:.0f} ms", file=sys.stderr)
                        times[f"{name} {kind}"].append(sought)
                        drawn[f"{name} {kind}"].append(shown)
            browser.close()
    print(f"player_seek: {args.pattern}, {args.updates:,} updates, {args.rounds} rounds")
    print(f"{'seek':14} {'p50 ms':>8} {'max ms':>8} {'drawn p50':>10} {'drawn max':>10}")
    for key, values in times.items():
        shown = drawn[key]
        print(
            f"{key:14} {statistics.median(values):8.0f} {max(values):8.0f}"
            f" {statistics.median(shown):10.0f} {max(shown):10.0f}"
        )


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"({time.perf_counter() - started:.0f} s)")
