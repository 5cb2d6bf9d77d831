"""The web client's wire constants (web/src/model/wire.ts) agree with the hub's
(collabd/sync/wire.py), name for name and value for value, both ways."""

from __future__ import annotations

import re
from enum import IntEnum
from pathlib import Path

import pytest

from collabd.sync import wire

WIRE_TS = Path(__file__).resolve().parents[2] / "web" / "src" / "model" / "wire.ts"
OBJECTS: list[type[IntEnum]] = [wire.Close, wire.Message, wire.SyncStep]


def ts_source() -> str:
    text = WIRE_TS.read_text(encoding="utf-8")
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)  # block comments
    return re.sub(r"//[^\n]*", "", text)  # line comments


def ts_object(name: str) -> dict[str, int]:
    """`export const NAME = { KEY: 123, ... } as const` as a dict."""
    found = re.search(rf"export const {name}\s*=\s*\{{(.*?)\}}\s*as const", ts_source(), re.S)
    assert found, f"no `export const {name} = {{...}} as const` in {WIRE_TS}"
    entries = [e.strip() for e in found.group(1).split(",") if e.strip()]
    result: dict[str, int] = {}
    for entry in entries:
        match = re.fullmatch(r"([A-Z][A-Z0-9_]*)\s*:\s*(\d+)", entry)
        assert match, f"{name}: cannot read {entry!r}"
        assert match.group(1) not in result, f"{name}.{match.group(1)} twice"
        result[match.group(1)] = int(match.group(2))
    return result


def ts_exports() -> set[str]:
    return set(re.findall(r"export const (\w+)", ts_source()))


@pytest.mark.parametrize("enum", OBJECTS, ids=lambda e: e.__name__)
def test_objects_agree(enum: type[IntEnum]) -> None:
    assert ts_object(enum.__name__) == {member.name: member.value for member in enum}


def test_fatal_closes_agree() -> None:
    found = re.search(r"export const FATAL_CLOSES[^=]*=\s*\[(.*?)\]", ts_source(), re.S)
    assert found, "no FATAL_CLOSES array in wire.ts"
    names = [n.strip() for n in found.group(1).split(",") if n.strip()]
    codes = ts_object("Close")
    for name in names:
        assert re.fullmatch(r"Close\.[A-Z_]+", name), f"FATAL_CLOSES: {name!r} is not Close.X"
    ts_fatal = [codes[name.removeprefix("Close.")] for name in names]
    assert len(ts_fatal) == len(set(ts_fatal))
    assert set(ts_fatal) == {int(code) for code in wire.FATAL_CLOSES}


def test_auth_permission_denied_agrees() -> None:
    found = re.search(r"export const AUTH_PERMISSION_DENIED\s*=\s*(\d+)", ts_source())
    assert found, "no AUTH_PERMISSION_DENIED in wire.ts"
    assert int(found.group(1)) == wire.AUTH_PERMISSION_DENIED


def test_no_name_is_missing_on_either_side() -> None:
    python = {name for name in vars(wire) if name[0].isupper() and not name.startswith("_")}
    python -= {"IntEnum"}  # imported, not a wire constant
    assert ts_exports() == python
