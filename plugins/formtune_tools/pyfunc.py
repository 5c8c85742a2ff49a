"""Tools from Python: a function with type hints, or a pydantic model of the arguments.

The parameters schema is derived by pydantic (so ``Literal`` becomes an ``enum``, a nested model
an object, ``int = 3`` an optional integer). Descriptions come from the docstring: its first
paragraph describes the tool, and a Google-style ``Args:`` section describes the parameters,
unless ``Annotated[..., Field(description=...)]`` already does. ``$ref`` to nested models are
inlined (when not recursive), so that prompts show every tool whole.
"""

from __future__ import annotations

import inspect
import re
import typing
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PydanticUserError, create_model

from formtune.errors import SchemaError

_ARG = re.compile(r"^\s{2,}(\w+)(?:\s*\([^)]*\))?:\s*(.+)$")


def is_python_tool(obj: Any) -> bool:
    return inspect.isfunction(obj) or (isinstance(obj, type) and issubclass(obj, BaseModel))


def python_tool(obj: Any, source: str) -> dict[str, Any]:
    """The tool a function or pydantic model describes; errors name ``source`` and the tool."""
    name = obj.__name__
    where = f"{source}: tool {name!r}"
    summary, arg_docs = _docstring(inspect.getdoc(obj) or "")
    if inspect.isfunction(obj):
        model = _arguments_model(obj, arg_docs, where)
    else:
        model = obj
    try:
        schema = model.model_json_schema()
    except (PydanticUserError, TypeError, ValueError) as exc:
        raise SchemaError(f"{where}: cannot derive a JSON Schema of its arguments: {exc}") from None
    parameters = _inline(_untitled(schema))
    parameters.pop("description", None)  # the model's docstring is the tool's description
    parameters.setdefault("properties", {})
    from formtune_tools.toolset import check_parameters

    check_parameters(parameters, f"{where}: field 'parameters")
    return {"name": name, "description": summary, "parameters": parameters}


def _arguments_model(fn: Any, arg_docs: dict[str, str], where: str) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    try:
        hints = typing.get_type_hints(fn, include_extras=True)  # resolves string annotations
    except (NameError, TypeError) as exc:
        raise SchemaError(f"{where}: cannot read its type hints: {exc}") from None
    for param in inspect.signature(fn).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise SchemaError(f"{where}: parameter {param.name!r}: *args and **kwargs cannot be described; "
                              "name every parameter")
        if param.name not in hints:
            raise SchemaError(f"{where}: parameter {param.name!r} has no type hint; add one (e.g. 'str')")
        default = ... if param.default is param.empty else param.default
        described = {"description": arg_docs[param.name]} if param.name in arg_docs else {}
        fields[param.name] = (hints[param.name], Field(default, **described))
    try:
        return create_model(fn.__name__, __config__=ConfigDict(extra="forbid"), **fields)
    except (PydanticUserError, TypeError, NameError) as exc:
        raise SchemaError(f"{where}: cannot read its type hints: {exc}") from None


def _docstring(doc: str) -> tuple[str, dict[str, str]]:
    """The first paragraph, and the parameter descriptions of an ``Args:`` section."""
    summary = " ".join(doc.split("\n\n", 1)[0].split())
    args: dict[str, str] = {}
    section = re.search(r"^(?:Args|Arguments|Parameters):\s*$(.*?)(?:^\S|\Z)", doc, re.MULTILINE | re.DOTALL)
    if section:
        for line in section.group(1).splitlines():
            match = _ARG.match(line)
            if match:
                args[match[1]] = match[2].strip()
    return summary, args


def _untitled(node: Any) -> Any:
    """The schema without pydantic's generated ``title`` annotations (a property *named* title,
    whose value is a schema, is kept)."""
    if isinstance(node, dict):
        return {k: _untitled(v) for k, v in node.items() if not (k == "title" and isinstance(v, str))}
    if isinstance(node, list):
        return [_untitled(v) for v in node]
    return node


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with local ``#/$defs/X`` references replaced by their definitions, unless a
    definition refers to itself (then the references and ``$defs`` stay)."""
    defs = schema.get("$defs", {})

    def walk(node: Any, seen: tuple[str, ...]) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                name = ref.removeprefix("#/$defs/")
                if name in seen or name not in defs:
                    raise _Recursive
                siblings = {k: walk(v, seen) for k, v in node.items() if k != "$ref"}  # a field's description
                return {**walk(defs[name], (*seen, name)), **siblings}
            return {k: walk(v, seen) for k, v in node.items() if k != "$defs"}
        if isinstance(node, list):
            return [walk(v, seen) for v in node]
        return node

    try:
        return walk(schema, ())
    except _Recursive:
        return schema


class _Recursive(Exception):
    pass
