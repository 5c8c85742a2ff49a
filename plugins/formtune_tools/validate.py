"""The ``tool-calls`` validator: every call must name a tool of the task and fit its parameters.

Each kind of failure is its own violation kind, so reports can count them apart:

========================== =================================================================
``tool:shape``             the value is not ``{calls: [...]}`` or ``{answer: text}``
``tool:unknown-tool``      no tool of that name
``tool:missing-argument``  a required argument is absent
``tool:unexpected-argument`` an argument the tool does not declare
``tool:wrong-type``        an argument of the wrong JSON type
``tool:not-in-enum``       a value outside the tool's ``enum`` (or ``const``)
``tool:<keyword>``         any other JSON Schema keyword (``tool:pattern``, ``tool:maximum`` …)
========================== =================================================================
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from formtune.violations import Violation

if TYPE_CHECKING:
    from formtune.task import Task

_KINDS = {"required": "missing-argument", "additionalProperties": "unexpected-argument", "type": "wrong-type",
          "enum": "not-in-enum", "const": "not-in-enum"}


def call_violations(calls: Any, tools: dict[str, dict[str, Any]], compiled: Any) -> list[Violation]:
    """Violations of ``calls`` against ``tools`` (by name); ``compiled(name)`` gives a tool's
    parameters validator."""
    from formtune.schema.compile import violations

    found = []
    for i, call in enumerate(calls):
        where = f"/calls/{i}"
        tool = tools.get(call.get("name")) if isinstance(call, dict) else None
        if tool is None:
            known = ", ".join(sorted(tools))
            found.append(Violation(where, f"unknown tool {call.get('name')!r} (tools: {known})", "tool:unknown-tool"))
            continue
        arguments = call.get("arguments")
        declared = tool["parameters"].get("properties", {})
        if tool["parameters"].get("additionalProperties") is None and isinstance(arguments, dict):
            found += [Violation(f"{where}/arguments/{name}", f"{call['name']} has no argument {name!r}",
                                "tool:unexpected-argument") for name in arguments if name not in declared]
        for v in violations(compiled(call["name"]), arguments):
            keyword = v.kind.removeprefix("schema:")
            found.append(Violation(f"{where}/arguments{v.path}", f"{call['name']}: {v.message}",
                                   f"tool:{_KINDS.get(keyword, keyword)}"))
    return found


def shape_violations(value: Any) -> list[Violation]:
    calls = value.get("calls") if isinstance(value, dict) else None
    if isinstance(value, dict) and set(value) == {"answer"} and isinstance(value["answer"], str):
        return []
    if (isinstance(value, dict) and set(value) == {"calls"} and isinstance(calls, list)
            and all(isinstance(c, dict) and set(c) == {"name", "arguments"} and isinstance(c["name"], str)
                    and isinstance(c["arguments"], dict) for c in calls)):
        return []
    return [Violation("", "a tool-call value is {calls: [{name, arguments}, ...]} or {answer: text}", "tool:shape")]


class ToolCallValidator:
    """Checks each call against the task's tool set, and the ``tools.general`` tools its training
    conversations may also use (see the module docstring)."""

    name = "tool-calls"
    formats = ("tool-calls",)

    def validate(self, value: Any, task: Task) -> list[Violation]:
        from formtune.schema.compile import compile_schema

        shape = shape_violations(value)
        if shape or "answer" in value:
            return shape
        from formtune_tools.toolset import general_tools

        tools = task.memo("tool-calls:by-name", lambda: {t["name"]: t for t in [*general_tools(task), *task.schema]})

        def compiled(name: str) -> Any:
            return task.memo(("tool-calls:params", name),
                             lambda: compile_schema(tools[name]["parameters"], base_dir=task.base_dir))

        return call_violations(value["calls"], tools, compiled)
