"""The Python-call dialect: ``[get_weather(city="Oslo", days=3), …]``, as BFCL prints answers and
asks prompted models to answer.

Reading is done with Python's own parser on the literal subset only (keyword arguments whose
values are strings, numbers, True/False/None, lists and dicts): nothing is ever evaluated.
Strictly, the calls must be one bracketed list and every argument named; leniently, as BFCL
decodes prompted models, fences and missing brackets are tolerated, positional arguments are
ignored, and a bare name or an expression is its own source text.
"""

from __future__ import annotations

import ast
import keyword
import re
from typing import Any

from formtune.errors import SchemaError
from formtune_tools import constraint
from formtune_tools.constraint import python_literal
from formtune_tools.dialect import MAX_CALL_TEXT, TextDialect
from formtune_tools.value import Call

_CALL_START = re.compile(r"^[A-Za-z_][\w.]*\s*\(")
_DOTTED = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*$")


class PythonCallsDialect(TextDialect):
    name = "python"
    description = "Python calls in a list: [get_weather(city=\"Oslo\")] (BFCL's answer syntax)"
    rules = ("To call tools, answer only with a list of Python calls with named arguments: "
             "[tool_name(param=value, ...), other_tool(...)]. If no tool fits the request, answer in plain text.")

    def check_tools(self, tools: list[dict[str, Any]]) -> None:
        """Tool names must be (dotted) identifiers and parameter names identifiers."""
        for tool in tools:
            if not _DOTTED.match(tool["name"]):
                raise SchemaError(f"tool {tool['name']!r}: the python dialect needs a (dotted) identifier as name")
            for name in tool["parameters"].get("properties", {}):
                if not name.isidentifier() or keyword.iskeyword(name):
                    raise SchemaError(f"tool {tool['name']!r}: parameter {name!r} cannot be a Python keyword "
                                      "argument; rename it or use the hermes or json-list dialect")

    def render(self, calls: list[Call]) -> str:
        return "[" + ", ".join(f"{c['name']}(" + ", ".join(f"{k}={python_literal(v)}" for k, v in c["arguments"].items())
                               + ")" for c in calls) + "]"

    def parse(self, text: str) -> list[Call] | None:
        text = text.strip()
        if text.startswith("["):
            return _read(text, strict=True)
        if _CALL_START.match(text):
            raise ValueError("calls must be written inside a list: [tool(param=value)]")
        return None

    def parse_lenient(self, text: str) -> list[Call] | None:
        body = text.strip("`\n ")
        body = body.removeprefix("python").strip() if body.startswith("python\n") else body
        if not (body.startswith("[") or _CALL_START.match(body)):
            return None
        if not body.startswith("["):
            body = "[" + body
        if not body.endswith("]"):
            body += "]"
        return _read(body, strict=False)

    def pattern(self, tools: list[dict[str, Any]], answer: str, most: int) -> str | None:
        one = "|".join(rf"{re.escape(t['name'])}\({constraint.python_arguments(t['parameters'])}\)" for t in tools)
        return rf"\[(?:{constraint.repeated(f'(?:{one})', ', ', most)})?\]|(?:{answer})"


def _read(text: str, *, strict: bool) -> list[Call]:
    if len(text) > MAX_CALL_TEXT:
        raise ValueError(f"a call text of {len(text)} characters is too long")
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise ValueError(f"not a list of Python calls: {getattr(exc, 'msg', exc)}") from None
    if not isinstance(tree.body, ast.List):
        raise ValueError("calls must be one list: [tool(param=value), ...]")
    calls = []
    for i, node in enumerate(tree.body.elts, start=1):
        if not isinstance(node, ast.Call):
            raise ValueError(f"item {i} of the list is not a call")
        if node.args and strict:  # BFCL's decoder ignores positional arguments
            raise ValueError(f"call {i}: positional arguments; name every argument (param=value)")
        arguments = {}
        for kw in node.keywords:
            if kw.arg is None:
                raise ValueError(f"call {i}: **kwargs is not an argument")
            if kw.arg in arguments:
                raise ValueError(f"call {i}: argument {kw.arg!r} is given twice")
            arguments[kw.arg] = _literal(kw.value, strict, f"call {i}, argument {kw.arg!r}")
        calls.append({"name": _dotted(node.func, i), "arguments": arguments})
    return calls


def _dotted(node: ast.expr, i: int) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value, i)}.{node.attr}"
    raise ValueError(f"call {i}: the function is not a (dotted) name")


def _literal(node: ast.expr, strict: bool, where: str) -> Any:
    try:
        return _value(node, strict, where)
    except RecursionError:
        raise ValueError(f"{where}: nested too deeply") from None


def _value(node: ast.expr, strict: bool, where: str) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, int, float, bool, type(None))):
        return node.value
    if (isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd))
            and isinstance(node.operand, ast.Constant) and type(node.operand.value) in (int, float)):
        return -node.operand.value if isinstance(node.op, ast.USub) else node.operand.value
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_value(v, strict, where) for v in node.elts]
    if isinstance(node, ast.Dict):
        result = {}
        for k, v in zip(node.keys, node.values):
            if k is None:
                raise ValueError(f"{where}: ** inside a dict")
            key = _value(k, strict, where)
            if not isinstance(key, str):
                raise ValueError(f"{where}: dict keys must be strings")
            result[key] = _value(v, strict, where)
        return result
    if not strict:  # as BFCL's decoder: a variable is its name, an expression its source text
        return node.id if isinstance(node, ast.Name) else ast.unparse(node)
    raise ValueError(f"{where}: {ast.unparse(node)[:40]!r} is not a literal (string, number, True/False/None, list, dict)")
