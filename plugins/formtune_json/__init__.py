"""The builtin JSON plugin: the JSON format, JSON Schema validation, a schema-driven sampler and
the JSON metrics. It is registered through the ``formtune`` entry-point group like any other."""

from __future__ import annotations

from formtune import hookimpl
from formtune_json.format import JsonFormat
from formtune_json.generator import SchemaSampleGenerator
from formtune_json.metrics import METRICS
from formtune_json.validator import JsonSchemaValidator


@hookimpl
def register_formats(register):
    register(JsonFormat())


@hookimpl
def register_validators(register):
    register(JsonSchemaValidator())


@hookimpl
def register_generators(register):
    register(SchemaSampleGenerator())


@hookimpl
def register_metrics(register):
    for metric in METRICS:
        register(metric)
