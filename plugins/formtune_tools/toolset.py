"""Tool sets: reading tool definitions in the shapes people already have, and checking them.

A tool, once read, is a plain dict ``{"name", "description", "parameters"}`` (``parameters`` a
JSON Schema of the arguments object), plus ``"output"`` when the definition says what the tool
returns (MCP's ``outputSchema``). Plain dicts travel unchanged into prompts, dataset rows and
JSON files. Accepted definitions:

- OpenAI function definitions: ``{"type": "function", "function": {"name", "description", "parameters"}}``;
- MCP tool definitions: ``{"name", "description", "inputSchema", "outputSchema"?}``;
- bare function definitions: ``{"name", "description", "parameters"}`` (OpenAI's inner object);
- Python functions with type hints, and pydantic models (see :mod:`formtune_tools.pyfunc`).

Every definition is checked when it is read: a misspelt key, a parameters schema that is not an
object schema, a ``required`` name that is not a property, two tools with one name. Each mistake
is one :class:`~formtune.errors.SchemaError` naming where the tools came from, the tool and the field.
"""

from __future__ import annotations

import importlib
import json
import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import jsonschema

from formtune.errors import SchemaError

Tool = dict[str, Any]

#: Tool names as OpenAI allows them, plus dots (BFCL's ``math.factorial``).
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$")
_OPENAI_KEYS = {"name", "description", "parameters", "strict"}
_MCP_KEYS = {"name", "title", "description", "inputSchema", "outputSchema", "annotations", "_meta", "icons"}
_REF = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


def read_tools(definitions: Iterable[Any], source: str) -> list[Tool]:
    """Check and normalize ``definitions``; ``source`` names where they came from, for errors."""
    from formtune_tools.pyfunc import is_python_tool, python_tool

    tools: list[Tool] = []
    for position, definition in enumerate(definitions, start=1):
        if is_python_tool(definition):
            tool = python_tool(definition, source)
        else:
            tool = _from_definition(definition, source, position)
        if any(t["name"] == tool["name"] for t in tools):
            raise SchemaError(f"{source}: tool {tool['name']!r} is defined twice; tool names must be unique")
        tools.append(tool)
    if not tools:
        raise SchemaError(f"{source}: no tools; give at least one tool definition")
    return tools


def _from_definition(definition: Any, source: str, position: int) -> Tool:
    where = f"{source}: tool #{position}"
    if not isinstance(definition, dict):
        raise SchemaError(f"{where}: expected a tool definition (a mapping), got {type(definition).__name__}")
    if definition.get("type") == "function" and "function" in definition:
        extra = set(definition) - {"type", "function"}
        if extra:
            raise SchemaError(f"{where}: unknown field {sorted(extra)[0]!r} beside 'type' and 'function'")
        return _from_definition(definition["function"], source, position)
    name = definition.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        raise SchemaError(f"{where}: field 'name': {name!r} is not a tool name (letters, digits, '_', '.', "
                          "'-', at most 64, not starting with a digit)")
    where = f"{source}: tool {name!r}"
    mcp = "inputSchema" in definition
    allowed = _MCP_KEYS if mcp else _OPENAI_KEYS
    unknown = sorted(set(definition) - allowed)
    if unknown:
        shape = "an MCP tool" if mcp else "a function definition"
        raise SchemaError(f"{where}: unknown field {unknown[0]!r} in {shape} (fields: {', '.join(sorted(allowed))})")
    description = definition.get("description", "")
    if not isinstance(description, str):
        raise SchemaError(f"{where}: field 'description' must be a string")
    key = "inputSchema" if mcp else "parameters"
    parameters = definition.get(key, {"type": "object", "properties": {}})
    check_parameters(parameters, f"{where}: field '{key}")
    tool: Tool = {"name": name, "description": description, "parameters": parameters}
    if mcp and "outputSchema" in definition:
        _check_schema(definition["outputSchema"], f"{where}: field 'outputSchema")
        tool["output"] = definition["outputSchema"]
    return tool


def check_parameters(parameters: Any, where: str) -> None:
    """Raise a SchemaError unless ``parameters`` is a JSON Schema of an arguments object.

    ``where`` ends inside a quoted field name (``"...: field 'parameters"``), so that a problem
    deeper down reads ``field 'parameters.properties.qty.type'``."""
    if not isinstance(parameters, dict):
        raise SchemaError(f"{where}': must be a JSON Schema object, got {type(parameters).__name__}")
    if parameters.get("type") != "object":
        raise SchemaError(f"{where}.type': must be 'object' (the arguments are an object), "
                          f"got {parameters.get('type')!r}")
    _check_schema(parameters, where)
    properties = parameters.get("properties", {})
    for name in parameters.get("required", []):
        if name not in properties:
            raise SchemaError(f"{where}.required': {name!r} is required but not among the properties; "
                              "add it under 'properties' or drop it from 'required'")


def _check_schema(schema: Any, where: str) -> None:
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        field = "".join(f".{p}" if isinstance(p, str) else f"[{p}]" for p in exc.absolute_path)
        raise SchemaError(f"{where}{field}': {exc.message}") from None


def load_tool_file(path: Path) -> list[Tool]:
    """The tools of a JSON or YAML file: a list of definitions, or ``{"tools": [...]}`` (the shape
    of MCP's ``tools/list`` result)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SchemaError(f"{path}: cannot read the tool set ({exc})") from None
    try:
        if path.suffix in {".yaml", ".yml"}:
            import yaml

            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except Exception as exc:  # json.JSONDecodeError, yaml.YAMLError
        raise SchemaError(f"{path}: not valid JSON/YAML: {exc}") from None
    return read_tools(_definitions(data, str(path)), str(path))


def _definitions(data: Any, source: str) -> list[Any]:
    if isinstance(data, dict) and set(data) == {"tools"}:
        data = data["tools"]
    if not isinstance(data, list):
        raise SchemaError(f"{source}: a tool set is a list of tool definitions (or {{tools: [...]}})")
    return data


def load_tool_set(ref: Any, base_dir: Path, registered: Callable[[str], list[Tool]]) -> list[Tool]:
    """The tools a task's ``schema:`` names: a file, ``"module:attr"`` (Python functions, pydantic
    models or definitions), or an inline ``{tools: [...], include: [registered set, ...]}``."""
    if isinstance(ref, str):
        path = base_dir / ref
        if path.is_file():
            return load_tool_file(path)
        if _REF.match(ref):
            return read_tools(_import(ref, base_dir), ref)
        raise SchemaError(f"{path} does not exist; give a tool set file relative to the task file, "
                          "'module:attr' for Python tools, or inline {tools: [...]}")
    if not isinstance(ref, dict) or not ref or set(ref) - {"tools", "include"}:
        raise SchemaError("an inline tool set is a mapping with 'tools' (definitions) and/or 'include' "
                          "(names of registered tool sets)")
    tools = read_tools(_definitions({"tools": ref["tools"]}, "inline tools"), "inline tools") if "tools" in ref else []
    for name in ref.get("include", []):
        for tool in registered(name):
            if any(t["name"] == tool["name"] for t in tools):
                raise SchemaError(f"tool set {name!r}: tool {tool['name']!r} is already defined; "
                                  "tool names must be unique")
            tools.append(tool)
    return tools


def _import(ref: str, base_dir: Path) -> list[Any]:
    module_name, _, attr = ref.partition(":")
    if str(base_dir) not in sys.path:  # tools may live next to the task file
        sys.path.insert(0, str(base_dir))
    try:
        value = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise SchemaError(f"cannot import tools {ref!r}: {exc}") from None
    return list(value) if isinstance(value, (list, tuple)) else [value]


def registered_tools(registry: Any, name: str) -> list[Tool]:
    """The checked tools of the tool set ``name`` that a plugin registered."""
    from formtune.errors import PluginError

    try:
        tool_set = registry.get("tool_sets", name)
    except PluginError as exc:
        raise SchemaError(str(exc)) from None
    tools = tool_set.tools() if callable(tool_set.tools) else tool_set.tools
    return read_tools(tools, f"tool set {name!r}")


def general_tools(task: Any) -> list[Tool]:
    """The tools of the task's ``tools.general`` file (checked once per task), or none."""
    general = task.options("tools").general
    if general is None:
        return []
    return task.memo("tool-calls:general-tools", lambda: load_tool_file(task.base_dir / general.tools))
