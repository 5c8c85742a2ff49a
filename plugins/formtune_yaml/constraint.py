"""A regular expression for constrained decoding: documents of a task's JSON Schema, written
exactly in the style of :mod:`formtune_yaml.write` (and the few equivalent spellings of a scalar).

Supported subset of JSON Schema (anything else gives ``None``: the task is "unconstrained only"):

- the root is an object or an array;
- objects with ``properties`` (written in schema order, required ones always, optional ones when
  the model chooses), ``required``, and any ``additionalProperties`` (only the listed properties
  are written);
- arrays with ``items`` (one schema), ``minItems``, ``maxItems``, and ``uniqueItems`` when the
  items are an enum with few enough ordered choices (at most 256);
- strings without ``format``, ``pattern`` or length limits: plain (unquoted) where
  :data:`~formtune_yaml.write.PLAIN` allows it, double-quoted, or a literal block (``|``/``|-``);
- ``enum`` and ``const`` of scalars (each written as ``render`` writes it);
- integers, with ``minimum``/``maximum`` when both are given and at most 256 values apart, or
  with ``minimum`` 0 or 1 alone; numbers without bounds; booleans; null; a ``type`` list of these;
- local ``$ref`` (``#/$defs/…``, ``#/definitions/…``) that does not recurse; annotations
  (``title``, ``description``, ``default``, ``examples``…) are ignored.

Every document the expression admits parses to a value that is valid under the schema; the
tests check that, and that every sampled instance, rendered, matches it.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from formtune_yaml.write import (FIRST_UNICODE, LAST, LAST_CHARS, LETTERS, RESERVED, REST, UNICODE, char_class,
                                 literal_ok, render_yaml)

MAX_PATTERN = 500_000  # characters; beyond this the FSM of outlines gets slow to build
MAX_REF_DEPTH = 32
MAX_CHOICES = 256  # ordered choices spelled out for uniqueItems over an enum
ANNOTATIONS = {"title", "description", "default", "examples", "$comment", "$schema", "$id", "$defs",
               "definitions", "deprecated", "readOnly", "writeOnly"}
SCALAR_TYPES = {"string", "integer", "number", "boolean", "null"}
KEYWORDS = {
    "object": {"type", "properties", "required", "additionalProperties"},
    "array": {"type", "items", "minItems", "maxItems", "uniqueItems"},
    "string": {"type"},
    "integer": {"type", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"},
    "number": {"type"},
    "boolean": {"type"},
    "null": {"type"},
}

INT = r"-?(?:0|[1-9][0-9]*)"
NUMBER = INT + r"(?:\.[0-9]+)?(?:e[-+](?:[0-9]{1,2}|[12][0-9]{2}|30[0-7]))?"  # below 1e308: no overflow
_VISIBLE = char_class("".join(chr(c) for c in range(0x21, 0x7F)))
_PRINTABLE = char_class("".join(chr(c) for c in range(0x20, 0x7F)))
_UNESCAPED = char_class("".join(chr(c) for c in range(0x20, 0x7F) if chr(c) not in '"\\'))
DOUBLE_QUOTED = (rf'"(?:{_UNESCAPED}'
                 r'|\\(?:[0abtnvfre"/\\N_LP ]|x[0-9A-Fa-f]{2}|u(?:[0-9A-Ca-cEeFf][0-9A-Fa-f]|[Dd][0-7])[0-9A-Fa-f]{2}|U00(?:0[0-9A-Fa-f]|10)[0-9A-Fa-f]{4}))*"')


class _Unsupported(Exception):
    """The schema uses something outside the supported subset."""


def yaml_regex(schema: Any) -> str | None:
    """The regular expression of ``schema``'s documents as rendered YAML, or ``None`` when the
    schema is outside the supported subset."""
    try:
        pattern = _Builder(schema).document()
    except _Unsupported:
        return None
    return pattern if len(pattern) <= MAX_PATTERN else None


def plain_string() -> str:
    """A plain string that every YAML reader reads as a string: :data:`PLAIN` without its
    look-ahead (outlines' regular expressions have none). The strings that start like a reserved
    word are spelled out letter by letter up to the character where they leave every reserved
    word; what follows is written once, so that the automaton stays small."""
    bare = sorted({w[:i] for w in RESERVED for i in range(1, len(w))} - set(RESERVED))
    return (f"(?:{_leave('', space=False)}(?:{REST}*{LAST})?|{_leave('', space=True)}{REST}*{LAST}"
            f"|{'|'.join(bare)}|[0-9]{REST}* {REST}*{LAST})")


def _leave(prefix: str, *, space: bool) -> str:
    """The strings from ``prefix`` (a prefix of a reserved word, or "") to the first character
    that no reserved word has there: a space if ``space``, else any other allowed character."""
    kids = sorted({w[len(prefix)] for w in RESERVED if w.startswith(prefix) and len(w) > len(prefix)})
    branches = [k + _leave(prefix + k, space=space) for k in kids]
    if space:
        branches += [" "] if prefix else []
    elif prefix:
        branches.append(_without(LAST_CHARS, kids))
    else:
        branches.append(_without(LETTERS, kids, FIRST_UNICODE))
    return "(?:" + "|".join(branches) + ")"


def _without(ascii_chars: str, letters: list[str], unicode: str = UNICODE) -> str:
    return char_class("".join(c for c in ascii_chars if c not in letters), unicode)


def literal_block(indent: int) -> str:
    """A literal block scalar (``|`` or ``|-``) whose lines are indented by ``indent``."""
    pad = " " * indent
    return rf"\|-?\n{pad}{_VISIBLE}{_PRINTABLE}*\n(?:{pad}{_PRINTABLE}*\n|\n)*"


class _Builder:
    def __init__(self, root: Any) -> None:
        self.root = root
        self.plain = plain_string()
        self.refs: list[str] = []

    def document(self) -> str:
        schema = self._resolve(self.root)
        kind = self._kinds(schema)
        if kind == {"object"}:
            return self._object(schema, 0, inline=False)[0] + self._empty(schema, "object", "")
        if kind == {"array"}:
            return self._array(schema, 0, inline=False) + self._empty(schema, "array", "")
        raise _Unsupported("the root must be an object or an array")

    # -- schema reading -----------------------------------------------------------------------

    def _resolve(self, schema: Any) -> dict[str, Any]:
        if not isinstance(schema, dict):
            raise _Unsupported("boolean schemas")
        if "$ref" in schema:
            if set(schema) - ANNOTATIONS - {"$ref"} or len(self.refs) >= MAX_REF_DEPTH:
                raise _Unsupported("$ref with siblings, or recursion")
            ref = schema["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#/") or ref in self.refs:
                raise _Unsupported("remote or recursive $ref")
            target: Any = self.root
            for part in ref[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                if not isinstance(target, dict) or part not in target:
                    raise _Unsupported("unresolvable $ref")
                target = target[part]
            self.refs.append(ref)
            try:
                return self._resolve(target)
            finally:
                self.refs.pop()
        return schema

    def _kinds(self, schema: dict[str, Any]) -> set[str]:
        if "enum" in schema or "const" in schema:
            return {"enum"}
        declared = schema.get("type", "object" if "properties" in schema else None)
        kinds = set(declared) if isinstance(declared, list) else {declared}
        if not kinds or not kinds <= set(KEYWORDS):
            raise _Unsupported(f"type {declared!r}")
        allowed = set().union(*(KEYWORDS[k] for k in kinds)) | ANNOTATIONS
        if set(schema) - allowed:
            raise _Unsupported(f"keywords {sorted(set(schema) - allowed)}")
        if len(kinds) > 1 and kinds & {"object", "array"}:
            raise _Unsupported("a type list with a collection type")
        return kinds

    # -- layout ----------------------------------------------------------------------------------

    def _after_key(self, schema: Any, indent: int) -> str:
        """What follows ``key:`` on a property line at ``indent``, through the last newline."""
        schema = self._resolve(schema)
        kinds = self._kinds(schema)
        if kinds == {"object"}:
            mapping, _ = self._object(schema, indent + 2, inline=False)
            return rf"(?:\n{mapping}{self._empty(schema, 'object', ' ')})"
        if kinds == {"array"}:
            return rf"(?:\n{self._array(schema, indent + 2, inline=False)}{self._empty(schema, 'array', ' ')})"
        return rf"(?: {self._scalar(schema, kinds)}\n{self._literal(kinds, indent + 2, ' ')})"

    def _item(self, schema: Any, indent: int) -> str:
        """What follows ``- `` for an item of a sequence at ``indent``, through the last newline."""
        schema = self._resolve(schema)
        kinds = self._kinds(schema)
        if kinds == {"object"}:
            return f"(?:{self._object(schema, indent + 2, inline=True)[0]}{self._empty(schema, 'object', '')})"
        if kinds == {"array"}:
            return f"(?:{self._array(schema, indent + 2, inline=True)}{self._empty(schema, 'array', '')})"
        return rf"(?:{self._scalar(schema, kinds)}\n{self._literal(kinds, indent + 2, '')})"

    def _object(self, schema: dict[str, Any], indent: int, inline: bool) -> tuple[str, bool]:
        """A non-empty block mapping, and whether it has a required property."""
        properties = schema.get("properties")
        if not isinstance(properties, dict) or not properties:
            raise _Unsupported("an object without properties")
        required = set(schema.get("required", []))
        if required - set(properties):
            raise _Unsupported("a required property that is not listed")
        pad = " " * indent
        lines = [(self._key(name), self._after_key(sub, indent), name in required)
                 for name, sub in properties.items()]
        branches = []
        for first, (key, value, is_required) in enumerate(lines):
            rest = "".join(f"{pad}{k}:{v}" if req else f"(?:{pad}{k}:{v})?" for k, v, req in lines[first + 1:])
            branches.append(f"{'' if inline else pad}{key}:{value}{rest}")
            if is_required:
                break
        return "(?:" + "|".join(branches) + ")", bool(required)

    def _array(self, schema: dict[str, Any], indent: int, inline: bool) -> str:
        """A non-empty block sequence."""
        if "items" not in schema:
            raise _Unsupported("an array without items")
        low, high = max(schema.get("minItems", 0), 1), schema.get("maxItems")
        if high is not None and high < low:
            raise _Unsupported("maxItems below 1")
        pad = " " * indent
        if schema.get("uniqueItems"):
            return self._unique_choices(schema["items"], low, high, pad, inline)
        item = self._item(schema["items"], indent)
        more = f"{{{low - 1},{'' if high is None else high - 1}}}"
        return f"{'' if inline else pad}- {item}(?:{pad}- {item}){more}"

    def _unique_choices(self, items: Any, low: int, high: int | None, pad: str, inline: bool) -> str:
        """``uniqueItems`` over an enum: every ordered choice of distinct values, spelled out."""
        items = self._resolve(items)
        if self._kinds(items) != {"enum"}:
            raise _Unsupported("uniqueItems over anything but an enum")
        values = [self._literal_value(v) for v in (items["enum"] if "enum" in items else [items["const"]])]
        high = len(values) if high is None else min(high, len(values))
        choices = [c for n in range(low, high + 1) for c in itertools.permutations(values, n)]
        if not choices or len(choices) > MAX_CHOICES:
            raise _Unsupported("too many (or no) unique choices")
        spelled = ["".join(f"{pad if i or not inline else ''}- {v}\\n" for i, v in enumerate(choice))
                   for choice in choices]
        return "(?:" + "|".join(spelled) + ")"

    def _empty(self, schema: dict[str, Any], kind: str, space: str) -> str:
        """The ``{}`` or ``[]`` alternative, when the schema allows an empty container."""
        if kind == "object" and schema.get("required"):
            return ""
        if kind == "array" and schema.get("minItems", 0) > 0:
            return ""
        return f"|{space}" + (r"\{\}" if kind == "object" else r"\[\]") + r"\n"

    def _literal(self, kinds: set[str], indent: int, space: str) -> str:
        return f"|{space}{literal_block(indent)}" if "string" in kinds else ""

    def _key(self, name: str) -> str:
        text = render_yaml({name: 0})
        if not text.endswith(": 0\n") or "\n" in text[:-1]:
            raise _Unsupported(f"property name {name!r} needs a complex key")
        return re.escape(text[:-len(": 0\n")])

    # -- scalars ---------------------------------------------------------------------------------

    def _scalar(self, schema: dict[str, Any], kinds: set[str]) -> str:
        if kinds == {"enum"}:
            values = schema["enum"] if "enum" in schema else [schema["const"]]
            return "(?:" + "|".join(self._literal_value(v) for v in values) + ")"
        branches = {"string": f"{self.plain}|{DOUBLE_QUOTED}", "number": NUMBER, "boolean": "true|false",
                    "null": "null"}
        return "(?:" + "|".join(self._integer(schema) if k == "integer" else branches[k] for k in sorted(kinds)) + ")"

    def _literal_value(self, value: Any) -> str:
        if isinstance(value, (dict, list)) or isinstance(value, str) and (literal_ok(value) or "\n" in value):
            raise _Unsupported("a collection or multi-line string in enum")
        text = render_yaml([value])
        return re.escape(text[2:-1])

    def _integer(self, schema: dict[str, Any]) -> str:
        low, high = schema.get("minimum"), schema.get("maximum")
        if isinstance(schema.get("exclusiveMinimum"), (int, float)) and not isinstance(schema["exclusiveMinimum"], bool):
            low = schema["exclusiveMinimum"] + 1 if low is None else max(low, schema["exclusiveMinimum"] + 1)
        if isinstance(schema.get("exclusiveMaximum"), (int, float)) and not isinstance(schema["exclusiveMaximum"], bool):
            high = schema["exclusiveMaximum"] - 1 if high is None else min(high, schema["exclusiveMaximum"] - 1)
        if isinstance(schema.get("exclusiveMinimum"), bool) or isinstance(schema.get("exclusiveMaximum"), bool):
            raise _Unsupported("draft-4 boolean exclusive bounds")
        if low is None and high is None:
            return INT
        if low is not None and high is not None and int(low) == low and int(high) == high and 0 <= high - low <= 256:
            return "(?:" + "|".join(str(n) for n in range(int(high), int(low) - 1, -1)) + ")"
        if high is None and low in (0, 1):
            return "(?:0|[1-9][0-9]*)" if low == 0 else "[1-9][0-9]*"
        raise _Unsupported("integer bounds")

