"""The value of a tool-calling completion, and how two of them compare.

A completion is either calls or a plain answer, never both:

- ``{"calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}, ...]}``: one turn's calls
  (several are parallel calls; an empty list is an explicit "no call", such as ``[]``);
- ``{"answer": "Sorry, I cannot book flights."}``: a plain-text reply: abstaining when no tool
  fits, or the final answer once tool results are in.

For scoring, every answer is the same as no call: what counts is *whether* and *which* tools were
called, not the wording of a reply. Parallel calls are compared without order.
"""

from __future__ import annotations

import json
from typing import Any

Call = dict[str, Any]


def calls_of(value: Any) -> list[Call]:
    """The calls of a value ([] for an answer)."""
    return list(value.get("calls", [])) if isinstance(value, dict) else []


def is_call_value(value: Any) -> bool:
    return isinstance(value, dict) and bool(value.get("calls"))


def calls_value(calls: list[Call]) -> dict[str, Any]:
    return {"calls": [{"name": c["name"], "arguments": c["arguments"]} for c in calls]}


def answer_value(text: str) -> dict[str, Any]:
    return {"answer": text}


def _canonical_json(value: Any) -> Any:
    """Data in which ``3 == 3.0`` and key order does not matter."""
    if isinstance(value, dict):
        return {str(k): _canonical_json(v) for k, v in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        return [_canonical_json(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    return str(value)


def call_key(call: Call) -> str:
    """A string that equal calls share, whatever their argument order."""
    return json.dumps([call.get("name"), _canonical_json(call.get("arguments"))], sort_keys=True)


def canonical(value: Any) -> list[str]:
    """Calls as an order-free list; every answer (and ``[]``) is the same empty list."""
    return sorted(call_key(c) for c in calls_of(value))


def fields(value: Any) -> set[tuple[str, str]]:
    """One unit per argument leaf, under ``/<tool>/<n>/`` (the n-th call of that tool, calls in
    canonical order), plus one per call with no arguments; an answer is the single unit "no call"."""
    calls = sorted(calls_of(value), key=call_key)
    if not calls:
        return {("", "no call")}
    units: set[tuple[str, str]] = set()
    seen: dict[str, int] = {}
    for call in calls:
        n = seen[call["name"]] = seen.get(call["name"], -1) + 1
        prefix = f"/{call['name']}/{n}"
        leaves = _leaves(call.get("arguments") or {}, prefix)
        units |= leaves or {(prefix, "()")}
    return units


def _leaves(value: Any, path: str) -> set[tuple[str, str]]:
    if isinstance(value, dict) and value:
        return {u for k, v in value.items() for u in _leaves(v, f"{path}/{k}")}
    if isinstance(value, list) and value:
        return {u for i, v in enumerate(value) for u in _leaves(v, f"{path}/{i}")}
    return {(path, json.dumps(_canonical_json(value)))}
