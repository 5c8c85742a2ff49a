"""Scoring one turn: right or wrong as BFCL's AST checker decides, the category of the example,
and one error class per failure.

The error taxonomy (one class per wrong example, the first problem found):

- ``wrong_tool``: a tool other than the expected one was called;
- ``missing_arg``: an argument the answer expects (required, or asked for by the request) is absent;
- ``extra_arg``: an argument the tool does not declare, or that the request did not ask for;
- ``wrong_value``: an argument of the wrong type or value;
- ``wrong_count``: more or fewer calls than expected;
- ``malformed_call``: the text tried to call but is not a well-formed call of the dialect;
- ``call_when_none_due``: a call where the model should have answered without one;
- ``no_call_when_due``: a plain answer where a call was due.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from formtune_tools.checker import check_calls
from formtune_tools.value import calls_of

ERRORS = ("wrong_tool", "missing_arg", "extra_arg", "wrong_value", "wrong_count", "malformed_call",
          "call_when_none_due", "no_call_when_due", "answer_misses_result")


@dataclass(frozen=True)
class Outcome:
    """How one turn scored."""

    correct: bool
    error: str | None = None  # one of ERRORS when not correct
    names_right: bool = False  # the called tools are the expected ones (as a multiset)
    detail: str = ""


def possible_answer(call: dict[str, Any], tool: dict[str, Any] | None) -> dict[str, Any]:
    """The BFCL ground truth of one expected call: its own values, one level of dicts (and lists
    of dicts) as acceptable-value lists, and every parameter it leaves out marked optional
    (``""``, plus the declared default)."""
    properties = (tool or {}).get("parameters", {}).get("properties", {})
    params: dict[str, list[Any]] = {}
    for name, value in call["arguments"].items():
        params[name] = [_acceptable(value, properties.get(name, {}))]
    for name, schema in properties.items():
        if name not in params:
            params[name] = ["", schema["default"]] if isinstance(schema, dict) and "default" in schema else [""]
    return {call["name"]: params}


def _acceptable(value: Any, schema: dict[str, Any]) -> Any:
    if isinstance(value, dict):
        return _dict_answer(value, schema)
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return [_dict_answer(v, schema.get("items", {}) if isinstance(schema, dict) else {}) for v in value]
    return value


def _dict_answer(value: dict[str, Any], schema: Any) -> dict[str, list[Any]]:
    properties = schema.get("properties", {}) if isinstance(schema, dict) else {}
    answer = {k: [v] for k, v in value.items()}
    answer.update({k: [""] for k in properties if k not in value})
    return answer


def bfcl_category(category: str, expected_calls: int) -> str:
    """The BFCL checker mode for one of our categories."""
    if category in ("parallel", "parallel_multiple") or expected_calls > 1:
        return "parallel"
    return "multiple" if category == "multiple" else "simple"


def taxonomy(calls: list[dict[str, Any]], answers: list[dict[str, Any]]) -> str:
    """The error class of a turn that BFCL's checker failed, from what was called and what the
    possible answers allow: the tools first, then each call's arguments beside its expected call
    (a parameter whose only acceptable value is "" was not asked for)."""
    expected = [next(iter(a)) for a in answers]
    if sorted(c.get("name", "") for c in calls) != sorted(expected):
        return "wrong_count" if len(calls) != len(answers) else "wrong_tool"
    pairs = _pairs(calls, [(name, next(iter(a.values()))) for name, a in zip(expected, answers)])
    if any(p not in call["arguments"] for call, params in pairs for p, ok in params.items() if "" not in ok):
        return "missing_arg"
    if any(p not in params or all(v == "" for v in params[p]) for call, params in pairs for p in call["arguments"]):
        return "extra_arg"
    return "wrong_value"


def _pairs(calls: list[dict[str, Any]], expected: list[tuple[str, dict[str, list[Any]]]]) -> list[tuple[dict, dict]]:
    """Each call beside the expected call of its tool that shares most of its parameters."""
    left = list(expected)
    pairs = []
    for call in calls:
        same = [e for e in left if e[0] == call["name"]]
        best = max(same, key=lambda e: len(set(e[1]) & set(call["arguments"])))
        left.remove(best)
        pairs.append((call, best[1]))
    return pairs


def score_turn(parsed: bool, value: Any, expected: Any, functions: list[dict[str, Any]], category: str,
               language: str = "python") -> Outcome:
    """One model turn against the expected value (calls or an answer)."""
    want = calls_of(expected)
    if not parsed:
        return Outcome(False, "malformed_call")
    got = calls_of(value)
    names_right = sorted(c["name"] for c in got) == sorted(c["name"] for c in want)
    if not want:
        return Outcome(not got, None if not got else "call_when_none_due", names_right)
    if not got:
        return Outcome(False, "no_call_when_due", False)
    by_name = {f["name"]: f for f in functions}
    answers = [possible_answer(c, by_name.get(c["name"])) for c in want]
    verdict = check_calls(functions, got, answers, bfcl_category(category, len(want)), language)
    if verdict.valid:
        return Outcome(True, None, True)
    return Outcome(False, taxonomy(got, answers), names_right, verdict.message)


def summarize(outcomes: list[Outcome]) -> dict[str, Any]:
    """``{"accuracy", "n", "errors": {class: count}}`` over many turns."""
    errors = Counter(o.error for o in outcomes if o.error)
    n = len(outcomes)
    return {"accuracy": sum(o.correct for o in outcomes) / n if n else 0.0, "n": n,
            "errors": {k: errors[k] for k in ERRORS if errors[k]}}
