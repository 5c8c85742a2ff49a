"""Evaluation failures grouped by what went wrong and where, and which training answers teach each.

``formtune fix`` starts here. Each evaluated output is compared with its reference and every
difference becomes a :class:`Problem`: a kind and a field path with array positions as ``*``
(``/items/*/sku``), so that one mistake made on many rows is one group:

- ``parse``: the output is not one document;
- ``schema:<keyword>``: a validator's violation (``schema:pattern`` at ``/order_id``);
- ``invented``: a field the reference does not have (an order number made up from an SKU);
- ``missing``: a field of the reference left out (a required key skipped);
- ``wrong-value``: the field is there with another value (an enum mapped to the wrong code);
- ``array-length``: an array with more or fewer items than the reference (a third item added).

:meth:`Group.wants` says which candidate answers teach a group: the invented field absent, the
missing field present, the enum values that were missed, arrays of the failing lengths.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

_INDEX = re.compile(r"/\d+(?=/|$)")
#: Values of a field that a group remembers, for the report and for enum-like matching.
MAX_EXAMPLES = 5


def generalize(pointer: str) -> str:
    """``/items/2/sku`` → ``/items/*/sku``: one group for every position of an array."""
    return _INDEX.sub("/*", pointer)


@dataclass(frozen=True)
class Problem:
    """One difference between an output and its reference."""

    kind: str
    path: str  # generalized: array positions are "*"
    expected: Any = None  # the reference's value there (None: absent)
    got: Any = None  # the output's value there (None: absent)


@dataclass
class Group:
    """Every failure of one kind at one path: how many rows, and the values involved."""

    kind: str
    path: str
    rows: list[int] = field(default_factory=list)
    expected: list[Any] = field(default_factory=list)
    got: list[Any] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.kind} {self.path}"

    def wants(self, output: Any) -> bool:
        """Whether a candidate answer teaches this group."""
        values = values_at(output, self.path)
        if self.kind == "invented":
            return not values
        if self.kind == "array-length":
            lengths = {len(e) for e in self.expected if isinstance(e, list)}
            return any(isinstance(v, list) and len(v) in lengths for v in values)
        if self.kind == "wrong-value" and self.expected and all(_enum_like(e) for e in self.expected):
            return any(v in self.expected for v in values)
        if self.kind.startswith("schema:") and self.expected and all(e is None for e in self.expected):
            return not values  # the reference has no such field: a violation of an invented one
        return bool(values)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "path": self.path, "count": len(self.rows), "rows": self.rows,
                "expected": self.expected[:MAX_EXAMPLES], "got": self.got[:MAX_EXAMPLES]}


def _enum_like(value: Any) -> bool:
    """Booleans and short words: values a candidate answer can share with the reference."""
    return isinstance(value, bool) or (isinstance(value, str) and len(value) <= 24 and " " not in value
                                       and not any(c.isdigit() for c in value))


def values_at(value: Any, path: str) -> list[Any]:
    """Every value at a generalized path (``*`` matches each array item); [] when absent."""
    found = [value]
    for token in path.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        step = []
        for item in found:
            if token == "*" and isinstance(item, list):
                step.extend(item)
            elif isinstance(item, dict) and token in item:
                step.append(item[token])
        found = step
    return found


def problems(expected: Any, got: Any, parsed: bool, violations: Iterable[dict[str, Any]]) -> list[Problem]:
    """Every difference between an output and its reference (empty: the output is right)."""
    if not parsed:
        return [Problem("parse", "/")]
    found = [Problem(v["kind"], generalize(v.get("path") or "") or "/",
                     _first(values_at(expected, generalize(v.get("path") or ""))),
                     _first(values_at(got, generalize(v.get("path") or ""))))
             for v in violations if v.get("kind") != "parse"]
    if expected is not None:
        found += _differences(expected, got, "")
    unique: dict[tuple[str, str], Problem] = {}
    for problem in found:
        unique.setdefault((problem.kind, problem.path), problem)
    return list(unique.values())


def _first(values: list[Any]) -> Any:
    return values[0] if values else None


def _differences(expected: Any, got: Any, path: str) -> list[Problem]:
    where = generalize(path) or "/"
    if isinstance(expected, dict) and isinstance(got, dict):
        found = []
        for key in [*expected, *(k for k in got if k not in expected)]:
            child = f"{path}/{str(key).replace('~', '~0').replace('/', '~1')}"
            if key not in got:
                found.append(Problem("missing", generalize(child), expected[key], None))
            elif key not in expected:
                found.append(Problem("invented", generalize(child), None, got[key]))
            else:
                found += _differences(expected[key], got[key], child)
        return found
    if isinstance(expected, list) and isinstance(got, list):
        found = [Problem("array-length", where, expected, got)] if len(expected) != len(got) else []
        for i, (e, g) in enumerate(zip(expected, got)):
            found += _differences(e, g, f"{path}/{i}")
        return found
    if _same(expected, got):
        return []
    return [Problem("wrong-value", where, expected, got)]


def _same(a: Any, b: Any) -> bool:
    """Equal as JSON values: ``3 == 3.0`` but ``true != 1``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


def group_failures(rows: Iterable[tuple[Any, Any, bool, list[dict[str, Any]]]]) -> list[Group]:
    """Groups of problems over ``(expected, got, parsed, violations)`` rows, the largest first."""
    groups: dict[tuple[str, str], Group] = {}
    for number, (expected, got, parsed, violations) in enumerate(rows):
        for problem in problems(expected, got, parsed, violations):
            key = (problem.kind, problem.path)
            group = groups.setdefault(key, Group(problem.kind, problem.path))
            group.rows.append(number)
            group.expected.append(problem.expected)
            group.got.append(problem.got)
    return sorted(groups.values(), key=lambda g: (-len(g.rows), g.kind, g.path))
