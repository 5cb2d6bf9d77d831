"""Notebook paths under the served root: what may be opened, and where it lives."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

# What file systems take (NAME_MAX, and well under PATH_MAX): past it the OS raises, not us.
MAX_NAME_BYTES = 255
MAX_PATH_BYTES = 1024


class BadPath(ValueError):
    """The path is outside the root or is not a notebook."""


def normalize(root: Path, rel: object) -> tuple[str, Path]:
    """Check a client-given path; return its normalized relative form and the real file path."""
    if not isinstance(rel, str) or not rel.strip():
        raise BadPath("path must be a non-empty string")
    if "\x00" in rel or "\\" in rel:
        raise BadPath("path contains a forbidden character")
    try:
        rel.encode("utf-8")  # a lone surrogate ("\ud800") cannot name a file
    except UnicodeEncodeError:
        raise BadPath("path is not valid Unicode") from None
    pure = PurePosixPath(rel)
    if any(len(part.encode()) > MAX_NAME_BYTES for part in pure.parts):
        raise BadPath(f"a file or folder name is over {MAX_NAME_BYTES} bytes")
    if len(rel.encode()) > MAX_PATH_BYTES:
        raise BadPath(f"path is over {MAX_PATH_BYTES} bytes")
    if pure.is_absolute() or ".." in pure.parts:
        raise BadPath("path must be relative to the root and stay inside it")
    if pure.suffix != ".ipynb":
        raise BadPath("path must name a .ipynb notebook")
    base = root.resolve()
    full = (base / pure).resolve()
    if not full.is_relative_to(base):
        raise BadPath("path leaves the root (through a link)")
    if full.exists() and not full.is_file():
        raise BadPath("path is not a file")
    return full.relative_to(base).as_posix(), full
