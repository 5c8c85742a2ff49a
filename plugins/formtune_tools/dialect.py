"""The base of tool-call dialects: what every text dialect shares.

A dialect (``formtune.Dialect``) says how one model family writes calls in plain text. This base
class adds what a dialect *may* offer beyond the protocol, with defaults:

- ``rules``: how to call, in words, for the full prompt of an untuned model;
- ``parse_lenient(text)``: calls found with tolerance (fences, chatter around them);
- ``tool_message(call, result)``: how a tool's result is shown to the model in a later turn;
- ``pattern(tools, answer, most)``: a regular expression of every valid call text for these tools
  (at most ``most`` calls in a turn) or ``answer``, for constrained decoding (``None``: the
  dialect cannot constrain);
- ``viable(text)``: whether a partial completion can still become a call or an answer.
"""

from __future__ import annotations

import json
from typing import Any

from formtune_tools.value import Call


class TextDialect:
    """Subclass it, set ``name``/``description``/``rules`` and implement render, parse, pattern."""

    name: str = ""
    description: str = ""
    rules: str = ""

    def describe_tools(self, tools: list[dict[str, Any]], listing: str = "json") -> str:
        """One line per tool under a heading: compact JSON, or a signature (``listing="signatures"``)."""
        return "Tools you can call:\n" + tool_lines(tools, listing)

    def render(self, calls: list[Call]) -> str:
        raise NotImplementedError

    def parse(self, text: str) -> list[Call] | None:
        raise NotImplementedError

    def parse_lenient(self, text: str) -> list[Call] | None:
        return self.parse(text)

    def tool_message(self, call: Call, result: Any) -> dict[str, Any]:
        return {"role": "tool", "name": call["name"], "content": json.dumps(result, ensure_ascii=False)}

    def pattern(self, tools: list[dict[str, Any]], answer: str, most: int) -> str | None:
        return None

    def viable(self, text: str) -> bool:
        return True


def describe(dialect: Any, tools: list[dict[str, Any]], listing: str) -> str:
    """The offered tools as ``dialect`` lists them, in the task's listing style when the dialect
    offers styles (a dialect of the bare protocol lists tools its own way)."""
    if isinstance(dialect, TextDialect):
        return dialect.describe_tools(tools, listing)
    return dialect.describe_tools(tools)


def tool_lines(tools: list[dict[str, Any]], listing: str = "json") -> str:
    """One line per tool: its definition as compact JSON (name, description, parameters), or with
    ``listing="signatures"`` a typed signature and the description, a third of the tokens:
    ``quote(to: {country: "DE"|"FR", zip: string}, kg: number, express?: boolean) - Quotes shipping.``"""
    if listing == "signatures":
        return "\n".join(f"{t['name']}({_fields(t['parameters'])})"
                         + (f" - {t['description']}" if t.get("description") else "") for t in tools)
    return "\n".join(json.dumps({"name": t["name"], "description": t.get("description", ""),
                                 "parameters": t["parameters"]}, ensure_ascii=False, separators=(",", ":"))
                     for t in tools)


def _fields(schema: dict[str, Any]) -> str:
    required = set(schema.get("required", []))
    return ", ".join(f"{name}{'' if name in required else '?'}: {signature_type(sub)}"
                     for name, sub in schema.get("properties", {}).items())


def signature_type(schema: Any) -> str:
    """A JSON Schema as a short type: ``string``, ``"a"|"b"``, ``[integer]``, ``{x: number, y?: string}``."""
    if not isinstance(schema, dict):
        return "any"
    if "const" in schema:
        return json.dumps(schema["const"], ensure_ascii=False)
    if "enum" in schema:
        return "|".join(json.dumps(v, ensure_ascii=False) for v in schema["enum"])
    branches = schema.get("anyOf") or schema.get("oneOf")
    if branches:
        return "|".join(signature_type(b) for b in branches)
    kind = schema.get("type")
    if isinstance(kind, list):
        return "|".join(signature_type({**schema, "type": k}) for k in kind)
    if kind == "array":
        return f"[{signature_type(schema.get('items', {}))}]"
    if kind == "object" or "properties" in schema:
        return f"{{{_fields(schema)}}}" if schema.get("properties") else "object"
    if kind == "string" and "format" in schema:
        return f"string({schema['format']})"
    return kind if isinstance(kind, str) else "any"


def checked_call(obj: Any, where: str) -> Call:
    """A ``{"name", "arguments"}`` object read from JSON, or a ValueError saying what is off."""
    if not isinstance(obj, dict):
        raise ValueError(f"{where}: a call is an object {{\"name\": ..., \"arguments\": {{...}}}}")
    if set(obj) != {"name", "arguments"}:
        raise ValueError(f"{where}: a call has exactly the keys 'name' and 'arguments', not {sorted(obj)}")
    if not isinstance(obj["name"], str) or not obj["name"]:
        raise ValueError(f"{where}: 'name' must be a non-empty string")
    if not isinstance(obj["arguments"], dict):
        raise ValueError(f"{where}: 'arguments' must be an object")
    return {"name": obj["name"], "arguments": obj["arguments"]}


#: Size limit of a completion a dialect will try to read as calls (bounds the work on hostile input).
MAX_CALL_TEXT = 100_000


def strict_json(text: str, where: str) -> Any:
    """One strict JSON document (the JSON format's rules: no repeated keys, finite numbers,
    bounded depth), or a ValueError naming ``where``."""
    from formtune_json.format import JsonFormat

    checked = JsonFormat().parse(text)
    if not checked.parsed:
        raise ValueError(f"{where}: {checked.violations[0].message}")
    return checked.value
