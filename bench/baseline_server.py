"""Baseline for bench/hub_bench.py: pycrdt-websocket 0.16.5 served by uvicorn.

The room name is the websocket path (``ws://host:port/<name>.ipynb``). On a room's first open
its document is loaded from ``<root>/<name>.ipynb`` with jupyter_ydoc's ``YNotebook.set``,
so the baseline starts from the same document as collabd does; a name with no file gets
an empty document. Everything else is stock pycrdt-websocket (no store, no auth).

    python bench/baseline_server.py --port 8766 --root /tmp/nbroot
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

import uvicorn
from jupyter_ydoc import YNotebook
from pycrdt import Doc
from pycrdt.websocket import ASGIServer, WebsocketServer, YRoom, exception_logger


class SeededWebsocketServer(WebsocketServer):
    """A WebsocketServer whose new rooms start from the matching .ipynb under ``root``."""

    def __init__(self, root: Path) -> None:
        super().__init__(auto_clean_rooms=False, exception_handler=exception_logger)
        self.root = root

    async def get_room(self, name: str) -> YRoom:
        if name not in self.rooms:
            self.rooms[name] = YRoom(
                ready=True,
                exception_handler=self.exception_handler,
                log=self.log,
                ydoc=self._load(name),
            )
        room: YRoom = self.rooms[name]
        await self.start_room(room)
        return room

    def _load(self, name: str) -> Doc[Any]:
        doc: Doc[Any] = Doc()
        path = (self.root / name.lstrip("/")).resolve()
        if path.is_relative_to(self.root) and path.is_file():
            YNotebook(doc).set(json.loads(path.read_text()))
        return doc


def build_app(root: Path) -> tuple[SeededWebsocketServer, ASGIServer]:
    server = SeededWebsocketServer(root.resolve())
    return server, ASGIServer(server)


async def serve(host: str, port: int, root: Path, ws: str) -> None:
    server, app = build_app(root)
    config = uvicorn.Config(app, host=host, port=port, ws=ws, log_level="warning", lifespan="off")
    async with server:
        await uvicorn.Server(config).serve()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--root", type=Path, required=True, help="directory of .ipynb rooms")
    parser.add_argument("--ws", default="auto", help="uvicorn websocket implementation")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    import asyncio

    asyncio.run(serve(args.host, args.port, args.root, args.ws))


if __name__ == "__main__":
    main()
