"""The Berkeley Function Calling Leaderboard's data: questions, function docs, possible answers.

A question file is ``BFCL_v<N>_<category>.json`` (JSON Lines despite the name); its possible
answers are in ``possible_answer/`` beside it, under the same name. Function docs use BFCL's
flavour of JSON Schema (``dict``, ``float``, ``tuple``, ``any`` and Java/JS type names):
:func:`to_json_schema` turns them into JSON Schema for prompts and validation, while scoring reads
them as BFCL does. Answers to score are ``{"id", "calls": [{"name", "arguments"}]}`` lines.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from formtune.errors import UsageError
from formtune_tools.scoring import Outcome, taxonomy
from formtune_tools.checker import check_calls

_NAME = re.compile(r"^BFCL_v\d+_(.+)\.json$")
_JSON_TYPES = {"dict": "object", "float": "number", "tuple": "array", "any": None, "integer": "integer",
               "string": "string", "boolean": "boolean", "array": "array", "number": "number", "object": "object"}


@dataclass
class Question:
    id: str
    turns: list[list[dict[str, Any]]]  # the messages of each user turn
    functions: list[dict[str, Any]]  # BFCL function docs, as given
    answers: list[dict[str, Any]] | None  # possible answers: one {tool: {param: [values]}} per call


def category_of(path: Path) -> str:
    match = _NAME.match(Path(path).name)
    if not match:
        raise UsageError(f"{path}: not a BFCL question file (BFCL_v<N>_<category>.json)")
    return match[1]


def language_of(category: str) -> str:
    return "java" if category.endswith("_java") else "javascript" if category.endswith("_javascript") else "python"


def expects_no_call(category: str) -> bool:
    return "irrelevance" in category


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    try:
        return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}:{exc.lineno}: not JSON Lines ({exc.msg})") from None


def load_questions(path: Path, answers: Path | None = None) -> list[Question]:
    """The questions of a BFCL file with their possible answers (from ``possible_answer/`` beside
    it unless ``answers`` names the file; none for the irrelevance categories)."""
    path = Path(path)
    category = category_of(path)
    if "multi_turn" in category or category in ("memory", "web_search"):
        raise UsageError(f"{category}: not an AST category (BFCL checks it by executing calls or by answer text)")
    answers = answers or path.parent / "possible_answer" / path.name
    truth: dict[str, Any] = {}
    if not expects_no_call(category) and category != "live_relevance":
        if not answers.is_file():
            raise UsageError(f"{answers}: no possible answers for {path.name}; pass --possible FILE")
        truth = {row["id"]: row["ground_truth"] for row in read_jsonl(answers)}
    return [Question(row["id"], row["question"], row.get("function", []), truth.get(row["id"]))
            for row in read_jsonl(path)]


def to_json_schema(node: Any) -> Any:
    """A BFCL parameters schema as JSON Schema: ``dict`` → ``object``, ``float`` → ``number``,
    ``tuple`` → ``array``, ``any`` → no type; Java/JS types as BFCL maps them to JSON."""
    if isinstance(node, list):
        return [to_json_schema(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "type" and isinstance(value, str):
            mapped = _JSON_TYPES.get(value, _JAVA_JS.get(value))
            if mapped:
                out["type"] = mapped
        elif key == "properties" and isinstance(value, dict):
            out[key] = {name: to_json_schema(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties"):
            out[key] = to_json_schema(value)
        elif key == "optional":
            continue  # BFCL's annotation; "required" already says it
        else:
            out[key] = value
    return out


_JAVA_JS = {"String": "string", "Boolean": "boolean", "boolean": "boolean", "long": "integer", "int": "integer",
            "short": "integer", "byte": "integer", "Bigint": "integer", "double": "number", "char": "string",
            "Array": "array", "ArrayList": "array", "HashMap": "object", "Hashtable": "object",
            "Queue": "array", "Stack": "array", "Set": "array", "Any": None}


def as_tool(function: dict[str, Any]) -> dict[str, Any]:
    """A BFCL function doc as a formtune tool (JSON Schema parameters)."""
    parameters = to_json_schema(function.get("parameters") or {"type": "object", "properties": {}})
    parameters.setdefault("type", "object")
    return {"name": function["name"], "description": function.get("description", ""), "parameters": parameters}


def answer_calls(answers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A call for each possible answer: the first acceptable value of each parameter, leaving out
    those only marked optional (what a perfect model would say)."""
    return [{"name": name, "arguments": {p: _first(values) for p, values in params.items() if _first(values) != ""}}
            for answer in answers for name, params in answer.items()]


def _first(values: list[Any], top: bool = True) -> Any:
    """The first acceptable value; at the top level, a dict's (or each listed dict's) own
    acceptable-value lists are resolved too, one level deep as BFCL's dict checker reads them."""
    value = next((v for v in values if v != ""), "")
    if top and isinstance(value, dict):
        return _one_dict(value)
    if top and isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return [_one_dict(v) for v in value]
    return value


def _one_dict(value: dict[str, Any]) -> dict[str, Any]:
    picked = {k: _first(v, top=False) if isinstance(v, list) else v for k, v in value.items()}
    return {k: v for k, v in picked.items() if v != ""}


def score_question(question: Question, category: str, calls: list[dict[str, Any]] | None) -> Outcome:
    """One answer (``None``: the text did not decode to calls) as BFCL scores it: irrelevance is
    right when nothing decodes to a call, relevance when something does."""
    got = calls or []
    names = [c.get("name") for c in got]
    if expects_no_call(category):
        return Outcome(not got, None if not got else "call_when_none_due", not got)
    if category == "live_relevance":
        return Outcome(bool(got), None if got else "no_call_when_due", bool(got))
    if calls is None:
        return Outcome(False, "malformed_call")
    if not got:
        return Outcome(False, "no_call_when_due")
    verdict = check_calls(question.functions, got, question.answers or [], category, language_of(category))
    names_right = sorted(names) == sorted(n for a in question.answers or [] for n in a)
    if verdict.valid:
        return Outcome(True, None, True)
    return Outcome(False, taxonomy(got, question.answers or []), names_right, verdict.message)


def read_answers(path: Path) -> dict[str, list[dict[str, Any]]]:
    """``{id: calls}`` from an ANSWERS.jsonl file; each line ``{"id", "calls": [{"name", "arguments"}]}``."""
    found: dict[str, list[dict[str, Any]]] = {}
    for number, row in enumerate(read_jsonl(path), start=1):
        calls = row.get("calls") if isinstance(row, dict) else None
        if "id" not in row or not isinstance(calls, list) or not all(
                isinstance(c, dict) and isinstance(c.get("name"), str) and isinstance(c.get("arguments", {}), dict)
                for c in calls):
            raise UsageError(f"{path}:{number}: expected "
                             '{"id": …, "calls": [{"name": …, "arguments": {…}}]}')
        found[row["id"]] = [{"name": c["name"], "arguments": c.get("arguments", {})} for c in calls]
    return found


def score_file(questions_path: Path, answers_path: Path, possible: Path | None = None) -> list[Outcome]:
    """Every question of a BFCL file scored against its answer (a missing answer counts as no call)."""
    category = category_of(questions_path)
    questions = load_questions(questions_path, possible)
    answers = read_answers(answers_path)
    unknown = sorted(set(answers) - {q.id for q in questions})
    if unknown:
        raise UsageError(f"{answers_path}: ids not in {Path(questions_path).name}: {', '.join(unknown[:5])}")
    return [score_question(q, category, answers.get(q.id, [])) for q in questions]
