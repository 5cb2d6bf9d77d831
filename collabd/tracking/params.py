"""The parameters a notebook declares, and the names a cell's code binds (pure, with `ast`).

Papermill's convention: the cell whose metadata `tags` holds `parameters` declares the run's
parameters as simple assignments (`lr = 0.01`, `layers: int = 3`, `a, b = 1, 2`); a cell tagged
`injected-parameters` (what papermill adds) overrides them. The value written is kept when it is a
literal (`ast.literal_eval`); a name assigned anything else is still a parameter, whose value only
the kernel knows. IPython's `%magics` and `!shell` lines are skipped.
"""

from __future__ import annotations

import ast
import functools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"
MAX_PARAMETERS = 100
MAX_TEXT = 500  # a literal string longer than this is cut


@dataclass(frozen=True, slots=True)
class Declared:
    names: tuple[str, ...] = ()  # in the order the cells assign them
    literals: dict[str, Any] = field(default_factory=dict)  # the literal values written

    def __bool__(self) -> bool:
        return bool(self.names)


def tags_of(metadata: Any) -> list[str]:
    tags = metadata.get("tags") if isinstance(metadata, Mapping) else None
    return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []


def declared(cells: Iterable[tuple[Any, str]]) -> Declared:
    """The parameters of a notebook from its cells' (metadata, source): the first `parameters`
    cell, then `injected-parameters` cells over it."""
    base: Declared | None = None
    injected: list[Declared] = []
    for metadata, source in cells:
        tags = tags_of(metadata)
        if PARAMETERS_TAG in tags and base is None:
            base = parse(source)
        elif INJECTED_TAG in tags:
            injected.append(parse(source))
    names: dict[str, None] = dict.fromkeys(base.names if base else ())
    literals = dict(base.literals) if base else {}
    for more in injected:
        names.update(dict.fromkeys(more.names))
        for name in more.names:
            literals.pop(name, None)
        literals.update(more.literals)
    kept = tuple(names)[:MAX_PARAMETERS]
    return Declared(kept, {k: v for k, v in literals.items() if k in kept})


def parse(source: str) -> Declared:
    """The simple assignments of a parameters cell."""
    names: dict[str, None] = {}
    literals: dict[str, Any] = {}
    for statement in _statements(source):
        for target, value in _assignments(statement):
            names[target] = None
            literal = _literal(value)
            if literal is _NOT_LITERAL:
                literals.pop(target, None)
            else:
                literals[target] = literal
    return Declared(tuple(names), literals)


def _statements(source: str) -> list[ast.stmt]:
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
    try:
        return ast.parse("\n".join(lines)).body
    except SyntaxError:
        found = []  # something does not parse: take the lines that do, one by one
        for line in lines:
            try:
                found.extend(ast.parse(line).body)
            except SyntaxError:
                continue
        return found


def _assignments(statement: ast.stmt) -> list[tuple[str, ast.expr | None]]:
    if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
        return [(statement.target.id, statement.value)] if statement.value is not None else []
    if not isinstance(statement, ast.Assign):
        return []
    found: list[tuple[str, ast.expr | None]] = []
    for target in statement.targets:
        if isinstance(target, ast.Name):
            found.append((target.id, statement.value))
        elif isinstance(target, (ast.Tuple, ast.List)) and all(
            isinstance(e, ast.Name) for e in target.elts
        ):
            values = statement.value
            if isinstance(values, (ast.Tuple, ast.List)) and len(values.elts) == len(target.elts):
                found.extend((e.id, v) for e, v in zip(target.elts, values.elts, strict=True))  # type: ignore[attr-defined]
            else:
                found.extend((e.id, None) for e in target.elts)  # type: ignore[attr-defined]
    return found


_NOT_LITERAL = object()


def _literal(node: ast.expr | None) -> Any:
    if node is None:
        return _NOT_LITERAL
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _NOT_LITERAL
    return plain(value)


def plain(value: Any, depth: int = 0) -> Any:
    """A literal as JSON: tuples and sets as lists, bytes and complex numbers and non-finite
    floats as their repr, long strings cut."""
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, str):
        return value if len(value) <= MAX_TEXT else value[:MAX_TEXT] + "…"
    if depth < 3 and isinstance(value, (list, tuple)):
        return [plain(v, depth + 1) for v in value[:50]]
    if depth < 3 and isinstance(value, (set, frozenset)):
        return sorted((plain(v, depth + 1) for v in value), key=repr)[:50]
    if depth < 3 and isinstance(value, dict):
        return {str(k): plain(v, depth + 1) for k, v in list(value.items())[:50]}
    text = repr(value)
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "…"


@functools.lru_cache(maxsize=32)  # a cell is often run again as it is
def bound_names(code: str) -> frozenset[str]:
    """The global names a cell's code binds: assignments, loops, imports, `with … as`, `def`,
    `class`, and names a function declares `global`. Assignments inside functions, classes,
    lambdas and comprehensions are their own."""
    try:
        tree = ast.parse(
            "\n".join(
                "" if line.lstrip().startswith(("%", "!")) else line for line in code.splitlines()
            )
        )
    except SyntaxError:
        return frozenset()
    found: set[str] = set()
    scoped = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
    comprehensions = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)

    def visit(node: ast.AST, top: bool) -> None:
        if isinstance(node, ast.Global):
            found.update(node.names)
        if top:
            if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
                found.add(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                found.add(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias in node.names:
                    found.add((alias.asname or alias.name).split(".")[0])
        inner = top and not isinstance(node, scoped + comprehensions)
        for child in ast.iter_child_nodes(node):
            visit(child, inner)

    visit(tree, True)
    return frozenset(found)
