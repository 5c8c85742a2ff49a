"""The ``tool-calls`` output format: a completion is one turn's calls or a plain answer.

The task's ``schema:`` is its tool set; ``tools.dialect`` picks how calls are written, and
:meth:`ToolCallFormat.for_task` binds the format to that dialect, so that parsing, rendering,
early stopping and the decoding constraint all speak it. Values are described in
:mod:`formtune_tools.value`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from formtune.contrib import DecodingConstraint, Format
from formtune.errors import PluginError, TaskError
from formtune.violations import Checked, Violation
from formtune_tools import value as values
from formtune_tools.constraint import ANSWER, guarded
from formtune_tools.dialect import describe
from formtune_tools.hermes import HermesDialect
from formtune_tools.native import TemplateSyntax, call_id, is_native, openai_tool, tool_calls

if TYPE_CHECKING:
    from formtune.task import Task


class ToolCallFormat(Format):
    """Calls in the task's dialect, or a plain-text answer (see the module docstring)."""

    name = "tool-calls"
    label = "tool call"
    schema_language = "tool definitions (OpenAI, MCP or Python functions)"
    default_validators = ("tool-calls",)
    default_generator = "tool-calls"

    def __init__(self, dialect: Any = None) -> None:
        self.dialect = dialect or HermesDialect()

    def for_task(self, task: Task) -> ToolCallFormat:
        options = task.options("tools")
        try:
            dialect = task.registry.get("dialects", options.dialect)
        except PluginError as exc:
            where = f"{task.source}: " if task.source else ""
            raise TaskError(f"{where}tools.dialect: {exc}") from None
        bound = copy.copy(self)
        bound.dialect = dialect
        return bound

    # -- reading and writing ----------------------------------------------------------------

    def parse(self, text: str, *, lenient: bool = False) -> Checked:
        """Calls, or a plain answer when the text is no call. Leniently (a ``lenient`` task), calls
        the dialect finds around chatter count too, marked lenient."""
        try:
            calls, error = self.dialect.parse(text), None
        except ValueError as exc:
            calls, error = None, Violation("", f"malformed call: {exc}", "parse")
        if calls is not None:
            return Checked(text, values.calls_value(calls), parsed=True)
        found = _lenient(self.dialect, text) if lenient else None
        if found:
            return Checked(text, values.calls_value(found), parsed=True, lenient=True)
        if error is not None:
            return Checked(text, violations=[error])
        return Checked(text, values.answer_value(text.strip()), parsed=True)

    def render(self, value: Any) -> str:
        if isinstance(value, dict) and "answer" in value:
            return str(value["answer"])
        return self.dialect.render(values.calls_of(value))

    # -- the tool set -----------------------------------------------------------------------

    def load_schema(self, ref: Any, task: Task) -> list[dict[str, Any]]:
        from formtune_tools.toolset import load_tool_set, registered_tools

        tools = load_tool_set(ref, task.base_dir, lambda name: registered_tools(task.registry, name))
        check = getattr(self.dialect, "check_tools", None)
        if check is not None:
            check(tools)
        return tools

    def describe_schema(self, task: Task) -> str:
        return describe(self.dialect, task.schema, task.options("tools").listing)

    def instructions(self, task: Task) -> str:
        """The task's instructions; with ``offer: all`` the whole tool set follows them (otherwise
        each conversation lists the tools it offers)."""
        options = task.options("tools")
        listed = describe(self.dialect, task.schema, options.listing) if options.offer == "all" else ""
        return f"{task.spec.instructions}\n\n{listed}" if listed else task.spec.instructions

    def prompt(self, task: Task) -> str:
        """The instructions, then how to call (the untuned model does not know the dialect)."""
        return f"{self.instructions(task)}\n\n{getattr(self.dialect, 'rules', '')}".rstrip()

    # -- the conversation a model sees -------------------------------------------------------

    def conversation(self, task: Task, input: Any, output_text: str | None = None, *,
                     system: str | None = None) -> dict[str, Any]:
        """The core's chat row; with the ``native`` dialect, the offered tools become the row's
        ``tools`` and every assistant turn of calls a ``tool_calls`` message, for the model's chat
        template to write (:mod:`formtune_tools.native`)."""
        row = super().conversation(task, input, output_text, system=system)
        if not is_native(self.dialect):
            return row
        opening = input[0] if isinstance(input, list) and input and input[0].get("role") == "system" else {}
        offered = opening.get("tools", task.schema if task.options("tools").offer == "all" else [])
        return {"messages": _structured(self.dialect, row["messages"]), "tools": [openai_tool(t) for t in offered]}

    def completion_reader(self, task: Task, tokenizer: Any) -> Callable[[str], str] | None:
        """With the ``native`` dialect: the calls the model wrote in its template's syntax, as
        this format's (JSON-list) text; a plain answer as it is."""
        if not is_native(self.dialect):
            return None
        syntax = TemplateSyntax(tokenizer)

        def read(text: str) -> str:
            calls = syntax.read(text)
            return text if calls is None else self.dialect.render(calls)

        return read

    # -- comparing values -------------------------------------------------------------------

    def canonical(self, value: Any) -> Any:
        return values.canonical(value)

    def fields(self, value: Any) -> set[tuple[str, str]]:
        return values.fields(value)

    # -- decoding ---------------------------------------------------------------------------

    def constraint(self, task: Task) -> DecodingConstraint | None:
        """Any call of any of the task's tools, or a plain answer."""
        pattern_of = getattr(self.dialect, "pattern", None)
        if pattern_of is None:
            return None

        def build() -> tuple[str | None, list[str]]:
            tools, notes = [], []
            for tool in task.schema:
                parameters, tool_notes = guarded(tool["parameters"], tool["name"])
                tools.append({**tool, "parameters": parameters})
                notes += tool_notes
            return pattern_of(tools, ANSWER, task.options("tools").max_parallel), notes

        pattern, notes = task.memo(("tool-calls:constraint", self.dialect.name), build)
        if pattern is None:
            return None
        from outlines.types import Regex

        return DecodingConstraint(Regex(pattern), (*notes, "plain answers: up to 400 characters"))

    def viable(self, text: str) -> bool:
        check = getattr(self.dialect, "viable", None)
        return True if check is None else bool(check(text))


def _structured(dialect: Any, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Assistant turns of calls as ``tool_calls`` messages, and each tool result paired with its
    call's id (the results of a turn follow its calls in order)."""
    out, pending = [], []
    for message in messages:
        try:
            calls = dialect.parse(message["content"]) if message["role"] == "assistant" else None
        except ValueError:  # an answer that merely opens like JSON
            calls = None
        if calls:
            pending = [call_id(i) for i in range(len(calls))]
            out.append({"role": "assistant", "content": "", "tool_calls": tool_calls(calls)})
        elif message["role"] == "tool" and pending:
            out.append({**message, "tool_call_id": pending.pop(0)})
        else:
            out.append(message)
    return out


def _lenient(dialect: Any, text: str) -> list[dict[str, Any]] | None:
    read = getattr(dialect, "parse_lenient", None)
    try:
        return None if read is None else read(text)
    except ValueError:
        return None
