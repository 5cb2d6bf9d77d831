"""What the kernel says, written into a code cell of the shared document (sans I/O).

`apply` takes one iopub message (type and content) and changes the cell the way Jupyter's
output area would: a stream is appended to the last output when that is a stream of the same
name (its `text` is a Y.Text, so only the new characters travel), display data is added and can
later be replaced through its display id, `clear_output(wait=True)` clears at the next output.
The caller opens the transaction; `Pending` lets it batch many messages into one.

Outputs follow jupyter_ydoc's schema: `cell["outputs"]` is a Y.Array of Y.Map outputs. Each cell
has an output budget (bytes): what passes it is dropped and a visible notice says so.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pycrdt import Array, Doc, Map, Text

from collabd.notebook import find_cell

Content = dict[str, Any]
OUTPUT_TYPES = frozenset({"stream", "display_data", "execute_result", "error"})
HANDLED = OUTPUT_TYPES | {"update_display_data", "clear_output", "execute_input"}
SUMMARY_CHARS = 2048
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _no_names(_: str) -> str | None:
    return None


@dataclass
class CellOutputs:
    """One run's bookkeeping for the cell it writes to."""

    cell_id: str
    limit: int
    size: int = 0
    truncated: bool = False
    clear_pending: bool = False
    summary: str = ""
    # a widget model id -> its model name ("IntSliderModel"), when the hub knows that model
    widget_name: Callable[[str], str | None] = _no_names

    def note(self, text: str) -> None:
        if len(self.summary) < SUMMARY_CHARS:
            self.summary = (self.summary + text)[:SUMMARY_CHARS]


@dataclass
class Displays:
    """display_id -> (cell id, output index) of every output shown with that id."""

    shown: defaultdict[str, list[tuple[str, int]]] = field(
        default_factory=lambda: defaultdict(list)
    )

    def add(self, display_id: str, cell_id: str, index: int) -> None:
        self.shown[display_id].append((cell_id, index))

    def forget_cell(self, cell_id: str) -> None:
        for display_id in list(self.shown):
            kept = [(c, i) for c, i in self.shown[display_id] if c != cell_id]
            if kept:
                self.shown[display_id] = kept
            else:
                del self.shown[display_id]


def apply(
    doc: Doc[Any], msg_type: str, content: Content, out: CellOutputs, displays: Displays
) -> None:
    """Apply one iopub message to `out.cell_id`; call inside a transaction."""
    if msg_type == "update_display_data":
        _update_display(doc, content, displays)
        return
    found = find_cell(doc, out.cell_id)
    if found is None:
        return  # the cell was deleted while it ran
    ycell = found[1]
    if msg_type == "execute_input":
        ycell["execution_count"] = content.get("execution_count")
    elif msg_type == "clear_output":
        if content.get("wait"):
            out.clear_pending = True
        else:
            _clear(ycell, out, displays)
    elif msg_type in OUTPUT_TYPES:
        if out.clear_pending:
            _clear(ycell, out, displays)
        _ADD[msg_type](ycell, content, out, displays)


def clear(doc: Doc[Any], out: CellOutputs, displays: Displays) -> None:
    """Empty the cell's outputs (a new run starts)."""
    found = find_cell(doc, out.cell_id)
    if found is not None:
        _clear(found[1], out, displays)
        found[1]["execution_count"] = None


def add_error(doc: Doc[Any], out: CellOutputs, ename: str, evalue: str) -> None:
    """An error of the hub's own (kernel died, input timed out) on the cell."""
    found = find_cell(doc, out.cell_id)
    if found is not None:
        content = {"ename": ename, "evalue": evalue, "traceback": [f"{ename}: {evalue}"]}
        _add_error(found[1], content, out, Displays())


def notice_text(limit: int) -> str:
    return (
        f"[collabd] Output truncated: this cell's output passed the limit of {limit:,} bytes; "
        "the rest was not kept. Write large results to a file instead."
    )


def outputs_of(ycell: Map[Any]) -> Array[Any]:
    youtputs = ycell.get("outputs")
    if not isinstance(youtputs, Array):
        youtputs = ycell["outputs"] = Array()
    return youtputs


# adding outputs


def _add_stream(ycell: Map[Any], content: Content, out: CellOutputs, _: Displays) -> None:
    name = str(content.get("name", "stdout"))
    text = _within_budget(out, str(content.get("text", "")))
    if text is None:
        return
    if text:
        out.note(text)
        youtputs = outputs_of(ycell)
        last = youtputs[-1] if len(youtputs) else None
        if last is not None and _is_stream(last, name):
            ytext = last["text"]
            ytext.insert(len(ytext), text)
        else:
            output = {"output_type": "stream", "name": name, "text": Text(text)}
            youtputs.append(Map(output))
    if out.truncated:
        _add_notice(ycell, out)


def _add_data(ycell: Map[Any], content: Content, out: CellOutputs, displays: Displays) -> None:
    data, metadata = dict(content.get("data") or {}), dict(content.get("metadata") or {})
    if out.truncated:
        return
    size = len(json.dumps(data, separators=(",", ":")))
    if out.size + size > out.limit:
        out.truncated = True
        _add_notice(ycell, out)
        return
    out.size += size
    out.note(data_summary(data, out.widget_name))
    output: Content = {"output_type": "display_data", "data": data, "metadata": metadata}
    if "execution_count" in content:  # an execute_result
        output = {"output_type": "execute_result", "execution_count": content["execution_count"]}
        output.update(data=data, metadata=metadata)
        ycell["execution_count"] = content["execution_count"]
    youtputs = outputs_of(ycell)
    youtputs.append(Map(output))
    display_id = (content.get("transient") or {}).get("display_id")
    if display_id:
        displays.add(str(display_id), out.cell_id, len(youtputs) - 1)


def data_summary(data: Content, widget_name: Callable[[str], str | None] = _no_names) -> str:
    """A display's line in the run history. A widget is named as one: its text/plain is only
    the kernel's stand-in ("IntSlider(value=3)", a progress bar's "0%| | 0/20")."""
    view = data.get(WIDGET_VIEW)
    if isinstance(view, dict):
        model_id = view.get("model_id")
        name = widget_name(model_id) if isinstance(model_id, str) else None
        return f"widget: {name.removesuffix('Model') or name}\n" if name else "widget\n"
    return str(data.get("text/plain", ""))


def _add_error(ycell: Map[Any], content: Content, out: CellOutputs, _: Displays) -> None:
    traceback = [str(line) for line in content.get("traceback") or []]
    if sum(len(line) for line in traceback) > out.limit:
        traceback = [*traceback[:5], "[collabd] ... traceback shortened ...", *traceback[-5:]]
    ename, evalue = str(content.get("ename", "Error")), str(content.get("evalue", ""))
    out.note(f"{ename}: {evalue}\n")
    output = {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": traceback}
    outputs_of(ycell).append(Map(output))


_ADD = {
    "stream": _add_stream,
    "display_data": _add_data,
    "execute_result": _add_data,
    "error": _add_error,
}


def _within_budget(out: CellOutputs, text: str) -> str | None:
    """The part of `text` that fits the cell's budget (None once it is used up)."""
    if out.truncated:
        return None
    raw = text.encode("utf-8", "surrogatepass")
    room = out.limit - out.size
    if len(raw) <= room:
        out.size += len(raw)
        return text
    out.truncated = True
    out.size = out.limit
    return raw[: max(room, 0)].decode("utf-8", "ignore")


def _add_notice(ycell: Map[Any], out: CellOutputs) -> None:
    text = notice_text(out.limit)
    out.note(f"\n{text}\n")
    output = {
        "output_type": "display_data",
        "data": {"text/plain": text},
        "metadata": {"collabd": {"truncated": True}},
    }
    outputs_of(ycell).append(Map(output))


def _is_stream(output: Any, name: str) -> bool:
    return (
        isinstance(output, Map)
        and output.get("output_type") == "stream"
        and output.get("name") == name
        and isinstance(output.get("text"), Text)
    )


def _clear(ycell: Map[Any], out: CellOutputs, displays: Displays) -> None:
    outputs_of(ycell).clear()
    out.size, out.truncated, out.clear_pending = 0, False, False
    displays.forget_cell(out.cell_id)


def _update_display(doc: Doc[Any], content: Content, displays: Displays) -> None:
    display_id = (content.get("transient") or {}).get("display_id")
    for cell_id, index in displays.shown.get(str(display_id), []):
        found = find_cell(doc, cell_id)
        youtputs = outputs_of(found[1]) if found else None
        if youtputs is None or index >= len(youtputs):
            continue
        output = youtputs[index]
        if isinstance(output, Map) and output.get("output_type") in (
            "display_data",
            "execute_result",
        ):
            output["data"] = dict(content.get("data") or {})
            output["metadata"] = dict(content.get("metadata") or {})


class Pending:
    """Messages waiting for the next write, merged so a flood becomes a few transactions.

    Adjacent stream chunks of one name are joined; outputs that a later `clear_output` would
    wipe are dropped before they are ever written (a progress bar redrawing itself stays cheap);
    stream text beyond `cap` characters per batch is dropped (it would pass the budget anyway).
    """

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._items: list[tuple[str, Content]] = []
        self._parts: dict[int, list[str]] = {}  # item index -> stream chunks not yet joined
        self._chars = 0
        self._wait_clear: int | None = None  # index of a clear_output(wait=True) still waiting

    def __bool__(self) -> bool:
        return bool(self._items)

    def add(self, msg_type: str, content: Content) -> None:
        if msg_type not in HANDLED:
            return
        if msg_type == "clear_output":
            self._add_clear(bool(content.get("wait")))
        elif msg_type in OUTPUT_TYPES:
            if self._wait_clear is not None:
                self._drop_outputs(before=self._wait_clear)
            if msg_type == "stream":
                self._add_stream(content)
            else:
                self._items.append((msg_type, content))
        else:
            self._items.append((msg_type, content))

    def take(self) -> list[tuple[str, Content]]:
        items = self._items
        for index, parts in self._parts.items():
            kind, content = items[index]
            items[index] = (kind, {**content, "text": "".join(parts)})
        self._items, self._parts, self._chars, self._wait_clear = [], {}, 0, None
        return items

    def _add_clear(self, wait: bool) -> None:
        if wait:
            self._items.append(("clear_output", {"wait": True}))
            self._wait_clear = len(self._items) - 1
            return
        self._drop_outputs(before=len(self._items))
        self._items.append(("clear_output", {"wait": False}))

    def _drop_outputs(self, before: int) -> None:
        """Everything a clear at `before` wipes goes; the clear becomes an immediate one."""
        kept: list[tuple[str, Content]] = []
        parts: dict[int, list[str]] = {}
        for index, (kind, content) in enumerate(self._items):
            if index < before and (kind in OUTPUT_TYPES or kind == "clear_output"):
                continue
            if index == before and kind == "clear_output":
                content = {"wait": False}
            if index in self._parts:
                parts[len(kept)] = self._parts[index]
            kept.append((kind, content))
        self._items, self._parts, self._wait_clear = kept, parts, None
        self._chars = sum(len(p) for ps in parts.values() for p in ps)

    def _add_stream(self, content: Content) -> None:
        text, name = str(content.get("text", "")), content.get("name")
        if self._chars >= self.cap:
            return
        text = text[: self.cap - self._chars]
        self._chars += len(text)
        last = len(self._items) - 1
        if (
            last >= 0
            and self._items[last][0] == "stream"
            and self._items[last][1].get("name") == name
        ):
            self._parts.setdefault(last, [str(self._items[last][1].get("text", ""))]).append(text)
        else:
            self._items.append(("stream", {"name": name, "text": text}))
