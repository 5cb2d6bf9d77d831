"""The command line: `collabd serve`, `collabd open PATH.ipynb`, `collabd replay FILE`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import socket
import sqlite3
import sys
import webbrowser
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import uvicorn

from collabd import __version__, auth, datadir, gctune, logformat, logredact
from collabd.api.app import create_app, create_replay_app
from collabd.api.links import links
from collabd.auth import Access
from collabd.hub import Hub
from collabd.kernel.confine import ConfinementError
from collabd.kernel.hosts import HostsError
from collabd.linktokens import LinkKeyError
from collabd.recording.file import open_recording
from collabd.serving import HubServer
from collabd.settings import Settings
from collabd.signin import SignInError

log = logging.getLogger("collabd")


def _listen(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host",
        default=None,
        help="interface to listen on (default: $COLLABD_HOST, else 127.0.0.1)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=None,
        help="port to listen on (default: $COLLABD_PORT, else 8765)",
    )
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="how much to log (default: %(default)s)",
    )


def _common(parser: argparse.ArgumentParser) -> None:
    _listen(parser)
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="where the store lives: sessions, update log, snapshots (default: $COLLABD_DATA,"
        " else ~/.local/share/collabd/<name of ROOT>-<hash>; ROOT/.collabd if a store is there)",
    )
    token = parser.add_mutually_exclusive_group()
    token.add_argument(
        "--token",
        default=None,
        help="admin token for creating sessions (default: $COLLABD_TOKEN, else a new random"
        " one, printed); visible to other users in `ps`: prefer --token-file or $COLLABD_TOKEN",
    )
    token.add_argument(
        "--token-file",
        type=Path,
        default=None,
        metavar="PATH",
        help="read the admin token from this file (its first line)",
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="postgresql://… store shared by the hubs of a cluster (default:"
        " $COLLABD_DATABASE_URL, else SQLite in --data)",
    )
    parser.add_argument(
        "--redis-url",
        default=None,
        help="redis://… relay between the hubs of a cluster; needs --database-url (default:"
        " $COLLABD_REDIS_URL, else this hub runs on its own)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="collabd",
        description="Real-time collaborative Jupyter notebooks:"
        " co-edit, one shared kernel, recorded sessions.",
        epilog="Every setting can also be given as an environment variable COLLABD_<NAME>"
        " (see README).",
    )
    parser.add_argument("--version", action="version", version=f"collabd {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser(
        "serve", help="run the hub", description="Run the hub and serve the notebooks under --root."
    )
    _common(serve)
    serve.add_argument(
        "--root",
        type=Path,
        default=None,
        help="folder whose notebooks can be shared (default: current folder)",
    )

    open_ = sub.add_parser(
        "open",
        help="serve one notebook and print its edit and view links",
        description="Serve, create a session for PATH.ipynb (created if missing), print its"
        " links and open a browser when one is available.",
    )
    open_.add_argument("path", type=Path, help="the notebook to share")
    _common(open_)
    open_.add_argument("--no-browser", action="store_true", help="do not try to open a browser")

    replay = sub.add_parser(
        "replay",
        help="serve an exported session recording, read-only",
        description="Serve a recording file (GET /api/sessions/{id}/recording/export)"
        " with its playback page; prints the replay link.",
    )
    replay.add_argument("file", type=Path, help="the recording file (.collabd)")
    _listen(replay)
    replay.add_argument(
        "--token", default=None, help="token the replay link carries (default: a new random one)"
    )
    return parser


def settings_from(args: argparse.Namespace, root: Path | None) -> Settings:
    """The settings: the options given, else COLLABD_<NAME> variables, else the defaults."""
    settings = Settings().with_env()
    settings.host = args.host or settings.host
    settings.port = args.port or settings.port
    settings.root = (root or settings.root).resolve()
    data = args.data or os.environ.get("COLLABD_DATA")
    if data is None:
        choice = datadir.choose_data(settings.root)
        data = choice.path
        if choice.warning:
            log.warning(choice.warning)
    settings.data = Path(data).resolve()
    settings.token = admin_token(args)
    if args.token_file is not None:
        settings.token_file = str(args.token_file.resolve())
    settings.database_url = args.database_url or settings.database_url
    settings.redis_url = args.redis_url or settings.redis_url
    if settings.log_format not in ("text", "json"):
        raise CliError(f"COLLABD_LOG_FORMAT must be text or json, not {settings.log_format!r}")
    return settings


def unreadable_store(path: Path, exc: Exception) -> str:
    return (
        f"the store {path} cannot be read ({exc}): it is damaged or not a collabd database."
        " Move it aside (or restore a backup) and start again, or use another --data folder"
    )


class CliError(Exception):
    """A problem with what the command was given: printed on one line, exit code 1."""


TOKEN_ON_COMMAND_LINE = (
    "collabd: warning: --token is visible to every user of this machine (ps, /proc);"
    " give it as COLLABD_TOKEN or with --token-file PATH instead"
)


def admin_token(args: argparse.Namespace) -> str | None:
    """--token, else --token-file, else $COLLABD_TOKEN, else None (one is generated)."""
    if args.token:
        print(TOKEN_ON_COMMAND_LINE, file=sys.stderr, flush=True)
        return str(args.token)
    if args.token_file is not None:
        return read_token_file(args.token_file)
    return os.environ.get("COLLABD_TOKEN") or None


def read_token_file(path: Path) -> str:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot read the token file {path}: {exc}") from None
    token = lines[0].strip() if lines else ""
    if not token:
        raise CliError(f"the token file {path} is empty")
    return token


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        if args.command == "serve":
            settings = settings_from(args, args.root)
            return serve(settings, log_level=args.log_level)
        if args.command == "open":
            return open_notebook(args)
    except CliError as exc:
        print(f"collabd: {exc}", file=sys.stderr, flush=True)
        return 1
    if args.command == "replay":
        env = Settings().with_env()
        host, port = args.host or env.host, args.port or env.port
        return replay(args.file, host=host, port=port, token=args.token, log_level=args.log_level)
    return 2


def replay(path: Path, *, host: str, port: int, token: str | None, log_level: str) -> int:
    """Serve an exported recording on its own, read-only, with its playback page."""
    file = open_recording(path)
    token = token or auth.new_token()
    app = create_replay_app(file, token)
    session = file.session
    print(f"collabd {__version__} replaying {path} ({session.path})", flush=True)
    print(f"  replay link: http://{host}:{port}/s/{session.id}/replay#token={token}", flush=True)
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, lifespan="on")
    logredact.install()  # after uvicorn.Config, which configures uvicorn's loggers
    uvicorn.Server(config).run()
    return 0


def serve(
    settings: Settings,
    *,
    log_level: str = "info",
    on_ready: Callable[[Hub], Awaitable[None]] | None = None,
) -> int:
    generated = not settings.token
    if generated:
        settings.token = auth.new_token()
    datadir.make_private(settings.data)
    try:
        app = create_app(settings)
    except sqlite3.DatabaseError as exc:
        raise CliError(unreadable_store(settings.db_path, exc)) from None
    except (HostsError, ConfinementError, LinkKeyError, SignInError) as exc:  # an operator's
        raise CliError(str(exc)) from None
    hub: Hub = app.state.hub
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=log_level,
        ws="websockets-sansio",
        ws_max_size=settings.max_message_bytes + 1024,
        ws_per_message_deflate=False,
        lifespan="on",
    )
    logredact.install()  # after uvicorn.Config, which configures uvicorn's loggers
    if settings.log_format == "json":
        logformat.use_json(hub.cluster.node if hub.cluster else socket.gethostname())
    server = HubServer(config, hub)

    async def run() -> None:
        task = asyncio.create_task(server.serve())
        while not server.started and not task.done():
            await asyncio.sleep(0.05)
        if server.started:
            gctune.settle()
            print(f"collabd {__version__} listening on {settings.base_url}", flush=True)
            print(f"  notebooks under {settings.root}, data in {settings.data}", flush=True)
            if generated:
                print(f"  admin token: {settings.token}", flush=True)
            else:
                print("  admin token: the one given (--token or COLLABD_TOKEN)", flush=True)
            if on_ready is not None:
                await on_ready(hub)
        await task

    # uvicorn re-raises the signal once it has shut down cleanly
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
    return 0 if server.started else 1


def open_notebook(args: argparse.Namespace) -> int:
    target = args.path.resolve()
    cwd = Path.cwd().resolve()
    root = cwd if target.is_relative_to(cwd) else target.parent
    settings = settings_from(args, root)

    async def announce(hub: Hub) -> None:
        record, _ = await hub.create_session(target.relative_to(root).as_posix())
        info = links(hub, record, Access.EDIT)
        print(
            f"\n  {record.path}\n  edit link (can change and run): {info['edit_url']}", flush=True
        )
        print(f"  view link (read only):          {info['view_url']}\n", flush=True)
        if not args.no_browser and sys.stdout.isatty():
            webbrowser.open(info["edit_url"])

    return serve(settings, log_level=args.log_level, on_ready=announce)


if __name__ == "__main__":
    raise SystemExit(main())
