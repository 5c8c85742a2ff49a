"""JSON as an output format: strict by default, with opt-in lenient extraction.

Strict means the whole completion is one JSON document as RFC 8259 defines it: no ``NaN`` or
``Infinity``, no number too large for a double (``1e400``), and no object with a repeated key
(Python's parser silently keeps the last one, which hides a model's mistake).
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from formtune.contrib import DecodingConstraint, Format
from formtune_json.constraint import guarded_schema
from formtune.violations import Checked, Violation

if TYPE_CHECKING:
    from formtune.task import Task

_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.DOTALL)


class _NotJson(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise _NotJson(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _NotJson(f"number {text} is too large")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _NotJson(f"key {key!r} is repeated in one object")
        result[key] = value
    return result


_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float,
                            object_pairs_hook=_unique_keys)


def _loads(text: str) -> Any:
    try:
        return _DECODER.decode(text)
    except RecursionError:
        raise _NotJson("nested too deeply") from None


class JsonFormat(Format):
    """The whole completion must be exactly one JSON document (surrounding whitespace aside)."""

    name = "json"
    label = "JSON"

    def parse(self, text: str, *, lenient: bool = False) -> Checked:
        try:
            return Checked(text=text, value=_loads(text), parsed=True)
        except ValueError as exc:
            strict_error = Violation(path="", message=f"not a single JSON document: {exc}", kind="parse")
        if lenient:
            value = _extract(text)
            if value is not _MISSING:
                return Checked(text=text, value=value, parsed=True, lenient=True)
        return Checked(text=text, violations=[strict_error])

    def render(self, value: Any) -> str:
        return json.dumps(value, ensure_ascii=False)

    def constraint(self, task: Task) -> DecodingConstraint:
        from outlines.types import JsonSchema

        schema, notes = guarded_schema(task.schema)
        # One optional space after separators: what the model was trained on (json.dumps).
        return DecodingConstraint(JsonSchema(schema, whitespace_pattern=r"[ ]?"), tuple(notes))

    def viable(self, text: str) -> bool:
        """False once the text cannot be one JSON document: it opens with something no JSON value
        starts with (prose, a code fence), or a complete value is followed by more text."""
        text = text.lstrip()
        if not text:
            return True
        if text[0] not in '{["-0123456789tfn':
            return False
        literal = {"t": "true", "f": "false", "n": "null"}.get(text[0])
        if literal and not (text.startswith(literal) or literal.startswith(text)):
            return False
        try:
            _, end = _DECODER.raw_decode(text)
        except (ValueError, RecursionError):
            return True  # unfinished (or broken, which the final parse will say)
        return not text[end:].strip()


_MISSING = object()


def _extract(text: str) -> Any:
    """The first JSON document inside code fences or prose, or ``_MISSING``."""
    for block in _FENCE.findall(text):
        try:
            return _loads(block)
        except ValueError:
            pass
    for match in re.finditer(r"[\[{]", text):
        try:
            return _DECODER.raw_decode(text, match.start())[0]
        except (ValueError, RecursionError):
            continue
    return _MISSING
