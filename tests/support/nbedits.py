"""Random changes to a notebook document, as participants, the kernel and the hub make them
(cells added, removed and moved, text in several scripts, outputs, metadata, widgets)."""

from __future__ import annotations

import random
from typing import Any

from jupyter_ydoc import YNotebook
from pycrdt import Array, Map, Text

from collabd import widgetstate

WORDS = ["x = 1\n", "print('hé')\n", "😀", "日本語", "import numpy as np\n", " ", "\t# ☃\n"]


def new_cell(ynb: YNotebook, rng: random.Random) -> Map[Any]:
    kind = rng.choice(["code", "markdown", "raw"])
    value: dict[str, Any] = {
        "id": f"c{rng.randrange(10**6)}",
        "cell_type": kind,
        "source": rng.choice(WORDS),
        "metadata": {"tags": ["a"]} if rng.random() < 0.3 else {},
    }
    if kind == "code":
        value["outputs"] = []
        value["execution_count"] = None
    if kind == "markdown" and rng.random() < 0.3:
        value["attachments"] = {}
    return ynb.create_ycell(value)


def random_edit(ynb: YNotebook, rng: random.Random) -> None:
    """One random change, the way a participant, the kernel or the hub makes it."""
    cells: Array[Map[Any]] = ynb.ydoc.get("cells", type=Array)
    n = len(cells)
    choice = rng.random()
    if n == 0 or choice < 0.1:
        cells.insert(rng.randint(0, n), new_cell(ynb, rng))
    elif choice < 0.15 and n > 1:
        del cells[rng.randrange(n)]
    elif choice < 0.2 and n > 1:  # a move: JupyterLab deletes the cell and inserts a copy
        i, j = rng.randrange(n), rng.randrange(n - 1)
        value = cells[i].to_py()
        del cells[i]
        cells.insert(j, ynb.create_ycell(value))
    elif choice < 0.7:
        source = cells[rng.randrange(n)]["source"]
        assert isinstance(source, Text)
        text = str(source)
        start = rng.randint(0, len(text))
        at = len(text[:start].encode())  # pycrdt counts UTF-8 bytes
        if start < len(text) and rng.random() < 0.35:
            gone = text[start : start + rng.randint(1, 4)]
            del source[at : at + len(gone.encode())]
        else:
            source.insert(at, rng.choice(WORDS))
    elif choice < 0.8:
        cell = cells[rng.randrange(n)]
        if cell.get("cell_type") == "code":
            outputs = cell["outputs"]
            assert isinstance(outputs, Array)
            if rng.random() < 0.2:
                outputs.clear()
            else:
                stream = {"output_type": "stream", "name": "stdout", "text": rng.choice(WORDS)}
                outputs.append(Map(stream))
            cell["execution_count"] = rng.randint(1, 50)
    elif choice < 0.9:
        cell = cells[rng.randrange(n)]
        meta = cell["metadata"]
        assert isinstance(meta, Map)
        if "collapsed" in meta and rng.random() < 0.5:
            del meta["collapsed"]
        else:
            meta["collapsed"] = rng.random() < 0.5
    elif choice < 0.95:
        ynb.ydoc.get("meta", type=Map)["metadata"] = Map(
            {"kernelspec": {"name": "python3", "display_name": "Python 3"}}
        )
    else:
        widgets = widgetstate.ymap(ynb.ydoc)
        model = f"m{rng.randrange(3)}"
        if model in widgets and rng.random() < 0.3:
            del widgets[model]
        else:
            widgets[model] = {"model_name": "IntSliderModel", "state": {"value": rng.random()}}
