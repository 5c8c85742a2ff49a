"""JSON as an output format: strict by default, with opt-in lenient extraction."""

from __future__ import annotations

import json
import re
from typing import Any

from formtune.violations import Checked, Violation

_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.DOTALL)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _loads(text: str) -> Any:
    return json.loads(text, parse_constant=_reject_constant)


class JsonFormat:
    """The whole completion must be exactly one JSON document (surrounding whitespace aside)."""

    name = "json"

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


_MISSING = object()


def _extract(text: str) -> Any:
    """The first JSON document inside code fences or prose, or ``_MISSING``."""
    for block in _FENCE.findall(text):
        try:
            return _loads(block)
        except ValueError:
            pass
    decoder = json.JSONDecoder(parse_constant=_reject_constant)
    for match in re.finditer(r"[\[{]", text):
        try:
            return decoder.raw_decode(text, match.start())[0]
        except ValueError:
            continue
    return _MISSING
