"""The JSON format's decoding constraint: the task's JSON Schema as outlines compiles it, with
guards against what outlines gets wrong.

outlines turns a JSON Schema into a regular expression. Three of its gaps bite small models:

- strings without ``maxLength`` are unbounded, and so are its ``email`` and ``uri`` patterns: a
  model that keeps choosing "one more character" never closes the string and the document is cut
  at the token limit. Plain strings get ``maxLength`` (``STRING_CAP``), and ``format: email``
  becomes a bounded email pattern;
- ``minimum``/``maximum`` are not enforced at all. A bounded integer range of at most
  ``ENUM_LIMIT`` values becomes an ``enum`` of them; wider bounds are left to the validator and
  reported;
- ``uniqueItems`` is not enforced either (a regular expression cannot remember earlier items):
  reported, and left to the validator.

The rewritten schema only steers decoding: outputs are still validated against the task's own
schema.
"""

from __future__ import annotations

import copy
from typing import Any

STRING_CAP = 200
ENUM_LIMIT = 200
EMAIL_PATTERN = r"^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63}){0,3}\.[A-Za-z]{2,12}$"
_STRING_SHAPERS = ("maxLength", "enum", "const", "pattern", "format")


def guarded_schema(schema: Any) -> tuple[Any, list[str]]:
    """A copy of ``schema`` rewritten for decoding, and one note per guard applied."""
    notes: list[str] = []
    guarded = copy.deepcopy(schema)
    _guard(guarded, "", notes)
    return guarded, notes


def _guard(node: Any, path: str, notes: list[str]) -> None:
    if isinstance(node, list):
        for i, child in enumerate(node):
            _guard(child, f"{path}/{i}", notes)
        return
    if not isinstance(node, dict):
        return
    types = node.get("type")
    types = set(types) if isinstance(types, list) else {types}
    where = path or "/"
    if "string" in types:
        if node.get("format") == "email" and "pattern" not in node:
            del node["format"]
            node["pattern"] = EMAIL_PATTERN
            notes.append(f"{where}: email decoded with a bounded pattern")
        elif not any(k in node for k in _STRING_SHAPERS):
            node["maxLength"] = STRING_CAP
            notes.append(f"{where}: string capped at {STRING_CAP} characters while decoding")
    if types & {"integer", "number"}:
        low, high = node.get("minimum"), node.get("maximum")
        if types == {"integer"} and isinstance(low, int) and isinstance(high, int) and 0 <= high - low < ENUM_LIMIT:
            node["enum"] = list(range(low, high + 1))
            notes.append(f"{where}: integer range {low}..{high} decoded as its {high - low + 1} values")
        elif any(k in node for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")):
            notes.append(f"{where}: numeric bounds not enforced while decoding (the validator checks them)")
    if "array" in types and node.get("uniqueItems") is True:
        notes.append(f"{where}: uniqueItems not enforced while decoding (the validator checks it)")
    for key, child in node.items():
        if key not in ("enum", "const", "examples", "default"):
            _guard(child, f"{path}/{key}", notes)
