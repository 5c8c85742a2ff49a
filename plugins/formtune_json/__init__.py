"""The builtin JSON plugin: the ``json`` output format. Its schemas are JSON Schemas, checked by
the ``json-schema`` validator and sampled by the ``schema-sampler`` generator of the builtin
``jsonschema`` plugin. It is registered through the ``formtune`` entry-point group like any other."""

from __future__ import annotations

from formtune import hookimpl
from formtune_json.format import JsonFormat


@hookimpl
def register_formats(register):
    register(JsonFormat())
