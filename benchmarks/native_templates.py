"""The ``native`` tool-call dialect against real chat templates.

    python benchmarks/native_templates.py FOLDER [--tokenizer PATH]

FOLDER holds chat templates as ``.jinja`` files, for instance llama.cpp's
``models/templates/`` (the real templates of Qwen, Llama, Mistral, Hermes, SmolLM3, Granite …,
which the ``llama-cpp-python`` source package on PyPI carries under ``vendor/llama.cpp``; they
are not copied into this repository). For each template the script puts it on a tokenizer (the
default model's, from formtune's cache, unless ``--tokenizer`` names another) and asks the
dialect's own code what a user's model would meet:

- whether the template lists the tools it is given (``formtune.chat_templates.require_tool_template``);
- whether :class:`formtune_tools.native.TemplateSyntax` learns how it writes calls;
- whether calls the template writes in an assistant turn (one call, parallel calls, nested and
  list arguments, quotes and non-ASCII text) read back as the same calls.

One line per template (name, tools yes/no, syntax learnt or not, round trips passed/tried, the
first problem), then ``templates: N, tool-capable: M, syntax learnt: L, round trips ok: K``.
Only tokenization-free rendering runs: no model weights are loaded.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from formtune_tools.native import TemplateSyntax, openai_tool, tool_calls

from formtune.errors import ModelError

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
    and the end of turn (found by rendering a plain answer the same way). Written apart from
    ``TemplateSyntax``'s own rendering, so that it checks that rendering too."""
    tools = [openai_tool(TOOL)]
    user = [{"role": "user", "content": "Where is my order?"}]
    prompt = tokenizer.apply_chat_template(user, tools=tools, tokenize=False, add_generation_prompt=True)
    full = tokenizer.apply_chat_template([*user, {"role": "assistant", "content": "", "tool_calls": tool_calls(calls)}],
                                         tools=tools, tokenize=False)
    plain = tokenizer.apply_chat_template([*user, {"role": "assistant", "content": "PLAIN"}], tools=tools, tokenize=False)
    end = plain[plain.rindex("PLAIN") + len("PLAIN"):]
    turn = full.removeprefix(prompt)
    return turn[:len(turn) - len(end)] if end and turn.endswith(end) else turn


def _written(tokenizer: Any, calls: list[dict[str, Any]]) -> str:
    """The start of what the template writes for ``calls``, or why it writes nothing."""
    try:
        text = assistant_turn(tokenizer, calls).strip()
    except Exception as exc:  # noqa: BLE001 - the template's own error is the answer
        return f"({type(exc).__name__}: {exc})"
    return repr(text[:110]) if text else "(nothing: it drops tool_calls)"


def check(tokenizer: Any, name: str) -> tuple[bool, bool, int, int, str]:
    """``(tool-capable, syntax learnt, round trips passed, round trips tried, first problem)``."""
    from formtune.chat_templates import require_tool_template

    capable = False
    try:
        require_tool_template(tokenizer, name)
        capable = True
        syntax = TemplateSyntax(tokenizer, where=name)
    except ModelError as exc:  # the cause, without the template's name and the advice that follow it
        problem = re.split(r"; |, so ", str(exc).replace(f" of {name}", ""))[0]
        if problem.startswith("cannot learn"):  # show what the template writes instead
            problem = f"cannot learn the syntax of {_written(tokenizer, CASES[1])}"
        return capable, False, 0, 0, problem
    passed, tried, problem = 0, 0, ""
    for calls in CASES:
        if syntax.between is None and len(calls) > 1:
            continue  # the template writes one call per turn
        tried += 1
        try:
            text = assistant_turn(tokenizer, calls)
            read = syntax.read(text)
        except Exception as exc:  # noqa: BLE001 - a template may refuse a case; a reader may reject it
            problem = problem or f"{type(exc).__name__}: {exc}"
            continue
        if read == calls:
            passed += 1
        else:
            problem = problem or f"read {read} from {text!r}"
    return True, True, passed, tried, problem


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--tokenizer", help="a tokenizer folder (default: the default model's, from formtune's cache)")
    args = parser.parse_args()
    from transformers import AutoTokenizer

    from formtune.models import resolve_model

    tokenizer = AutoTokenizer.from_pretrained(args.tokenizer or resolve_model(None))
    templates = capable_count = learnt_count = ok_count = 0
    for path in sorted(args.folder.glob("*.jinja")):
        tokenizer.chat_template = path.read_text(encoding="utf-8")
        capable, learnt, passed, tried, problem = check(tokenizer, path.stem)
        ok = learnt and passed == tried
        templates, capable_count, learnt_count, ok_count = (templates + 1, capable_count + capable,
                                                             learnt_count + learnt, ok_count + ok)
        trips = f"{passed}/{tried}" if learnt else "-"
        print(f"{path.stem[:44]:44s} tools {'yes' if capable else 'no ':3s}  syntax {'learnt' if learnt else 'no    '}"
              f"  {trips:4s} {problem[:150]}")
    print(f"templates: {templates}, tool-capable: {capable_count}, syntax learnt: {learnt_count}, "
          f"round trips ok: {ok_count}")


if __name__ == "__main__":
    main()
