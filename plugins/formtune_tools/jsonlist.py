"""The bare JSON-list dialect: ``[{"name": …, "arguments": {…}}, …]`` and nothing else.

Any text that opens with ``[`` or ``{`` is read as calls; ``[]`` is an explicit "no call".
"""

from __future__ import annotations

import json
import re
from typing import Any

from formtune_tools import constraint
from formtune_tools.dialect import MAX_CALL_TEXT, TextDialect, checked_call, strict_json
from formtune_tools.value import Call

_FENCE = re.compile(r"```(?:json)?\s*\n?(.*?)```", re.DOTALL)


class JsonListDialect(TextDialect):
    name = "json-list"
    description = 'a bare JSON list of calls: [{"name": …, "arguments": {…}}]'
    rules = ('To call tools, answer only with a JSON list of calls: [{"name": <tool name>, "arguments": '
             "<the arguments as a JSON object>}, ...]. If no tool fits the request, answer in plain text.")

    def render(self, calls: list[Call]) -> str:
        return json.dumps(calls, ensure_ascii=False)

    def parse(self, text: str) -> list[Call] | None:
        text = text.strip()
        if not text.startswith(("[", "{")):
            return None
        if len(text) > MAX_CALL_TEXT:
            raise ValueError(f"a call text of {len(text)} characters is too long")
        data = strict_json(text, "calls")
        if not isinstance(data, list):
            raise ValueError("calls must be a JSON list, even for one call: [{...}]")
        return [checked_call(item, f"call {i}") for i, item in enumerate(data, 1)]

    def parse_lenient(self, text: str) -> list[Call] | None:
        """Also a list inside a code fence, and a single call object without its list."""
        fenced = _FENCE.search(text)
        body = (fenced[1] if fenced else text).strip()
        if body.startswith("{"):
            body = f"[{body}]"
        return self.parse(body)

    def pattern(self, tools: list[dict[str, Any]], answer: str, most: int) -> str | None:
        one = "|".join(rf'\{{"name": {re.escape(json.dumps(t["name"]))}, "arguments": '
                       rf'{constraint.json_value(t["parameters"])}\}}' for t in tools)
        return rf"\[(?:{constraint.repeated(f'(?:{one})', ', ', most)})?\]|(?:{answer})"

    def viable(self, text: str) -> bool:
        """False once a complete JSON value is followed by more text, or the text opens with a
        JSON value that is not a list."""
        text = text.lstrip()
        if not text or not text.startswith(("[", "{")):
            return True
        if text.startswith("{"):
            return False
        from formtune_json.format import JsonFormat

        return JsonFormat().viable(text)
