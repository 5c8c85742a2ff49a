"""The core's metrics, computed for every task through its format.

``parse_rate``, ``schema_valid`` and ``lenient_valid`` need only the checked output; exact match
and field precision, recall and F1 compare with the reference through the format's
``canonical`` form and ``fields`` (JSON-pointer leaves for JSON and YAML, element and attribute
paths for XML). Plugins add their own metrics beside these (``register_metrics``).
"""

from __future__ import annotations

from collections.abc import Callable

from formtune.contrib import Attempt, Format, Metric


def _format(attempt: Attempt) -> Format:
    assert attempt.task is not None, "core metrics need the attempt's task"
    return attempt.task.format


def _strict(attempt: Attempt) -> bool:
    return attempt.checked.parsed and not attempt.checked.lenient


def _field_scores(attempt: Attempt) -> tuple[float, float, float] | None:
    if attempt.expected is None:
        return None
    fmt = _format(attempt)
    gold = fmt.fields(attempt.expected)
    pred = fmt.fields(attempt.checked.value) if _strict(attempt) else set()
    hits = len(gold & pred)
    precision = hits / len(pred) if pred else float(not gold)  # nothing asked, nothing said: right
    recall = hits / len(gold) if gold else float(not pred)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def _field(i: int) -> Callable[[Attempt], float | None]:
    def score(attempt: Attempt) -> float | None:
        scores = _field_scores(attempt)
        return None if scores is None else scores[i]

    return score


def _exact(attempt: Attempt) -> float | None:
    if attempt.expected is None:
        return None
    fmt = _format(attempt)
    return float(attempt.checked.valid and fmt.canonical(attempt.checked.value) == fmt.canonical(attempt.expected))


CORE_METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("parse_rate", lambda a: float(_strict(a)), "share of outputs that are exactly one document of the format"),
    Metric("schema_valid", lambda a: float(a.checked.valid),
           "share of outputs that parse strictly and pass every validator of the task"),
    Metric("lenient_valid", lambda a: float(a.checked.lenient_valid),
           "share valid once extracted from fences or prose (lenient tasks only; never counts as valid)"),
    Metric("exact_match", _exact, "share of outputs that are valid and equal to the reference"),
    Metric("field_precision", _field(0), "share of emitted fields that are right"),
    Metric("field_recall", _field(1), "share of reference fields emitted right"),
    Metric("field_f1", _field(2), "harmonic mean of field precision and recall"),
)}
