"""The hooks a formtune plugin can implement.

A plugin is a module (or object) with functions named after these hooks, decorated with
``formtune.hookimpl``, made known through the ``formtune`` entry-point group::

    [project.entry-points.formtune]
    myplugin = "formtune_myplugin"

Most hooks have the shape ``register_<things>(register)``: formtune passes a callback, the plugin
calls it once per contribution. That lets formtune record which plugin contributed what and turn
a name clash between two plugins into a clear error naming both. Contributions are described by
the types in :mod:`formtune.contrib`. A hook implementation may leave out arguments it does not
use; formtune calls hooks through pluggy, which passes only the arguments a function names.

``docs/plugins.md`` documents every hook with an example; a test keeps it in step with this file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import click

    from formtune.contrib import (
        Augmenter,
        Benchmark,
        Dialect,
        FactExtractor,
        Format,
        Generator,
        Metric,
        RuleEngine,
        TaskOptions,
        ToolSet,
        Validator,
    )
    from formtune.task import Task

hookspec = pluggy.HookspecMarker("formtune")
hookimpl = pluggy.HookimplMarker("formtune")


# --- output formats -------------------------------------------------------------------------


@hookspec
def register_formats(register: Callable[[Format], None]) -> None:
    """Contribute output formats (subclasses of ``formtune.Format``): how the task's schema is
    loaded and shown, how a completion is parsed into a value and a value rendered as the text a
    model should emit, how values compare, and which decoding constraint the format offers.

    Example::

        @hookimpl
        def register_formats(register):
            register(YamlFormat())
    """


# --- validators -----------------------------------------------------------------------------


@hookspec
def register_validators(register: Callable[[Validator], None]) -> None:
    """Contribute validators: checks of a parsed value against a task (its schema, its rules).

    A validator returns violations as values; it never raises for a bad output. It declares the
    formats it applies to. A task runs the validators it names in ``validators:``, by default
    those its format names, so installing a plugin never changes another task's data.

    Example::

        @hookimpl
        def register_validators(register):
            register(NoEmptyStrings())
    """


# --- data generators ------------------------------------------------------------------------


@hookspec
def register_generators(register: Callable[[Generator], None]) -> None:
    """Contribute data generators: deterministic streams of candidate training examples.

    A task names its generator (``data.generator``, by default its format's); every candidate is
    validated before it reaches the dataset.

    Example::

        @hookimpl
        def register_generators(register):
            register(SchemaSampleGenerator())
    """


# --- eval metrics ---------------------------------------------------------------------------


@hookspec
def register_metrics(register: Callable[[Metric], None]) -> None:
    """Contribute evaluation metrics: a score in [0, 1] per example, averaged per variant.

    A metric names the formats it applies to (none: all) and whether higher is better. It is
    reported as ``<plugin>:<name>`` beside the core's own metrics (parse rate, schema-valid rate,
    lenient valid, exact match, field precision, recall and F1).

    Example::

        @hookimpl
        def register_metrics(register):
            register(Metric("short", lambda a: float(len(a.checked.text) < 200), formats=("json",)))
    """


@hookspec
def register_task_metrics(task: Task, register: Callable[[Metric], None]) -> None:
    """Contribute metrics that exist for one task only: one per rule of its rule set, one per
    branch of its decision structure. Called by the evaluator with the task being evaluated;
    register nothing for a task the plugin has nothing to say about. Names are reported as
    ``<plugin>:<name>``; give related metrics one ``group`` so the report shows them as a breakdown.

    Example::

        @hookimpl
        def register_task_metrics(task, register):
            for rule in rule_set(task).rules:
                register(Metric(f"rule/{rule.id}", adherence_of(rule), group="adherence per rule"))
    """


# --- task file sections ---------------------------------------------------------------------


@hookspec
def register_task_options(register: Callable[[TaskOptions], None]) -> None:
    """Contribute a section of task files that configures the plugin, checked by a pydantic model.

    A mistake in the section is reported with the task file, the line and the key; the plugin
    reads the checked section with ``task.options(name)``.

    Example::

        @hookimpl
        def register_task_options(register):
            register(TaskOptions("xml", XmlOptions, "how JSON-Schema values become XML"))
    """


# --- tool calling ---------------------------------------------------------------------------


@hookspec
def register_tool_sets(register: Callable[[ToolSet], None]) -> None:
    """Contribute named sets of tools (``formtune.ToolSet``) that tasks of the tool-calling format
    use by name, as packages that ship tools do: OpenAI or MCP definitions, or Python functions.

    The definitions are checked when a task uses the set; ``formtune plugins`` lists the sets.

    Example::

        @hookimpl
        def register_tool_sets(register):
            register(ToolSet("weather", [get_forecast, get_alerts], "forecasts and alerts"))
    """


@hookspec
def register_dialects(register: Callable[[Dialect], None]) -> None:
    """Contribute tool-call dialects (``formtune.Dialect``): how one model family writes calls and
    sees the offered tools when its chat template has no tool support. A task picks one in its
    ``tools:`` section (``dialect: hermes``).

    Example::

        @hookimpl
        def register_dialects(register):
            register(PythonCallsDialect())
    """


# --- logic rules ----------------------------------------------------------------------------


@hookspec
def register_rule_engines(register: Callable[[RuleEngine], None]) -> None:
    """Contribute rule engines (``formtune.RuleEngine``): condition languages in which a task's
    logic rules are written (``engine: expr`` in its ``rules:`` section). An engine compiles a
    condition into something that says which facts it reads, which constants it compares them
    with, and whether it holds; it never evaluates code.

    Example::

        @hookimpl
        def register_rule_engines(register):
            register(JsonLogicEngine())
    """


@hookspec
def register_fact_extractors(register: Callable[[FactExtractor], None]) -> None:
    """Contribute fact extractors (``formtune.FactExtractor``): functions that read the facts a
    task's rules need from an input text that no generator wrote (real, imported data). A task's
    rule set names its extractor (``extractor: acme-refund-facts``).

    Example::

        @hookimpl
        def register_fact_extractors(register):
            register(FactExtractor("acme-refund-facts", read_refund_facts, "facts of Acme refund e-mails"))
    """


# --- training input augmenters -------------------------------------------------------------


@hookspec
def register_augmenters(register: Callable[[Augmenter], None]) -> None:
    """Contribute augmenters (``formtune.Augmenter``): changes to a training input that keep its
    answer, such as a greeting, a quoted reply chain, line-break noise or typos.

    A task names the ones it wants with a rate (``data.augment: {typos: 0.2}``). Every augmented
    row is recorded in its provenance, checked to still hold each answer value it held before,
    and validated again.

    Example::

        @hookimpl
        def register_augmenters(register):
            register(Greeting())
    """


# --- public test suites ---------------------------------------------------------------------


@hookspec
def register_benchmarks(register: Callable[[Benchmark], None]) -> None:
    """Contribute benchmarks (``formtune.Benchmark``): public test suites that ``formtune eval
    --benchmark NAME --data SOURCE`` runs a model on, the base model and a run's tuned one, and
    scores the suite's own way, so that the numbers compare with published ones.

    Example::

        @hookimpl
        def register_benchmarks(register):
            register(AcmeSuite())
    """


# --- command line ---------------------------------------------------------------------------


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add commands to the ``formtune`` command line (a click group), as llm and datasette do.

    Example::

        @hookimpl
        def register_commands(cli):
            @cli.command()
            def hello():
                "Say hello."
                click.echo("hello")
    """
