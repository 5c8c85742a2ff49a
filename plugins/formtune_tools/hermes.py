"""The Hermes / Qwen dialect: one ``<tool_call>{json}</tool_call>`` block per call, tools listed in
``<tools></tools>`` in the system prompt. Qwen2.5's and Hermes' chat templates write exactly
this, so a model of those families starts close to it; for others the tags are plain text.
"""

from __future__ import annotations

import json
import re
from typing import Any

from formtune_tools import constraint
from formtune_tools.dialect import MAX_CALL_TEXT, TextDialect, checked_call, strict_json, tool_lines
from formtune_tools.value import Call

OPEN, CLOSE = "<tool_call>", "</tool_call>"
_BLOCK = re.compile(r"\s*<tool_call>(.*?)</tool_call>\s*", re.DOTALL)


class HermesDialect(TextDialect):
    name = "hermes"
    description = "<tool_call>{\"name\": …, \"arguments\": {…}}</tool_call> blocks (Hermes, Qwen)"
    rules = ("To call tools, answer only with one block per call:\n<tool_call>\n"
             '{"name": <tool name>, "arguments": <the arguments as a JSON object>}\n</tool_call>\n'
             "If no tool fits the request, answer in plain text without any block.")

    def describe_tools(self, tools: list[dict[str, Any]], listing: str = "json") -> str:
        return f"<tools>\n{tool_lines(tools, listing)}\n</tools>"

    def render(self, calls: list[Call]) -> str:
        # "</" is written "<\/" (the same JSON string), so a value can never close its block.
        return "\n".join(f"{OPEN}\n{json.dumps(c, ensure_ascii=False).replace('</', '<' + chr(92) + '/')}\n{CLOSE}"
                         for c in calls)

    def parse(self, text: str) -> list[Call] | None:
        text = text.strip()
        if OPEN not in text and CLOSE not in text:
            return None
        if len(text) > MAX_CALL_TEXT:
            raise ValueError(f"a call text of {len(text)} characters is too long")
        calls, position = [], 0
        while position < len(text):
            match = _BLOCK.match(text, position)
            if match is None:
                raise ValueError(f"text outside <tool_call> blocks at character {position}: "
                                 f"{text[position:position + 30]!r}")
            where = f"call {len(calls) + 1}"
            calls.append(checked_call(strict_json(match[1].strip(), where), where))
            position = match.end()
        return calls

    def parse_lenient(self, text: str) -> list[Call] | None:
        """Blocks anywhere in the text, chatter around them ignored; a last block may lack its
        closing tag (a model that stopped right after the JSON)."""
        if OPEN not in text:
            return None
        bodies = [m[1] for m in re.finditer(r"<tool_call>(.*?)(?:</tool_call>|$)", text[:MAX_CALL_TEXT], re.DOTALL)]
        return [checked_call(strict_json(b.strip(), f"call {i}"), f"call {i}") for i, b in enumerate(bodies, 1)]

    def pattern(self, tools: list[dict[str, Any]], answer: str, most: int) -> str | None:
        one = "|".join(rf'\{{"name": {re.escape(json.dumps(t["name"]))}, "arguments": '
                       rf'{constraint.json_value(t["parameters"])}\}}' for t in tools)
        block = rf"{re.escape(OPEN)}\n(?:{one})\n{re.escape(CLOSE)}"
        return f"(?:{constraint.repeated(block, chr(10), most)})|(?:{answer})"

    def viable(self, text: str) -> bool:
        """False once a text that opened a call has a finished block that is not a call, or text
        after its blocks that cannot start another one."""
        text = text.lstrip()
        if not text.startswith("<"):
            return True
        if not text.startswith(OPEN):
            return OPEN.startswith(text)
        finished = text[: text.rfind(CLOSE) + len(CLOSE)] if CLOSE in text else ""
        rest = text[len(finished):].strip()
        try:
            if finished:
                self.parse(finished)
        except ValueError:
            return False
        return not rest or rest.startswith(OPEN) or OPEN.startswith(rest)
