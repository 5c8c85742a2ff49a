"""Metrics for JSON outputs: parse and validity rates, exact match, field-level P/R/F1."""

from __future__ import annotations

from typing import Any

from formtune.contrib import Attempt, Metric


def leaves(value: Any, path: str = "") -> set[tuple[str, str]]:
    """``(json_pointer, normalized_leaf)`` pairs; empty containers count as leaves."""
    if isinstance(value, dict) and value:
        return {pair for key, child in value.items() for pair in leaves(child, f"{path}/{key}")}
    if isinstance(value, list) and value:
        return {pair for i, child in enumerate(value) for pair in leaves(child, f"{path}/{i}")}
    if isinstance(value, bool) or value is None:
        return {(path, repr(value))}
    if isinstance(value, (int, float)):
        return {(path, repr(float(value)))}  # 3 and 3.0 are the same JSON number
    return {(path, repr(value))}


def _field_scores(attempt: Attempt) -> tuple[float, float, float] | None:
    if attempt.expected is None:
        return None
    gold = leaves(attempt.expected)
    strict = attempt.checked.parsed and not attempt.checked.lenient
    pred = leaves(attempt.checked.value) if strict else set()
    hits = len(gold & pred)
    precision = hits / len(pred) if pred else 0.0
    recall = hits / len(gold) if gold else float(not pred)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def _field(i: int):
    def score(attempt: Attempt) -> float | None:
        scores = _field_scores(attempt)
        return None if scores is None else scores[i]

    return score


def _exact(attempt: Attempt) -> float | None:
    if attempt.expected is None:
        return None
    return float(attempt.checked.valid and leaves(attempt.checked.value) == leaves(attempt.expected))


METRICS = (
    Metric("parse_rate", lambda a: float(a.checked.parsed and not a.checked.lenient),
           "share of outputs that are exactly one document of the format"),
    Metric("schema_valid", lambda a: float(a.checked.valid),
           "share of outputs that parse strictly and satisfy the schema"),
    Metric("lenient_valid", lambda a: float(a.checked.lenient_valid),
           "share valid once extracted from fences or prose (lenient tasks only; never counts as valid)"),
    Metric("exact_match", _exact, "share of valid outputs equal to the reference"),
    Metric("field_precision", _field(0), "share of emitted leaf fields that are right"),
    Metric("field_recall", _field(1), "share of reference leaf fields emitted right"),
    Metric("field_f1", _field(2), "harmonic mean of field precision and recall"),
)
