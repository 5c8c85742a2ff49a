"""Regular expressions of call texts, for constrained decoding of tool calls.

A tool-calling model may call any of the task's tools or answer in plain text, so the constraint
is a union: the calls of any tool (each with arguments that match its parameters schema, in the
dialect's syntax) or an answer. JSON-bodied dialects build each tool's arguments with
``outlines_core``'s JSON Schema compiler; the Python-call dialect builds Python literals itself.
Schemas are first guarded as the JSON format guards them (strings capped so that they end,
small integer ranges as enums), and the guards are reported as notes.
"""

from __future__ import annotations

import json
import re
from typing import Any

#: A plain answer: starts with a letter or a quote, at most 400 characters.
ANSWER = r"""[A-Za-z"'][^\x00]{0,400}"""
_ITEMS = 6  # array items at most, in Python literals


def guarded(parameters: dict[str, Any], tool: str) -> tuple[dict[str, Any], list[str]]:
    """The parameters schema rewritten for decoding, with notes naming the tool."""
    from formtune_json.constraint import guarded_schema

    schema, notes = guarded_schema(parameters)
    return schema, [f"{tool}{note}" for note in notes]


def json_value(schema: dict[str, Any]) -> str:
    """The regex of a JSON value of ``schema`` as ``json.dumps`` writes it (one optional space)."""
    from outlines_core.json_schema import build_regex_from_schema

    return build_regex_from_schema(json.dumps(schema), r"[ ]?")


def repeated(item: str, separator: str, most: int) -> str:
    """``item`` once, then up to ``most - 1`` more, separated."""
    return f"{item}(?:{separator}{item}){{0,{most - 1}}}"


def sequence(items: list[tuple[str, bool]], separator: str) -> str:
    """Items in order, each ``(regex, required)``, separated where two are present.

    Optional items may be left out anywhere, so the separator belongs to the item that follows
    another one; before the first required item the regex branches once per optional item, which
    keeps it quadratic in the number of items, not exponential.
    """

    def after_one(i: int) -> str:  # items[i:], some item already written
        parts = []
        for regex, required in items[i:]:
            parts.append(f"{separator}{regex}" if required else f"(?:{separator}{regex})?")
        return "".join(parts)

    def none_yet(i: int) -> str:  # items[i:], nothing written so far
        if i == len(items):
            return ""
        regex, required = items[i]
        if required:
            return regex + after_one(i + 1)
        return f"(?:{regex}{after_one(i + 1)}|{none_yet(i + 1)})"

    return none_yet(0)


def python_literal(value: Any) -> str:
    """``value`` as the Python-call dialect writes it: JSON, except True, False and None."""
    if value is True:
        return "True"
    if value is False:
        return "False"
    if value is None:
        return "None"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k), ensure_ascii=False)}: {python_literal(v)}"
                               for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(python_literal(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


_ANY_PY = r'(?:"(?:[^"\\\n]|\\.){0,200}"|-?\d{1,15}(?:\.\d{1,15})?|True|False|None)'


def python_value(schema: Any) -> str:
    """The regex of a Python literal valid under ``schema`` (bounded; unknown shapes: any scalar)."""
    if not isinstance(schema, dict):
        return _ANY_PY
    if "const" in schema:
        return re.escape(python_literal(schema["const"]))
    if "enum" in schema:
        return "(?:" + "|".join(re.escape(python_literal(v)) for v in schema["enum"]) + ")"
    branches = schema.get("anyOf") or schema.get("oneOf")
    if branches:
        return "(?:" + "|".join(python_value(b) for b in branches) + ")"
    kind = schema.get("type")
    if isinstance(kind, list):
        return "(?:" + "|".join(python_value({**schema, "type": k}) for k in kind) + ")"
    if kind == "boolean":
        return "(?:True|False)"
    if kind == "null":
        return "None"
    if kind == "object":
        properties = schema.get("properties", {})
        required = set(schema.get("required", []))
        items = [(re.escape(json.dumps(name, ensure_ascii=False)) + ": " + python_value(sub), name in required)
                 for name, sub in properties.items()]
        return r"\{" + sequence(items, ", ") + r"\}"
    if kind == "array":
        item = python_value(schema.get("items", {}))
        low = int(schema.get("minItems", 0))
        high = max(low, min(int(schema.get("maxItems", _ITEMS)), _ITEMS))
        if high == 0:
            return r"\[\]"
        body = f"{item}(?:, {item}){{{max(low - 1, 0)},{high - 1}}}"
        return rf"\[{body}\]" if low else rf"\[(?:{body})?\]"
    if kind in ("string", "integer", "number"):
        return json_value(schema)  # JSON strings and numbers are Python literals too
    return _ANY_PY


def python_arguments(parameters: dict[str, Any]) -> str:
    """The regex of ``name=value, ...`` keyword arguments, in the schema's property order."""
    required = set(parameters.get("required", []))
    items = [(re.escape(name) + "=" + python_value(sub), name in required)
             for name, sub in parameters.get("properties", {}).items()]
    return sequence(items, ", ")
