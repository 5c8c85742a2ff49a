"""The Berkeley Function Calling Leaderboard's AST checker, re-implemented with the same verdicts.

An expected answer is BFCL's ``possible_answer``: one ``{tool: {param: [acceptable values]}}``
per expected call, where ``""`` among the acceptable values means the parameter may be left out.
A call is right when (as BFCL's ``simple_function_checker`` decides):

1. its name is the expected tool's;
2. every required parameter is there, and no parameter is unknown to the tool or to the answer;
3. each value has the parameter's type, with BFCL's coercions: an int is accepted for a float
   (top level only), a value whose type matches the acceptable values' type is a "variable" and
   skips the type rule; lists are checked one level deep;
4. each value is among the acceptable ones: strings compared after dropping spaces and
   ``,./-_*^`` and lowering case, lists item by item the same way, dicts key by key (one level),
   lists of dicts dict by dict, anything else by Python equality (so ``1 == 1.0``);
5. every parameter of the answer not marked optional is given.

Parallel calls are matched without order, greedily in the answer's order, as BFCL does. Beyond
BFCL, JSON Schema's ``number`` and ``object`` are read as ``float`` and ``dict`` and a parameter
without a single ``type`` is not type-checked, so the same checker scores tasks whose tools are
plain JSON Schema. Java and JavaScript parameters are checked against their BFCL type tables on
values already converted from code strings (the ``ANSWERS.jsonl`` shape), not on the strings,
so their ``any`` accepts any value.

Each failure has BFCL's ``error_type`` (``simple_function_checker:missing_required`` …).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

PYTHON_TYPES: dict[str, type] = {"string": str, "integer": int, "float": float, "boolean": bool, "array": list,
                                 "tuple": list, "dict": dict, "any": str, "number": float, "object": dict}
# Java and JavaScript values arrive converted from code strings, so "any" really is any type there.
JAVA_TYPES: dict[str, type] = {"byte": int, "short": int, "integer": int, "float": float, "double": float,
                               "long": int, "boolean": bool, "char": str, "Array": list, "ArrayList": list,
                               "Set": set, "HashMap": dict, "Hashtable": dict, "Queue": list, "Stack": list,
                               "String": str}
JS_TYPES: dict[str, type] = {"String": str, "integer": int, "float": float, "Bigint": int, "Boolean": bool,
                             "dict": dict, "array": list}
_NESTED = {"python": {"array", "tuple"}, "java": {"Array", "ArrayList", "array"},
           "javascript": {"Array", "ArrayList", "array"}}
_TABLES = {"python": PYTHON_TYPES, "java": JAVA_TYPES, "javascript": JS_TYPES}
_STANDARDIZE = re.compile(r"[ ,./\-_*^]")


@dataclass(frozen=True)
class Verdict:
    """A checker's decision: ``kind`` is BFCL's error type when ``valid`` is false."""

    valid: bool
    kind: str = ""
    message: str = ""
    cause: str = ""  # for a parallel turn with no match: the error type of the closest attempt


OK = Verdict(True)


def standardize(text: str) -> str:
    """BFCL's string normalization: no spaces or ``,./-_*^``, lower case, ``'`` as ``\"``."""
    return _STANDARDIZE.sub("", text).lower().replace("'", '"')


def _standard(value: Any) -> Any:
    return standardize(value) if isinstance(value, str) else value


def _answer_type(possible: list[Any]) -> type | None:
    return next((type(v) for v in possible if v != ""), None)


def _type_check(param: str, value: Any, possible: list[Any], described: str, expected: type,
                nested: type | None) -> tuple[Verdict, bool]:
    """``(verdict, is_variable)`` as BFCL's ``type_checker`` decides."""
    answer_type = _answer_type(possible)
    is_variable = answer_type is not None and answer_type != expected
    if type(value) == expected:  # noqa: E721 - exact types, as BFCL (True is no integer)
        if nested is None:
            return OK, is_variable
        for acceptable in possible:
            if not isinstance(acceptable, list) or all(
                    _type_check(param, item, acceptable, nested.__name__, nested, None)[0].valid for item in value):
                return OK, is_variable
        nested_error = Verdict(False, "type_error:nested", f"items of {param!r} are not all {nested.__name__}")
        if answer_type is not None and type(value) == answer_type:  # noqa: E721
            return nested_error, True
        return _type_error(param, described, value), is_variable
    if answer_type is not None and type(value) == answer_type:  # noqa: E721
        return OK, True  # a variable: the answer's own type stands in for the declared one
    return _type_error(param, described, value), is_variable


def _type_error(param: str, described: str, value: Any) -> Verdict:
    return Verdict(False, "type_error:simple",
                   f"incorrect type for parameter {param!r}: expected {described}, got {type(value).__name__}")


def _string_check(param: str, value: str, possible: list[Any]) -> Verdict:
    if standardize(value) in [standardize(p) for p in possible if isinstance(p, str)]:
        return OK
    return Verdict(False, "value_error:string", f"invalid value for {param!r}: {value!r}; expected one of {possible}")


def _list_check(param: str, value: list[Any], possible: list[Any]) -> Verdict:
    mine = [_standard(v) for v in value]
    if mine in [[_standard(v) for v in p] for p in possible if isinstance(p, list)]:
        return OK
    return Verdict(False, "value_error:list/tuple", f"invalid value for {param!r}: {value!r}; expected one of {possible}")


def _dict_check(param: str, value: dict[str, Any], possible: list[Any]) -> Verdict:
    verdict = Verdict(False, "dict_checker:unclear", f"invalid value for {param!r}")
    for acceptable in possible:
        if acceptable == "" or not isinstance(acceptable, dict):
            continue
        verdict = _one_dict(value, acceptable)
        if verdict.valid:
            return OK
    return verdict


def _one_dict(value: dict[str, Any], acceptable: dict[str, Any]) -> Verdict:
    for key, item in value.items():
        if key not in acceptable:
            return Verdict(False, "value_error:dict_key", f"unexpected dict key {key!r}")
        if _standard(item) not in [_standard(a) for a in acceptable[key]]:
            return Verdict(False, "value_error:dict_value", f"invalid value for dict key {key!r}: {item!r}")
    for key, allowed in acceptable.items():
        if key not in value and "" not in allowed:
            return Verdict(False, "value_error:dict_key", f"missing dict key {key!r}")
    return OK


def _list_dict_check(param: str, value: list[Any], possible: list[Any]) -> Verdict:
    verdict = Verdict(False, "list_dict_checker:unclear", f"invalid value for {param!r}")
    for acceptable in possible:
        if not isinstance(acceptable, list) or len(acceptable) != len(value):
            verdict = Verdict(False, "value_error:list_dict_count", f"wrong number of dicts in {param!r}")
            continue
        for item, wanted in zip(value, acceptable):
            verdict = _dict_check(param, item, [wanted]) if isinstance(item, dict) else Verdict(
                False, "value_error:dict_value", f"{param!r} holds a non-dict")
            if not verdict.valid:
                break
        else:
            return OK
    return verdict


def check_call(function: dict[str, Any], call: dict[str, Any], answer: dict[str, Any],
               language: str = "python") -> Verdict:
    """One call (``{"name", "arguments"}``) against one expected call (``{tool: {param: [...]}}``)
    of ``function`` (``{"name", "parameters"}``), as BFCL's ``simple_function_checker``."""
    possible = next(iter(answer.values()))
    parameters = function.get("parameters", {})
    details = parameters.get("properties", {})
    if call.get("name") != function["name"]:
        return Verdict(False, "simple_function_checker:wrong_func_name",
                       f"expected a call of {function['name']!r}, got {call.get('name')!r}")
    arguments = call.get("arguments") or {}
    for param in parameters.get("required", []):
        if param not in arguments:
            return Verdict(False, "simple_function_checker:missing_required", f"missing required parameter {param!r}")
    table = _TABLES[language]
    for param, value in arguments.items():
        if param not in details or param not in possible:
            return Verdict(False, "simple_function_checker:unexpected_param", f"unexpected parameter {param!r}")
        verdict = _check_value(param, value, details[param], possible[param], table, language)
        if not verdict.valid:
            return verdict
    for param, allowed in possible.items():
        if param not in arguments and "" not in allowed:
            return Verdict(False, "simple_function_checker:missing_optional",
                           f"parameter {param!r} is expected but not given")
    return OK


def _check_value(param: str, value: Any, detail: dict[str, Any], possible: list[Any], table: dict[str, type],
                 language: str) -> Verdict:
    described = detail.get("type")
    expected = table.get(described) if isinstance(described, str) else None
    nested = None
    if expected is not None and described in _NESTED[language]:
        item_type = (detail.get("items") or {}).get("type")
        nested = table.get(item_type) if isinstance(item_type, str) else None
    if described == "tuple" and isinstance(value, tuple):
        value = list(value)  # BFCL: JSON turned the answers' tuples into lists
    if language == "python" and described in ("float", "number") and type(value) is int:
        value = float(value)  # BFCL allows an int for a float
    is_variable = False
    if expected is not None:
        verdict, is_variable = _type_check(param, value, possible, described, expected, nested)
        if not verdict.valid:
            return verdict
    if not is_variable:
        if expected is dict or (expected is None and isinstance(value, dict)):
            return _dict_check(param, value, possible)
        if (expected is list and nested is dict) or (expected is None and isinstance(value, list)
                                                    and value and all(isinstance(v, dict) for v in value)):
            return _list_dict_check(param, value, possible)
        if expected is str or (expected is None and isinstance(value, str)):
            return _string_check(param, value, possible)
        if expected is list or (expected is None and isinstance(value, list)):
            return _list_check(param, value, possible)
    if value not in possible:
        return Verdict(False, "value_error:others", f"invalid value for {param!r}: {value!r}; expected one of {possible}")
    return OK


def _function(functions: list[dict[str, Any]], name: str) -> dict[str, Any]:
    found = next((f for f in functions if f["name"] == name), None)
    return found if found is not None else {"name": name, "parameters": {}}


def check_calls(functions: list[dict[str, Any]], calls: list[dict[str, Any]], answers: list[dict[str, Any]],
                category: str, language: str = "python") -> Verdict:
    """A turn's calls against BFCL's expected calls, as BFCL's ``ast_checker`` dispatches on the
    category: ``parallel`` in its name matches without order, ``multiple`` expects one call of
    the answer's tool among several, anything else exactly one call."""
    if "parallel" in category:
        return _no_order(functions, calls, answers, language)
    prefix = "multiple_function_checker" if "multiple" in category else "simple_function_checker"
    if len(calls) != len(answers) or ("multiple" not in category and len(calls) != 1):
        return Verdict(False, f"{prefix}:wrong_count", f"expected {len(answers)} call(s), got {len(calls)}")
    name = next(iter(answers[0]))
    return check_call(_function(functions, name), calls[0], answers[0], language)


def _no_order(functions: list[dict[str, Any]], calls: list[dict[str, Any]], answers: list[dict[str, Any]],
              language: str) -> Verdict:
    if len(calls) != len(answers):
        return Verdict(False, "parallel_function_checker_no_order:wrong_count",
                       f"expected {len(answers)} calls, got {len(calls)}")
    matched: set[int] = set()
    for i, answer in enumerate(answers):
        function = _function(functions, next(iter(answer)))
        closest = Verdict(False, "simple_function_checker:wrong_func_name", "no call left to match")
        for index, call in enumerate(calls):
            if index in matched:
                continue
            verdict = check_call(function, call, answer, language)
            if verdict.valid:
                matched.add(index)
                break
            if closest.kind.endswith("wrong_func_name"):
                closest = verdict  # a call of the right tool explains the miss better than another tool
        else:
            return Verdict(False, "parallel_function_checker_no_order:cannot_find_match",
                           f"no call matches expected call {i + 1} ({function['name']}): {closest.message}",
                           cause=closest.kind)
    return OK
