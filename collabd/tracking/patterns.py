"""Which variables are metrics, and the notebook's tracking settings (pure).

A pattern is a Python name where `*` stands for any run of name characters and `?` for one
(`*_score` matches `f1_score` and `val_score`); matching ignores case and never takes names that
start with `_` (IPython's own `_`, `_i3`, `_12`). The settings travel with the file in the
notebook's metadata: `metadata.collabd_tracking = {"metrics": [...], "enabled": bool}`; absent
keys mean the defaults.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

METADATA_KEY = "collabd_tracking"
DEFAULT_METRICS: tuple[str, ...] = (
    "accuracy", "acc", "loss", "val_loss", "f1", "auc", "precision", "recall", "rmse", "mae",
    "r2", "*_score", "*_acc", "*_loss",
)  # fmt: skip
MAX_PATTERNS = 100
_PATTERN = re.compile(r"[A-Za-z0-9_*?]{1,64}")


class BadPatterns(ValueError):
    """Metric patterns that are not a list of name patterns."""


def validate(value: Any) -> tuple[str, ...]:
    """A list of patterns as given by a client, checked; duplicates dropped, order kept."""
    if not isinstance(value, list):
        raise BadPatterns('metrics must be a list of name patterns such as "loss" or "*_acc"')
    if len(value) > MAX_PATTERNS:
        raise BadPatterns(f"at most {MAX_PATTERNS} metric patterns")
    found: dict[str, None] = {}
    for item in value:
        if not isinstance(item, str) or not _PATTERN.fullmatch(item) or item.strip("*?") == "":
            raise BadPatterns(
                f"{item!r} is not a metric pattern: letters, digits, _ and the wildcards * and ?"
                " (at most 64 characters, not only wildcards)"
            )
        found[item] = None
    return tuple(found)


def to_regex(patterns: Iterable[str]) -> str:
    """One regular expression (to be matched whole, ignoring case) for all the patterns; ""
    when there are none."""
    parts = []
    for pattern in patterns:
        part = "".join(
            "[A-Za-z0-9_]*" if c == "*" else "[A-Za-z0-9_]" if c == "?" else re.escape(c)
            for c in pattern
        )
        parts.append(part)
    return "|".join(parts)


def split(
    patterns: Iterable[str],
) -> tuple[frozenset[str], tuple[str, ...], tuple[str, ...], str]:
    """The patterns as the kernel checks them quickly, all lower case: exact names, `*suffix`
    and `prefix*` ones (a string test each), and a regex for the rest ("" if none)."""
    return _split(tuple(patterns))


@functools.lru_cache(maxsize=16)  # the same few sets of patterns, split before every run
def _split(
    patterns: tuple[str, ...],
) -> tuple[frozenset[str], tuple[str, ...], tuple[str, ...], str]:
    exact: set[str] = set()
    suffixes: list[str] = []
    prefixes: list[str] = []
    rest: list[str] = []
    for pattern in patterns:
        low = pattern.lower()
        if "*" not in low and "?" not in low:
            exact.add(low)
        elif low.startswith("*") and not any(c in low[1:] for c in "*?"):
            suffixes.append(low[1:])
        elif low.endswith("*") and not any(c in low[:-1] for c in "*?"):
            prefixes.append(low[:-1])
        else:
            rest.append(pattern)
    return frozenset(exact), tuple(suffixes), tuple(prefixes), to_regex(rest)


def matches(name: str, patterns: Iterable[str]) -> bool:
    regex = to_regex(patterns)
    return bool(regex) and not name.startswith("_") and re.fullmatch(regex, name, re.I) is not None


@dataclass(frozen=True, slots=True)
class TrackingSettings:
    metrics: tuple[str, ...] = DEFAULT_METRICS
    enabled: bool = True
    default_metrics: bool = True  # the notebook does not say: the defaults apply

    def to_json(self) -> dict[str, Any]:
        return {
            "metrics": list(self.metrics),
            "enabled": self.enabled,
            "default_metrics": self.default_metrics,
        }


def settings_from(metadata_value: Any) -> TrackingSettings:
    """The settings a notebook's `metadata.collabd_tracking` holds; anything unreadable in it
    is left at its default (the file may have been edited by hand)."""
    if not isinstance(metadata_value, Mapping):
        return TrackingSettings()
    metrics, default = DEFAULT_METRICS, True
    if "metrics" in metadata_value:
        with contextlib.suppress(BadPatterns, TypeError):
            metrics, default = validate(metadata_value["metrics"]), False
    enabled = metadata_value.get("enabled", True)
    return TrackingSettings(metrics, enabled if isinstance(enabled, bool) else True, default)


def metadata_with(metadata_value: Any, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The new `metadata.collabd_tracking` after `changes` (checked by the caller); a `metrics`
    of None removes the key, so the defaults apply again. Other keys are kept."""
    value = dict(metadata_value) if isinstance(metadata_value, Mapping) else {}
    for key, new in changes.items():
        if new is None:
            value.pop(key, None)
        else:
            value[key] = list(new) if isinstance(new, tuple) else new
    return value
