"""JSON as an output format: strict by default, with opt-in lenient extraction.

Strict means the whole completion is one JSON document as RFC 8259 defines it: no ``NaN`` or
``Infinity``, no number too large for a double (``1e400``), and no object with a repeated key
(Python's parser silently keeps the last one, which hides a model's mistake).

Work on hostile input is bounded: nesting deeper than :data:`MAX_DEPTH` (serde_json's default)
and integers longer than :data:`MAX_DIGITS` digits are parse violations, never a crash. A string
escaping half of a surrogate pair (``"\\ud800"``) is not text, so it is a parse violation too.
"""

from __future__ import annotations

import itertools
import json
import re
from typing import TYPE_CHECKING, Any

from formtune.contrib import NOT_FOUND, DecodingConstraint, Format, parse_document
from formtune_json.constraint import guarded_schema
from formtune.violations import Checked

if TYPE_CHECKING:
    from formtune.task import Task

#: Deepest nesting of arrays and objects accepted; deeper documents are a parse violation (and
#: would exhaust the validator's recursion).
MAX_DEPTH = 128
#: Longest integer accepted (Python refuses to convert longer ones anyway).
MAX_DIGITS = 4300
#: Lenient extraction tries a document at the first this many ``[`` or ``{`` of a text (each
#: try may read to the end: the bound keeps hostile prose from taking quadratic time).
MAX_LENIENT_STARTS = 100
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


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise _NotJson(f"an integer of {len(text.lstrip('-'))} digits is too long (limit {MAX_DIGITS})")
    return int(text)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _NotJson(f"key {key!r} is repeated in one object")
        result[key] = value
    return result


_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float, parse_int=_bounded_int,
                            object_pairs_hook=_unique_keys)
#: A JSON number, or the beginning of one, and nothing else.
_NUMBER_SO_FAR = re.compile(r"-|-?(?:0|[1-9][0-9]*)(?:\.[0-9]*)?(?:[eE][+-]?[0-9]*)?")


def _checked(value: Any) -> Any:
    """``value`` itself, or :class:`_NotJson` when it nests deeper than :data:`MAX_DEPTH` or holds
    a string that is not Unicode text (an escaped lone surrogate such as ``"\\ud800"``)."""
    level, depth = [value], 0
    while level:
        containers = []
        for item in level:
            if isinstance(item, str):
                _check_text(item)
            elif isinstance(item, (dict, list)):
                containers.append(item)
        if not containers:
            return value
        depth += 1
        if depth > MAX_DEPTH:
            raise _NotJson(f"nested deeper than {MAX_DEPTH} levels")
        level = [x for c in containers for x in ([*c, *c.values()] if isinstance(c, dict) else c)]
    return value


def _check_text(text: str) -> None:
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise _NotJson(f"\\u{ord(text[exc.start]):04x} is a lone surrogate, not a character") from None


def _loads(text: str) -> Any:
    if text.startswith("\ufeff"):
        raise _NotJson("it starts with a byte order mark (U+FEFF), which JSON text must not")
    try:
        return _checked(_DECODER.decode(text))
    except RecursionError:
        raise _NotJson(f"nested deeper than {MAX_DEPTH} levels") from None


class JsonFormat(Format):
    """The whole completion must be exactly one JSON document (surrounding whitespace aside)."""

    name = "json"
    label = "JSON"

    def parse(self, text: str, *, lenient: bool = False) -> Checked:
        return parse_document(text, lenient=lenient, read=_loads, rejected=ValueError, what="JSON document",
                              extract=_extract)

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
        if _NUMBER_SO_FAR.fullmatch(text):
            return True  # "1." and "1e" decode as 1 followed by text, yet they are numbers being written
        try:
            _, end = _DECODER.raw_decode(text)
        except (ValueError, RecursionError):
            return True  # unfinished (or broken, which the final parse will say)
        return not text[end:].strip()


def _extract(text: str) -> Any:
    """The first JSON document inside code fences or prose, or ``NOT_FOUND``."""
    for block in _FENCE.findall(text):
        try:
            return _loads(block)
        except ValueError:
            pass
    for match in itertools.islice(re.finditer(r"[\[{]", text), MAX_LENIENT_STARTS):
        try:
            return _checked(_DECODER.raw_decode(text, match.start())[0])
        except (ValueError, RecursionError):  # not a document here (too deep counts as none)
            continue
    return NOT_FOUND
