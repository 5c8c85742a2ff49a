"""Tool-calling metrics, per evaluated turn: BFCL-style accuracy overall and per category, tool-name
and argument accuracy, and the error taxonomy of :mod:`formtune_tools.scoring`.

The category of a turn follows from the example itself, as BFCL defines its categories: history
before the turn (multi-turn), no call expected (irrelevance), one call with one tool offered
(simple) or several (multiple), several calls of one tool (parallel) or of several (parallel
multiple). The offered tools are those the input's system message carries, else the task's.

A multi-turn answer (tool results are in, no call is due) must also report what the results say:
every value of the latest results that the expected answer quotes must appear in the answer
(``answer_misses_result`` otherwise). BFCL's AST checker does not read answers; without this a
turn that merely refrains from calling would count as right.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from formtune.contrib import Attempt, Metric
from formtune_tools.options import CATEGORIES
from formtune_tools.requests import result_scalars
from formtune_tools.scoring import ERRORS, Outcome, score_turn
from formtune_tools.value import calls_of


def offered_tools(input: Any, task: Any) -> list[dict[str, Any]]:
    if isinstance(input, list) and input and input[0].get("role") == "system" and "tools" in input[0]:
        return input[0]["tools"]
    return list(task.schema) if task is not None else []


def category(input: Any, expected: Any, offered: int) -> str:
    """The BFCL-style category of a turn (see the module docstring)."""
    if isinstance(input, list) and any(m.get("role") in ("assistant", "tool") for m in input):
        return "multi_turn"
    calls = calls_of(expected)
    if not calls:
        return "irrelevance"
    if len(calls) == 1:
        return "simple" if offered == 1 else "multiple"
    return "parallel" if len({c["name"] for c in calls}) == 1 else "parallel_multiple"


def outcome(attempt: Attempt) -> tuple[str, Outcome] | None:
    """The turn's category and how it scored; None without an expected value."""
    if attempt.expected is None:
        return None
    offered = offered_tools(attempt.input, attempt.task)
    functions = {t["name"]: t for t in [*(attempt.task.schema if attempt.task else []), *offered]}
    kind = category(attempt.input, attempt.expected, len(offered))
    checked = attempt.checked
    strict = checked.parsed and not checked.lenient
    scored = score_turn(strict, checked.value, attempt.expected, list(functions.values()), kind)
    if kind == "multi_turn" and scored.correct and not calls_of(attempt.expected):
        missing = [v for v in quoted_results(attempt.input, attempt.expected.get("answer", ""))
                   if v.casefold() not in str(checked.value.get("answer", "")).casefold()]
        if missing:
            return kind, Outcome(False, "answer_misses_result", True, f"does not report {', '.join(missing)}")
    return kind, scored


def quoted_results(input: Any, answer: str) -> list[str]:
    """The values of the latest tool results (the tool turns that end the input) that ``answer``
    quotes, as text."""
    values = []
    for message in reversed(input if isinstance(input, list) else []):
        if message.get("role") != "tool":
            break
        try:
            result = json.loads(message.get("content", ""))
        except ValueError:
            continue
        values += [str(v) for _, v in result_scalars(result) if not isinstance(v, bool) and v is not None]
    return [v for v in dict.fromkeys(values) if v.casefold() in answer.casefold()]


def _accuracy(only: str | None) -> Callable[[Attempt], float | None]:
    def score(attempt: Attempt) -> float | None:
        found = outcome(attempt)
        if found is None or (only is not None and found[0] != only):
            return None
        return float(found[1].correct)

    return score


def _names(attempt: Attempt) -> float | None:
    found = outcome(attempt)
    return None if found is None else float(found[1].names_right and found[1].error != "malformed_call")


def _arguments(attempt: Attempt) -> float | None:
    found = outcome(attempt)
    if found is None or not calls_of(attempt.expected) or not found[1].names_right:
        return None
    return float(found[1].correct)


def _error(kind: str) -> Callable[[Attempt], float | None]:
    def score(attempt: Attempt) -> float | None:
        found = outcome(attempt)
        return None if found is None else float(found[1].error == kind)

    return score


FORMATS = ("tool-calls",)


def tool_metrics() -> list[Metric]:
    metrics = [Metric("accuracy", _accuracy(None), "share of turns right as BFCL's AST checker scores them",
                      formats=FORMATS)]
    metrics += [Metric(f"accuracy_{c}", _accuracy(c), f"accuracy on {c.replace('_', '-')} turns", formats=FORMATS)
                for c in CATEGORIES]
    metrics += [Metric("name_accuracy", _names, "share of turns that call exactly the expected tools (none when "
                       "none is due)", formats=FORMATS),
                Metric("argument_accuracy", _arguments, "among turns that call the right tools, share with every "
                       "argument right", formats=FORMATS)]
    metrics += [Metric(f"error_{k}", _error(k), f"share of turns failing with {k.replace('_', ' ')}",
                       formats=FORMATS, higher_is_better=False) for k in ERRORS]
    return metrics
