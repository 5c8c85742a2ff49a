"""The ``native`` tool-call dialect against real chat templates.

    python benchmarks/native_templates.py FOLDER [--tokenizer PATH]

FOLDER holds chat templates as ``.jinja`` files, for instance llama.cpp's
``models/templates/`` (the real templates of Qwen, Llama, Mistral, Hermes, SmolLM3, Granite …,
which the ``llama-cpp-python`` source package on PyPI carries under ``vendor/llama.cpp``; they
are not copied into this repository). For each template the script puts it on a tokenizer (the
default model's, from formtune's cache, unless ``--tokenizer`` names another) and asks the
dialect's own code what a user's model would meet:

- whether the template lists the tools it is given (``formtune.models.require_tool_template``);
- whether :class:`formtune_tools.native.TemplateSyntax` learns how it writes calls;
- whether calls the template writes in an assistant turn (one call, parallel calls, nested and
  list arguments, quotes and non-ASCII text) read back as the same calls.

One line per template, then ``templates: N, tool-capable: M, syntax learnt: L, round trips ok: K``.
Only tokenization-free rendering runs: no model weights are loaded.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "plugins")]

from formtune.errors import ModelError  # noqa: E402
from formtune_tools.native import TemplateSyntax, openai_tool, tool_calls  # noqa: E402

TOOL = {"name": "lookup_order", "description": "Find an order.",
        "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}}}
CASES: list[list[dict[str, Any]]] = [
    [{"name": "lookup_order", "arguments": {"order_id": "ORD-1042"}}],
    [{"name": "get_weather", "arguments": {"city": "Oslo", "days": 3}},
     {"name": "get_weather", "arguments": {"city": "Zürich", "days": 1}}],
    [{"name": "ship", "arguments": {"items": [{"sku": "AB-1", "qty": 2}], "express": True, "note": None}}],
    [{"name": "reply", "arguments": {"text": 'He said "hi" \\ then left: 5 € ≥ 4', "tags": ["a", "b"]}}],
]


def assistant_turn(tokenizer: Any, calls: list[dict[str, Any]]) -> str:
    """What the template writes for an assistant turn of ``calls``: the text between the prompt
    and the end of turn (found by rendering a plain answer the same way)."""
    tools = [openai_tool(TOOL)]
    user = [{"role": "user", "content": "Where is my order?"}]
    prompt = tokenizer.apply_chat_template(user, tools=tools, tokenize=False, add_generation_prompt=True)
    full = tokenizer.apply_chat_template([*user, {"role": "assistant", "content": "", "tool_calls": tool_calls(calls)}],
                                         tools=tools, tokenize=False)
    plain = tokenizer.apply_chat_template([*user, {"role": "assistant", "content": "PLAIN"}], tools=tools, tokenize=False)
    end = plain[plain.rindex("PLAIN") + len("PLAIN"):]
    turn = full[len(prompt):] if full.startswith(prompt) else full
    return turn[:len(turn) - len(end)] if end and turn.endswith(end) else turn


def check(tokenizer: Any, name: str) -> tuple[bool, bool, int, int, str]:
    """``(tool-capable, syntax learnt, round trips passed, round trips tried, first problem)``."""
    from formtune.models import require_tool_template

    try:
        require_tool_template(tokenizer, name)
    except ModelError as exc:
        return False, False, 0, 0, str(exc)[:110]
    try:
        syntax = TemplateSyntax(tokenizer, where=name)
    except ModelError as exc:
        return True, False, 0, 0, str(exc)[:110]
    passed, tried, problem = 0, 0, ""
    for calls in CASES:
        if syntax.between is None and len(calls) > 1:
            continue  # the template writes one call per turn
        tried += 1
        try:
            text = assistant_turn(tokenizer, calls)
            read = syntax.read(text)
        except Exception as exc:  # a template may refuse a case; a reader may reject it
            problem = problem or f"{type(exc).__name__}: {str(exc)[:90]}"
            continue
        if read == calls:
            passed += 1
        else:
            problem = problem or f"read {str(read)[:60]} from {text[:50]!r}"
    return True, True, passed, tried, problem


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--tokenizer", help="a tokenizer folder (default: the default model's, from formtune's cache)")
    args = parser.parse_args()
    from transformers import AutoTokenizer

    from formtune.models import resolve_model

    tokenizer = AutoTokenizer.from_pretrained(args.tokenizer or resolve_model(None))
    counts = [0, 0, 0, 0]
    for path in sorted(args.folder.glob("*.jinja")):
        tokenizer.chat_template = path.read_text(encoding="utf-8")
        capable, learnt, passed, tried, problem = check(tokenizer, path.stem)
        ok = learnt and passed == tried
        counts = [counts[0] + 1, counts[1] + capable, counts[2] + learnt, counts[3] + ok]
        status = f"{passed}/{tried} round trips" if learnt else ("syntax not learnt" if capable else "no tools")
        print(f"{path.stem[:48]:48s} {status:18s} {problem}")
    print(f"templates: {counts[0]}, tool-capable: {counts[1]}, syntax learnt: {counts[2]}, round trips ok: {counts[3]}")


if __name__ == "__main__":
    main()
