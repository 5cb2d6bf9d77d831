"""Checkpoints: the session's notebook committed into the git repository it lives in.

Only that one file is committed, with the `git` command (never a shell), with a message that
says what changed since the last checkpoint (cells added, changed and removed, runs and their
status) and a `Co-authored-by:` trailer for everyone who edited meanwhile. Blocking: run on a
thread.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from collabd.recording.diff import NOREPLY_DOMAIN, Person
from collabd.recording.history import RunRecord

GIT_TIMEOUT_S = 60
FALLBACK_IDENTITY = ("collabd", f"collabd@{NOREPLY_DOMAIN}")


class CheckpointRefused(Exception):
    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


def git(repo: Path, *args: str, check: bool = True, stdin: str | None = None) -> str:
    """Run `git -C repo args...` and return its output; a failure raises CheckpointRefused."""
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CheckpointRefused(409, "git_failed", f"git {args[0]} failed: {exc}") from None
    if check and done.returncode != 0:
        raise CheckpointRefused(
            409, "git_failed", f"git {args[0]} failed: {done.stderr.strip()[:500]}"
        )
    return done.stdout


def repository_of(path: Path) -> Path | None:
    """The top of the git work tree holding `path`, or None."""
    try:
        done = subprocess.run(
            ["git", "-C", str(path.parent), "rev-parse", "--show-toplevel"],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    top = done.stdout.strip()
    return Path(top) if done.returncode == 0 and top else None


def committed_text(repo: Path, rel: str) -> str | None:
    """The file as HEAD has it (None: no commit yet, or the file is not in it)."""
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), "show", f"HEAD:{rel}"],
            capture_output=True,
            timeout=GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.decode("utf-8", errors="replace") if done.returncode == 0 else None


@dataclass(frozen=True, slots=True)
class Plan:
    repo: Path
    rel: str  # the file, relative to the repository (forward slashes)


def plan(path: Path) -> Plan:
    """Where the checkpoint goes; 409 not_a_repository when the file is in none."""
    repo = repository_of(path)
    if repo is None:
        raise CheckpointRefused(
            409, "not_a_repository", f"{path.name} is not inside a git repository"
        )
    try:
        rel = path.resolve().relative_to(repo.resolve()).as_posix()
    except ValueError:
        raise CheckpointRefused(
            409, "not_a_repository", f"{path.name} is outside the repository at {repo}"
        ) from None
    return Plan(repo, rel)


def check_outside_changes(p: Plan, on_disk: str | None, hub_saved: str | None) -> None:
    """Refuse (409 outside_changes) when the file differs from HEAD by something the hub did not
    write: its text is neither what HEAD has nor what the hub last saved."""
    if on_disk is None or on_disk == hub_saved:
        return
    if on_disk == committed_text(p.repo, p.rel):
        return
    raise CheckpointRefused(
        409,
        "outside_changes",
        f"{p.rel} has uncommitted changes that collabd did not write (edited outside the "
        "session since its last save): commit or discard them first; nothing was committed",
    )


def commit(p: Plan, message: str) -> str:
    """Commit that one file (whatever else is staged stays staged) and return the commit id."""
    if committed_text(p.repo, p.rel) is None:
        git(p.repo, "add", "--", p.rel)  # new to git: `commit -- path` needs it known
    identity: list[str] = []
    if not git(p.repo, "config", "user.email", check=False).strip():
        name, email = FALLBACK_IDENTITY
        identity = ["-c", f"user.name={name}", "-c", f"user.email={email}"]
    git(p.repo, *identity, "commit", "--quiet", "--only", "-F", "-", "--", p.rel, stdin=message)
    return git(p.repo, "rev-parse", "HEAD").strip()


def message(
    subject: str | None,
    changes: dict[str, Any],
    runs: list[RunRecord],
    authors: list[Person],
) -> str:
    """The commit message: a subject (the one given, else a summary), what changed cell by cell,
    the runs, and a Co-authored-by trailer per author."""
    counts = [
        f"{len(changes[kind])} cell{'s' if len(changes[kind]) != 1 else ''} {kind}"
        for kind in ("changed", "added", "removed")
        if changes[kind]
    ]
    statuses: dict[str, int] = {}
    for run in runs:
        statuses[run.status] = statuses.get(run.status, 0) + 1
    run_line = ""
    if runs:
        detail = ", ".join(f"{n} {status}" for status, n in sorted(statuses.items()))
        run_line = f"{len(runs)} run{'s' if len(runs) != 1 else ''} ({detail})"
    summary = ", ".join(counts + ([run_line] if run_line else [])) or "no cell changes"
    lines = [(subject or "").strip() or f"Checkpoint: {summary}", ""]
    for kind in ("added", "changed", "removed"):
        for cell in changes[kind]:
            first = next((ln for ln in str(cell.get("source", "")).splitlines() if ln.strip()), "")
            what = f" ({', '.join(cell['fields'])})" if cell.get("fields") else ""
            lines.append(f"- {kind} {cell.get('cell_type')} {_cell_name(kind, cell)}{what}: "
                         f"{first[:60]!r}")  # fmt: skip
    if run_line:
        lines.append(f"- {run_line}")
    if subject and summary:
        lines.append(f"- {summary}")
    trailers = [person.trailer() for person in authors]
    if trailers:
        lines += ["", *trailers]
    return "\n".join(lines).rstrip() + "\n"


def _cell_name(kind: str, cell: dict[str, Any]) -> str:
    """As people count cells: by position (in the new notebook; a removed one where it was)."""
    index = cell.get("index")
    if not isinstance(index, int):
        return f"cell {cell.get('id')}"
    return f"cell {index + 1}" + (" (where it was)" if kind == "removed" else "")
