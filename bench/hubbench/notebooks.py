"""The .ipynb files the benchmark opens."""

from __future__ import annotations

import json
from pathlib import Path

from .common import Json


def make_notebook(cells: int) -> Json:
    """An nbformat 4.5 notebook of `cells` small code cells, a markdown cell every tenth."""
    out: list[Json] = []
    for i in range(cells):
        cell_id = f"cell-{i:05d}"
        if i % 10 == 0:
            src = f"## Section {i // 10}\nSome prose here."
            out.append({"cell_type": "markdown", "id": cell_id, "metadata": {}, "source": src})
        else:
            out.append(
                {
                    "cell_type": "code",
                    "id": cell_id,
                    "metadata": {},
                    "execution_count": None,
                    "outputs": [],
                    "source": f"x{i} = {i} * 2\nprint(x{i})",
                }
            )
    kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": kernelspec, "language_info": {"name": "python"}},
        "cells": out,
    }


def write_notebook(root: Path, name: str, cells: int) -> str:
    (root / name).write_text(json.dumps(make_notebook(cells), indent=1))
    return name
