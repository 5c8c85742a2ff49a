"""The builtin tool-calling plugin: the ``tool-calls`` format, its dialects, validator, generator,
metrics, the ``tools:`` task section, the ``bfcl`` benchmark and the ``formtune tools`` /
``formtune score-calls`` commands.

A task of this format names its tool set in ``schema:`` (OpenAI or MCP definitions, Python
functions, or registered tool sets) and picks a dialect in ``tools:``; the model learns when to
call which tool with which arguments, and when to call none. Scoring follows the Berkeley Function
Calling Leaderboard's AST checker (:mod:`formtune_tools.checker`).
"""

from __future__ import annotations

from formtune import TaskOptions, hookimpl
from formtune_tools.format import ToolCallFormat
from formtune_tools.generate import ToolCallGenerator
from formtune_tools.hermes import HermesDialect
from formtune_tools.jsonlist import JsonListDialect
from formtune_tools.metrics import tool_metrics
from formtune_tools.native import NativeDialect
from formtune_tools.options import ToolsOptions
from formtune_tools.pycalls import PythonCallsDialect
from formtune_tools.validate import ToolCallValidator


@hookimpl
def register_formats(register):
    register(ToolCallFormat())


@hookimpl
def register_dialects(register):
    for dialect in (HermesDialect(), JsonListDialect(), PythonCallsDialect(), NativeDialect()):
        register(dialect)


@hookimpl
def register_validators(register):
    register(ToolCallValidator())


@hookimpl
def register_task_options(register):
    register(TaskOptions("tools", ToolsOptions, "tool calling: the dialect and the generated conversations"))


@hookimpl
def register_generators(register):
    register(ToolCallGenerator())


@hookimpl
def register_metrics(register):
    for metric in tool_metrics():
        register(metric)


@hookimpl
def register_benchmarks(register):
    from formtune_tools.bfcl_run import BfclBenchmark

    register(BfclBenchmark())


@hookimpl
def register_commands(cli):
    from formtune_tools.cli import add_commands

    add_commands(cli)
