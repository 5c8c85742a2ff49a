"""Running a model on a BFCL category and scoring it as BFCL does.

Each question offers its own functions: they are listed in the system prompt by the chosen dialect
(the same place and shape as in formtune's training rows, so a tuned model sees what it learned),
after the instructions and, for an untuned model, the dialect's rules of calling; with the
``native`` dialect the model's chat template lists them. Completions are decoded leniently, as BFCL
decodes prompted models (fences and missing brackets tolerated), or in the template's own syntax
with ``native``; a completion that does not decode counts as no call. Scoring is :func:`formtune_tools.bfcl.score_question`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from formtune import BenchmarkResult, Task
from formtune.conversation import chat_messages
from formtune_tools.dialect import describe
from formtune_tools.native import TemplateSyntax, is_native, openai_tool
from formtune_tools.bfcl import Question, as_tool, category_of, expects_no_call, load_questions, score_question
from formtune_tools.scoring import Outcome, summarize

DEFAULT_INSTRUCTIONS = "You are a helpful assistant. Call the tools the request needs, or answer without a call."
_STARTS = {"hermes": r"\s*(<|`)", "json-list": r"\s*(\[|\{|`)", "python": r"\s*(\[|`|[A-Za-z_][\w.]*(\(|$))"}


def prompt_settings(task: Task | None, dialect: str | None = None) -> tuple[str, str, str]:
    """``(instructions, tool listing, dialect name)``: a tool-calling task's own, so that its tuned
    model is prompted as it was trained, else formtune's defaults (the python dialect, as BFCL
    prints answers). ``dialect`` overrides the task's."""
    if task is None or task.spec.format != "tool-calls":
        return DEFAULT_INSTRUCTIONS, "json", dialect or "python"
    options = task.options("tools")
    return task.spec.instructions, options.listing, dialect or options.dialect


def conversation(question: Question, dialect: Any, instructions: str, rules: bool,
                 listing: str = "json") -> dict[str, Any]:
    """The chat row the model answers: system prompt with the question's tools (or, with the
    ``native`` dialect, the tools for the chat template to list), then its first turn."""
    tools = [as_tool(f) for f in question.functions]
    system = f"{instructions}\n\n{dialect.rules}" if rules and getattr(dialect, "rules", "") else instructions
    if is_native(dialect):
        return {"messages": chat_messages(system, question.turns[0]), "tools": [openai_tool(t) for t in tools]}
    return {"messages": chat_messages(system, [{"role": "system", "content": describe(dialect, tools, listing)},
                                               *question.turns[0]])}


def decode(read: Callable[[str], list[dict[str, Any]] | None], text: str) -> list[dict[str, Any]] | None:
    """The calls of a completion as ``read`` finds them; None when it does not decode (BFCL: no call)."""
    try:
        return read(text) or []
    except ValueError:
        return None


def reader(dialect: Any, tokenizer: Any) -> Callable[[str], list[dict[str, Any]] | None]:
    """How completions are read: leniently in a text dialect, as BFCL reads prompted models
    (fences and missing brackets tolerated); in the template's own syntax with ``native``."""
    if is_native(dialect):
        return TemplateSyntax(tokenizer).read
    return getattr(dialect, "parse_lenient", dialect.parse)


def run(path: Path, dialect: Any, *, model: str | None = None, adapter: Path | None = None,
        instructions: str = DEFAULT_INSTRUCTIONS, rules: bool = True, listing: str = "json", limit: int | None = None,
        batch_size: int = 8, max_new_tokens: int = 256, progress: bool = True) -> list[dict[str, Any]]:
    """Answer every question of a BFCL file; one row per question with its text, calls and outcome."""
    from formtune.generation import generate
    from formtune.hardware import bf16_supported
    from formtune.progress import progress_bar
    from formtune.train import load_tuned

    category = category_of(path)
    questions = load_questions(path)[:limit]
    lm, tokenizer = load_tuned(model, adapter, dtype="bfloat16" if bf16_supported() else "float32")
    conversations = [conversation(q, dialect, instructions, rules, listing) for q in questions]
    read = reader(dialect, tokenizer)
    start = re.compile(_STARTS.get(dialect.name, r"."))

    def viable(text: str) -> bool:  # a call is due: stop a row once its text cannot become one
        return not text.strip() or bool(start.match(text)) or expects_no_call(category)

    with progress_bar(progress, f"bfcl {category}", len(questions)) as advance:
        outputs = generate(lm, tokenizer, conversations, max_new_tokens=max_new_tokens, batch_size=batch_size,
                           viable=viable, on_batch=advance)
    rows = []
    for question, output in zip(questions, outputs):
        calls = decode(read, output["completion"])
        outcome: Outcome = score_question(question, category, calls)
        rows.append({"id": question.id, "text": output["completion"], "calls": calls or [],
                     "correct": outcome.correct, "error": outcome.error})
    return rows


def summarize_rows(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """:func:`~formtune_tools.scoring.summarize` over the rows :func:`run` returns."""
    return summarize([Outcome(r["correct"], r["error"]) for r in rows])


def write_answers(rows: list[dict[str, Any]], path: Path) -> None:
    """The answers as ``formtune score-calls`` reads them (one ``{"id", "calls", "text"}`` per line)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps({"id": row["id"], "calls": row["calls"], "text": row["text"]}, ensure_ascii=False) + "\n")


class BfclBenchmark:
    """``formtune eval --benchmark bfcl --data BFCL_v4_<category>.json``: BFCL's AST categories and
    irrelevance, scored as BFCL's checker scores them. A run's task gives the dialect, instructions
    and tool listing its model was trained with; the untuned model also gets the dialect's rules."""

    name = "bfcl"
    description = "Berkeley Function Calling Leaderboard, AST categories and irrelevance (a BFCL_v4_*.json file)"

    def run(self, source: Path, *, model: str | None, adapter: Path | None, task: Task | None,
            limit: int | None, batch_size: int, progress: bool) -> BenchmarkResult:
        from formtune.plugins import get_registry

        instructions, listing, dialect = prompt_settings(task)
        rows = run(source, get_registry().get("dialects", dialect), model=model, adapter=adapter,
                   instructions=instructions, listing=listing, rules=adapter is None, limit=limit,
                   batch_size=batch_size, progress=progress)
        summary = summarize_rows(rows)
        return BenchmarkResult(summary["accuracy"], summary["n"], summary["errors"], rows)
