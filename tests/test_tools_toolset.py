"""Tool sets: OpenAI, MCP and Python definitions read into one shape; mistakes name the file,
the tool and the field; registered tool sets; ``formtune tools check``."""

from __future__ import annotations

import json
from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, Field

from conftest import ROOT, run_formtune
from formtune.errors import SchemaError
from formtune.plugins import build_registry
from formtune.task import load_task
from formtune_tools.toolset import load_tool_file, read_tools

WEATHER = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


def test_openai_mcp_and_bare_definitions_read_the_same():
    openai = {"type": "function", "function": {"name": "weather", "description": "Forecast.", "parameters": WEATHER}}
    mcp = {"name": "weather", "description": "Forecast.", "inputSchema": WEATHER, "annotations": {"readOnlyHint": True}}
    bare = {"name": "weather", "description": "Forecast.", "parameters": WEATHER}
    expected = [{"name": "weather", "description": "Forecast.", "parameters": WEATHER}]
    assert read_tools([openai], "x") == read_tools([mcp], "x") == read_tools([bare], "x") == expected
    with_output = read_tools([{**mcp, "outputSchema": {"type": "object"}}], "x")[0]
    assert with_output["output"] == {"type": "object"}


class Address(BaseModel):
    street: str
    country: Literal["DE", "FR"] = "DE"


def ship(address: Address, weight_kg: float, express: bool = False,
         note: Annotated[str | None, Field(description="For the courier")] = None) -> dict:
    """Quote a shipment.

    Args:
        weight_kg: Weight of the parcel in kilograms.
    """


class CancelOrder(BaseModel):
    """Cancel an order."""

    order_id: str = Field(pattern=r"^[A-Z]{2}-\d{5}$")


def test_python_functions_and_pydantic_models_become_tools():
    function, model = read_tools([ship, CancelOrder], "module")
    assert function["name"] == "ship" and function["description"] == "Quote a shipment."
    params = function["parameters"]
    assert params["required"] == ["address", "weight_kg"]
    assert params["properties"]["address"]["properties"]["country"] == {"enum": ["DE", "FR"], "type": "string",
                                                                          "default": "DE"}
    assert "$defs" not in params and "title" not in json.dumps(params)
    assert params["properties"]["weight_kg"] == {"type": "number", "description": "Weight of the parcel in kilograms."}
    assert params["properties"]["note"]["description"] == "For the courier"
    assert model == {"name": "CancelOrder", "description": "Cancel an order.", "parameters": {
        "type": "object", "properties": {"order_id": {"type": "string", "pattern": r"^[A-Z]{2}-\d{5}$"}},
        "required": ["order_id"]}}


def untyped(city):
    """No hints."""


@pytest.mark.parametrize("content, message", [
    ([{"name": "a", "paramters": WEATHER}], "tools.json: tool 'a': unknown field 'paramters'"),
    ([{"name": "a", "parameters": {"type": "object", "properties": {"q": {"type": "strng"}}}}],
     "tools.json: tool 'a': field 'parameters.properties.q.type':"),
    ([{"name": "a", "parameters": {"type": "object", "properties": {}, "required": ["q"]}}],
     "tools.json: tool 'a': field 'parameters.required': 'q' is required but not among the properties"),
    ([{"name": "a", "parameters": {"type": "array"}}], "tool 'a': field 'parameters.type': must be 'object'"),
    ([{"name": "a b", "parameters": WEATHER}], "tools.json: tool #1: field 'name'"),
    ([{"name": "a", "parameters": WEATHER}, {"name": "a", "inputSchema": WEATHER}], "tool 'a' is defined twice"),
    ({"tool": []}, "a tool set is a list"),
])
def test_a_bad_tool_is_one_error_naming_file_tool_and_field(tmp_path, content, message):
    path = tmp_path / "tools.json"
    path.write_text(json.dumps(content))
    with pytest.raises(SchemaError) as caught:
        load_tool_file(path)
    assert message in str(caught.value)
    assert str(tmp_path) in str(caught.value) or "tool set is a list" in str(caught.value)


def test_python_tools_without_hints_are_refused():
    with pytest.raises(SchemaError, match="parameter 'city' has no type hint"):
        read_tools([untyped], "mod")


PLUGIN = '''
from formtune import ToolSet, hookimpl

def get_forecast(city: str, days: int = 3) -> dict:
    """Gets the forecast for a city."""

@hookimpl
def register_tool_sets(register):
    register(ToolSet("weather", lambda: [get_forecast], "forecasts"))
    register(ToolSet("broken", [{"name": "bad", "parameters": {"type": "object", "required": ["x"]}}]))
'''


def test_registered_tool_sets_are_used_by_name(tmp_path):
    plugin = tmp_path / "weather_plugin.py"
    plugin.write_text(PLUGIN)
    registry = build_registry([plugin])
    assert registry.owners[("tool_sets", "weather")] == str(plugin)
    (tmp_path / "task.yaml").write_text(
        "name: w\nformat: tool-calls\nschema: {include: [weather], tools: [{name: ping, parameters: {type: object}}]}\n"
        "instructions: Call tools.\n")
    task = load_task(tmp_path / "task.yaml", registry)
    assert [t["name"] for t in task.schema] == ["ping", "get_forecast"]
    (tmp_path / "task.yaml").write_text("name: w\nformat: tool-calls\nschema: {include: [broken]}\ninstructions: x\n")
    with pytest.raises(Exception, match="tool set 'broken': tool 'bad': field 'parameters.required'"):
        load_task(tmp_path / "task.yaml", registry).check()


def test_tools_check_command(tmp_path):
    good = run_formtune("tools", "check", str(ROOT / "examples/shop-assistant/tools.yaml"), "--dialect", "python")
    assert good.returncode == 0, good.stderr
    assert "6 tools ok: lookup_order, start_return" in good.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("- name: x\n  inputSchema: {type: object, properties: {q: {type: 3}}}\n")
    result = run_formtune("tools", "check", str(bad))
    assert result.returncode == 1 and "tool 'x': field 'inputSchema.properties.q.type'" in result.stderr
    assert "Traceback" not in result.stderr


def test_plugins_lists_dialects_and_tool_sets():
    listed = run_formtune("plugins", "--json")
    tools = next(p for p in json.loads(listed.stdout)["plugins"] if p["name"] == "tools")
    assert tools["dialects"] == ["hermes", "json-list", "native", "python"] and tools["formats"] == ["tool-calls"]
    assert tools["tool_sets"] == [] and "tool_sets" in tools
