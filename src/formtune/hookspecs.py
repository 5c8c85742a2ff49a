"""The hooks a formtune plugin can implement.

A plugin is a module (or object) with functions named after these hooks, decorated with
``formtune.hookimpl``, made known through the ``formtune`` entry-point group::

    [project.entry-points.formtune]
    myplugin = "formtune_myplugin"

Every hook has the shape ``register_<things>(register)``: formtune passes a callback, the plugin
calls it once per contribution. That lets formtune record which plugin contributed what and turn
a name clash between two plugins into a clear error naming both. Contributions are described by
the protocols in :mod:`formtune.contrib`.

Hooks reserved for later: ``register_tool_sets``, ``register_rule_sets``, ``register_teachers``,
``register_exporters``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from formtune.contrib import Format, Generator, Metric, Validator

hookspec = pluggy.HookspecMarker("formtune")
hookimpl = pluggy.HookimplMarker("formtune")


# --- output formats -------------------------------------------------------------------------


@hookspec
def register_formats(register: Callable[[Format], None]) -> None:
    """Contribute output formats: how a completion text is parsed into a value and how a value is
    rendered as the text a model should emit.

    Example::

        @hookimpl
        def register_formats(register):
            register(JsonFormat())
    """


# --- validators -----------------------------------------------------------------------------


@hookspec
def register_validators(register: Callable[[Validator], None]) -> None:
    """Contribute validators: checks of a parsed value against a task (its schema, its rules).

    A validator returns violations as values; it never raises for a bad output. Each validator
    declares the formats it applies to.

    Example::

        @hookimpl
        def register_validators(register):
            register(JsonSchemaValidator())
    """


# --- data generators ------------------------------------------------------------------------


@hookspec
def register_generators(register: Callable[[Generator], None]) -> None:
    """Contribute data generators: deterministic streams of candidate training examples.

    A task names its generator; every candidate is validated before it reaches the dataset.

    Example::

        @hookimpl
        def register_generators(register):
            register(SchemaSampleGenerator())
    """


# --- eval metrics ---------------------------------------------------------------------------


@hookspec
def register_metrics(register: Callable[[Metric], None]) -> None:
    """Contribute evaluation metrics: a score in [0, 1] per example, averaged per variant.

    Example::

        @hookimpl
        def register_metrics(register):
            register(Metric("parse_rate", lambda ex: float(ex.checked.parsed)))
    """
