"""The hub as the kernel's widget peer: every widget model's state, sans I/O.

ipywidgets (message protocol 2) opens one comm per model with target `jupyter.widget`; its
`comm_open` carries the full state, each `update` / `echo_update` part of it, `comm_close` ends
it. Binary values travel as message buffers, named by `buffer_paths`. `WidgetModels` keeps each
model's state (buffers apart, by path), turns editors' changes into the comm messages to send,
captures the outputs an `Output` widget asks for (JupyterLab does the same: outputs whose parent
is the widget's `msg_id` go into its `outputs`, not into the cell), and says which models
changed since the last write (`take_dirty`), so a flood of updates becomes one document write.

Limits: at most `max_models` models, each at most `max_state_bytes` (JSON state plus buffers);
past them a model keeps its last good state and `problems` says why.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from collabd.kernel.base import KernelMessage
from collabd.widgetstate import Entry

TARGET = "jupyter.widget"
CONTROL_TARGET = "jupyter.widget.control"
CONTROL_VERSION = "1.0.0"
OUTPUT_MODEL = ("OutputModel", "@jupyter-widgets/output")
CAPTURED = frozenset({"stream", "display_data", "execute_result", "error", "clear_output"})
COMM_TYPES = frozenset({"comm_open", "comm_msg", "comm_close"})
EMPTY_OUTPUTS = len('"outputs":[]')
MODEL_REF = "IPY_MODEL_"  # how a model's state refers to another (a box's children)
MAX_DESCRIBED = 6  # a box's children named in the run history

Path = tuple[str | int, ...]


class WidgetError(Exception):
    """An editor's change that cannot be made; `code` names why (the HTTP edge maps it)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


@dataclass
class Model:
    model_id: str
    model_name: str
    model_module: str
    model_module_version: str
    state: dict[str, Any]
    buffers: dict[Path, bytes] = field(default_factory=dict)
    gone: bool = False
    over_limit: bool = False  # a change was refused for size; said once until one fits
    clear_pending: bool = False  # an Output widget's clear_output(wait=True)
    echoes: dict[str, str] = field(default_factory=dict)  # key -> msg id of our last update
    sizes: dict[str, int] = field(default_factory=dict)  # key -> bytes of its JSON
    buffer_bytes: int = 0  # its buffers in base64

    def __post_init__(self) -> None:
        self.sizes = sizes_of(self.state, {}, set(self.state))
        self.buffer_bytes = b64_size(self.buffers)

    @property
    def size(self) -> int:
        return 2 + sum(self.sizes.values()) + self.buffer_bytes

    def entry(self) -> Entry:
        entry: Entry = {
            "model_name": self.model_name,
            "model_module": self.model_module,
            "model_module_version": self.model_module_version,
            "state": self.state,
        }
        if self.buffers:
            entry["buffers"] = [
                {"path": list(path), "data": base64.b64encode(data).decode("ascii")}
                for path, data in self.buffers.items()
            ]
        if self.gone:
            entry["gone"] = True
        return entry

    @property
    def is_output(self) -> bool:
        return (self.model_name, self.model_module) == OUTPUT_MODEL


def json_size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), default=str).encode())


def b64_size(buffers: dict[Path, bytes]) -> int:
    return sum((len(b) + 2) // 3 * 4 for b in buffers.values())


def sizes_of(state: dict[str, Any], known: dict[str, int], touched: set[str]) -> dict[str, int]:
    """Bytes of each key's `"key":value` in the JSON state; only `touched` keys are measured
    again (a flood of small updates to a big model stays cheap)."""
    return {
        key: known[key]
        if key in known and key not in touched
        else json_size(key) + 2 + json_size(v)
        for key, v in state.items()
    }


def touched_keys(change: dict[str, Any], buffers: dict[Path, bytes]) -> set[str]:
    """The top-level keys an update names, in its state or as the first step of a buffer path."""
    return set(change) | {str(path[0]) for path in buffers if path}


def merge(
    state: dict[str, Any],
    buffers: dict[Path, bytes],
    change: dict[str, Any],
    new_buffers: dict[Path, bytes],
) -> tuple[dict[str, Any], dict[Path, bytes]]:
    """A model's state after an update: every top-level key the update names (in its state or
    as the first step of a buffer's path) is replaced, with the buffers under it."""
    touched = touched_keys(change, new_buffers)
    merged = {k: v for k, v in state.items() if k not in touched}
    merged.update(change)
    kept = {p: b for p, b in buffers.items() if not p or str(p[0]) not in touched}
    kept.update(new_buffers)
    return merged, kept


def paired_buffers(paths: Any, buffers: Sequence[bytes]) -> dict[Path, bytes]:
    """`buffer_paths` matched with the message's buffers (malformed paths are skipped)."""
    found: dict[Path, bytes] = {}
    if not isinstance(paths, list):
        return found
    for path, data in zip(paths, buffers, strict=False):
        if isinstance(path, list) and path and all(isinstance(p, (str, int)) for p in path):
            found[tuple(path)] = bytes(data)
    return found


class WidgetModels:
    def __init__(self, *, max_models: int, max_state_bytes: int) -> None:
        self.max_models = max_models
        self.max_state_bytes = max_state_bytes
        self.models: dict[str, Model] = {}
        self.control_id: str | None = None  # our jupyter.widget.control comm, if opened
        self.problems: list[str] = []  # limits hit since last taken, to tell everyone
        self._dirty: set[str] = set()
        self._captures: dict[str, str] = {}  # msg id -> Output model capturing its outputs

    def describe(self, model_id: str) -> str | None:
        """A model as the run history names it: its class ("IntSlider"), and a box with what
        it holds ("HBox(HTML, FloatProgress, HTML)": a tqdm bar, say); None if unknown."""
        model = self.models.get(model_id)
        if model is None:
            return None
        name = model.model_name.removesuffix("Model") or model.model_name
        children = model.state.get("children")
        if not isinstance(children, list) or not children:
            return name
        held = []
        for ref in children[:MAX_DESCRIBED]:
            child = self.models.get(ref.removeprefix(MODEL_REF)) if isinstance(ref, str) else None
            held.append(child.model_name.removesuffix("Model") if child else "?")
        more = ", …" if len(children) > MAX_DESCRIBED else ""
        return f"{name}({', '.join(held)}{more})"

    # what changed

    def take_dirty(self) -> dict[str, Entry | None]:
        """The entries to write since the last call (None: remove it)."""
        dirty, self._dirty = self._dirty, set()
        return {
            model_id: (self.models[model_id].entry() if model_id in self.models else None)
            for model_id in dirty
        }

    def dirty_bytes(self) -> int:
        """About how many bytes the next `take_dirty` writes."""
        return sum(self.models[m].size for m in self._dirty if m in self.models)

    def take_problems(self) -> list[str]:
        problems, self.problems = self.problems, []
        return problems

    @property
    def has_dirty(self) -> bool:
        return bool(self._dirty)

    # the kernel's messages

    def wants(self, message: KernelMessage) -> bool:
        """Whether this message is the widgets' (a comm message, or an output captured by an
        Output widget)."""
        if message.channel != "iopub":
            return False
        if message.msg_type in COMM_TYPES:
            return True
        return message.msg_type in CAPTURED and message.parent_id in self._captures

    def receive(self, message: KernelMessage) -> None:
        """Apply a message `wants` said is ours."""
        content = message.content
        if message.msg_type in CAPTURED:
            model_id = self._captures.get(message.parent_id or "")
            if model_id is not None:
                self._capture(model_id, message.msg_type, content)
            return
        comm_id = str(content.get("comm_id", ""))
        data = _obj(content.get("data"))
        if message.msg_type == "comm_open":
            if content.get("target_name") == TARGET:
                self._open(comm_id, data, message.buffers)
        elif message.msg_type == "comm_close":
            self._close(comm_id)
        elif comm_id == self.control_id:
            if data.get("method") == "update_states":
                self._update_states(data, message.buffers)
        elif data.get("method") in ("update", "echo_update") and self._live(comm_id):
            echo = data["method"] == "echo_update"
            self._kernel_update(comm_id, data, message.buffers, echo, message.parent_id)

    def _live(self, model_id: str) -> bool:
        model = self.models.get(model_id)
        return model is not None and not model.gone  # a previous kernel's late words are not

    def _open(self, model_id: str, data: dict[str, Any], raw: Sequence[bytes]) -> None:
        state = _obj(data.get("state"))
        buffers = paired_buffers(data.get("buffer_paths"), raw)
        existing = self.models.get(model_id)
        if existing is None and not self._room_for_one():
            self.problems.append(
                f"widget {model_id} was not shared: the session has {self.max_models} widgets, "
                "the most it keeps (WIDGET_MAX_MODELS)"
            )
            return
        model = Model(
            model_id,
            str(state.get("_model_name", "")),
            str(state.get("_model_module", "")),
            str(state.get("_model_module_version", "")),
            dict(state),
            buffers,
        )
        if model.size > self.max_state_bytes:
            self.problems.append(self._too_big(model_id, state))
            return
        self.models[model_id] = model
        self._dirty.add(model_id)
        self._recapture(model)

    def _room_for_one(self) -> bool:
        """Whether one more model fits; models of a previous kernel are dropped to make room."""
        if len(self.models) < self.max_models:
            return True
        for model_id in [m for m, model in self.models.items() if model.gone]:
            del self.models[model_id]
            self._dirty.add(model_id)
            if len(self.models) < self.max_models:
                return True
        return False

    def _close(self, model_id: str) -> None:
        if self.models.pop(model_id, None) is not None:
            self._dirty.add(model_id)
            self._captures = {k: v for k, v in self._captures.items() if v != model_id}

    def _kernel_update(
        self,
        model_id: str,
        data: dict[str, Any],
        raw: Sequence[bytes],
        echo: bool,
        parent_id: str | None,
    ) -> None:
        model = self.models[model_id]
        change = dict(_obj(data.get("state")))
        buffers = paired_buffers(data.get("buffer_paths"), raw)
        if echo:  # a change coming back: skip keys a newer change of ours is on its way for
            for key in list(change):
                mine = model.echoes.get(key)
                if mine == parent_id:  # the kernel's answer to our latest (it may differ: clamped)
                    del model.echoes[key]
                elif mine is not None:
                    del change[key]
            buffers = {p: b for p, b in buffers.items() if str(p[0]) not in model.echoes}
        if change or buffers:
            self._update(model, change, buffers)

    def _update(self, model: Model, change: dict[str, Any], buffers: dict[Path, bytes]) -> None:
        """Merge an update if the result fits the limit; else keep the last good state and say
        why (once, until a change fits again)."""
        sized = self._sized(model, change, buffers)
        if sized is None:
            if not model.over_limit:
                model.over_limit = True
                self.problems.append(self._too_big(model.model_id, model.state))
            return
        model.over_limit = False
        model.state, model.buffers, model.sizes, model.buffer_bytes = sized
        self._dirty.add(model.model_id)
        if model.is_output:
            self._recapture(model)

    def _sized(
        self, model: Model, change: dict[str, Any], buffers: dict[Path, bytes]
    ) -> tuple[dict[str, Any], dict[Path, bytes], dict[str, int], int] | None:
        """The model's state, buffers and sizes after the update, or None if it would pass
        the limit."""
        state, kept = merge(model.state, model.buffers, change, buffers)
        sizes = sizes_of(state, model.sizes, touched_keys(change, buffers))
        buffer_bytes = b64_size(kept)
        if 2 + sum(sizes.values()) + buffer_bytes > self.max_state_bytes:
            return None
        return state, kept, sizes, buffer_bytes

    def _too_big(self, model_id: str, state: dict[str, Any]) -> str:
        name = state.get("_model_name", "widget")
        return (
            f"{name} {model_id}: its state passed {self.max_state_bytes:,} bytes "
            "(WIDGET_MAX_STATE_BYTES); it keeps its last state that fitted"
        )

    def _update_states(self, data: dict[str, Any], raw: Sequence[bytes]) -> None:
        """The kernel's answer to `request_states`: every model it has, as it is now."""
        states = _obj(data.get("states"))
        by_model: dict[str, dict[Path, bytes]] = {}
        for path, buffer in paired_buffers(data.get("buffer_paths"), raw).items():
            # paths start with the model id, then "state"
            if len(path) > 2 and path[1] == "state":
                by_model.setdefault(str(path[0]), {})[path[2:]] = buffer
        for model_id, info in states.items():
            if not isinstance(info, dict) or not isinstance(info.get("state"), dict):
                continue
            state = dict(info["state"])
            state.setdefault("_model_name", info.get("model_name", ""))
            state.setdefault("_model_module", info.get("model_module", ""))
            state.setdefault("_model_module_version", info.get("model_module_version", ""))
            self.models.pop(str(model_id), None)
            buffer_paths = [list(p) for p in by_model.get(str(model_id), {})]
            buffers = list(by_model.get(str(model_id), {}).values())
            self._open(str(model_id), {"state": state, "buffer_paths": buffer_paths}, buffers)

    # Output widgets

    def _recapture(self, model: Model) -> None:
        self._captures = {k: v for k, v in self._captures.items() if v != model.model_id}
        msg_id = model.state.get("msg_id")
        if isinstance(msg_id, str) and msg_id:
            self._captures[msg_id] = model.model_id

    def _capture(self, model_id: str, msg_type: str, content: dict[str, Any]) -> None:
        model = self.models.get(model_id)
        if model is None:
            return
        if msg_type == "clear_output" and content.get("wait"):
            model.clear_pending = True  # cleared when the next output comes
            return
        current = model.state.get("outputs")
        kept = not model.clear_pending and msg_type != "clear_output"
        outputs: list[Any] = current if isinstance(current, list) and kept else []
        kept = kept and outputs is current
        model.clear_pending = False
        size = model.sizes.get("outputs", EMPTY_OUTPUTS) if kept else EMPTY_OUTPUTS
        output, continues = None, False
        if msg_type != "clear_output":
            output, continues = next_output(outputs, msg_type, content)
            size += json_size(output) + 1 - (json_size(outputs[-1]) + 1 if continues else 0)
        if model.size - model.sizes.get("outputs", 0) + size > self.max_state_bytes:
            if not model.over_limit:
                model.over_limit = True
                self.problems.append(self._too_big(model_id, model.state))
            return
        if output is not None:  # in place: a flood of outputs costs each one once
            if continues:
                outputs[-1] = output
            else:
                outputs.append(output)
        model.over_limit = False
        model.state = {**model.state, "outputs": outputs}
        model.sizes["outputs"] = size
        self._dirty.add(model_id)

    # editors' changes

    def check_update(
        self, model_id: str, state: dict[str, Any], buffers: dict[Path, bytes]
    ) -> tuple[dict[str, Any], list[bytes]]:
        """Whether an editor may make this change (WidgetError if not); the comm message data
        and buffers to send to the kernel. Nothing changes yet."""
        model = self.editable(model_id)
        if self._sized(model, state, buffers) is None:  # told to the editor, not to everyone
            raise WidgetError(
                "too_large", f"the widget's state would pass {self.max_state_bytes:,} bytes"
            )
        data = {"method": "update", "state": state, "buffer_paths": [list(p) for p in buffers]}
        return data, list(buffers.values())

    def editor_update(
        self, model_id: str, state: dict[str, Any], buffers: dict[Path, bytes], msg_id: str
    ) -> None:
        """An editor's change, sent to the kernel as `msg_id`, merged at once (everyone sees it
        before the kernel echoes it; the echo of these keys is then not news)."""
        model = self.models.get(model_id)
        if model is None or model.gone:
            return  # closed while the message went out
        self._update(model, state, buffers)
        for key in {*state, *(str(p[0]) for p in buffers)}:
            model.echoes[key] = msg_id

    def editable(self, model_id: str) -> Model:
        model = self.models.get(model_id)
        if model is None:
            raise WidgetError("unknown_widget", f"no widget with id {model_id!r} in this session")
        if model.gone:
            raise WidgetError(
                "widget_gone", "this widget's kernel is gone: run its cell again to remake it"
            )
        return model

    # the kernel's life

    def all_gone(self) -> None:
        """The kernel restarted, died or was switched: every model stays, read-only."""
        for model in self.models.values():
            if not model.gone:
                model.gone, model.echoes = True, {}
                self._dirty.add(model.model_id)
        self._captures.clear()
        self.control_id = None

    def load(self, entries: dict[str, Entry]) -> None:
        """Models from the document (a hub that reloads the room): kept as gone."""
        for model_id, entry in entries.items():
            state = entry.get("state")
            model = Model(
                model_id,
                str(entry.get("model_name", "")),
                str(entry.get("model_module", "")),
                str(entry.get("model_module_version", "")),
                dict(state) if isinstance(state, dict) else {},
                _decoded(entry.get("buffers")),
                gone=True,
            )
            self.models[model_id] = model
            if not entry.get("gone"):
                self._dirty.add(model_id)

    def prune(self, keep: set[str]) -> None:
        """Drop the gone models not in `keep` (those no cell shows any more)."""
        for model_id in [m for m, model in self.models.items() if model.gone and m not in keep]:
            del self.models[model_id]
            self._dirty.add(model_id)


def next_output(
    outputs: list[Any], msg_type: str, content: dict[str, Any]
) -> tuple[dict[str, Any], bool]:
    """One iopub output as Jupyter's output area keeps it, and whether it replaces the last one
    (a stream continues the previous output when that is a stream of the same name)."""
    if msg_type == "stream":
        name, text = str(content.get("name", "stdout")), str(content.get("text", ""))
        last = outputs[-1] if outputs else None
        if (
            isinstance(last, dict)
            and last.get("output_type") == "stream"
            and last.get("name") == name
        ):
            return {**last, "text": str(last.get("text", "")) + text}, True
        return {"output_type": "stream", "name": name, "text": text}, False
    if msg_type == "error":
        return {
            "output_type": "error",
            "ename": str(content.get("ename", "Error")),
            "evalue": str(content.get("evalue", "")),
            "traceback": [str(t) for t in content.get("traceback") or []],
        }, False
    output: dict[str, Any] = {
        "output_type": msg_type,
        "data": dict(content.get("data") or {}),
        "metadata": dict(content.get("metadata") or {}),
    }
    if msg_type == "execute_result":
        output["execution_count"] = content.get("execution_count")
    return output, False


def decode_buffers(raw: Any) -> dict[Path, bytes]:
    """An editor's `[{"path", "data": base64}]`; WidgetError if malformed."""
    if raw is None:
        return {}
    if not isinstance(raw, list):
        raise WidgetError("bad_request", '"buffers" must be a list of {"path", "data"}')
    found: dict[Path, bytes] = {}
    for item in raw:
        path = item.get("path") if isinstance(item, dict) else None
        data = item.get("data") if isinstance(item, dict) else None
        if (
            not isinstance(path, list)
            or not path
            or not all(isinstance(p, str) or type(p) is int for p in path)
            or not isinstance(path[0], str)
            or not isinstance(data, str)
        ):
            raise WidgetError(
                "bad_request",
                'each buffer is {"path": [key, ...] (starting with a state key), "data": base64}',
            )
        try:
            found[tuple(path)] = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise WidgetError("bad_request", "a buffer's data is not base64") from None
    return found


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _decoded(raw: Any) -> dict[Path, bytes]:
    try:
        return decode_buffers(raw)
    except WidgetError:
        return {}
