"""The conversations formtune trains and evaluates on, in TRL's ``{"messages": [...]}`` shape.

An example's input is either a text (one user turn) or a list of messages (the turns before the
one the model answers: user turns, earlier assistant turns, tool results), so multi-turn tasks
such as tool calling use the same path as single-turn extraction.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

Message = dict[str, Any]
Input = str | list[Message]


def chat_messages(system: str, input: Input, output_text: str | None = None) -> list[Message]:
    """The conversation for one example; the assistant turn is left out when ``output_text`` is None.

    An input that opens with a system message carries the example's own context (the tools one
    conversation offers): it joins the system prompt, so the model sees one system turn.
    """
    turns = [{"role": "user", "content": input}] if isinstance(input, str) else list(input)
    if turns and turns[0].get("role") == "system":
        system, turns = f"{system}\n\n{turns[0]['content']}".strip(), turns[1:]
    messages = [{"role": "system", "content": system}, *turns]
    if output_text is not None:
        messages.append({"role": "assistant", "content": output_text})
    return messages


def input_key(input: Input) -> str:
    """A key under which inputs that differ only in case and spacing are the same (de-duplication)."""
    text = input if isinstance(input, str) else json.dumps(input, sort_keys=True, ensure_ascii=False)
    normalized = re.sub(r"\s+", " ", text.strip().lower())
    return hashlib.sha256(normalized.encode()).hexdigest()
