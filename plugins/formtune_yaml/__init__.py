"""The builtin YAML plugin: the ``yaml`` output format.

Its values are JSON-like data, so it shares everything else with JSON: the task's schema is a
JSON Schema, checked by the ``json-schema`` validator (violations carry JSON pointers) and
sampled by the ``schema-sampler`` generator of the builtin ``jsonschema`` plugin, and exact match
and field F1 use the core's defaults. It is registered through the ``formtune`` entry-point group
like any other plugin.

Decisions, each explained where it is implemented:

- **YAML 1.2, core schema** (:mod:`formtune_yaml.read`). ``no``, ``on``, ``yes``, ``y`` are
  strings, only ``true``/``false`` are booleans (no "Norway problem"); ``010`` is 10; ``1e3`` is
  a number; ``2024-01-01`` and ``12:30`` are strings (no timestamps, no base 60); ``<<`` is an
  ordinary key (no merge keys). This is what JSON Schema tooling for YAML (SchemaStore's, the
  ``yaml`` JavaScript package) reads.
- **Plain data only.** A tag outside the core schema (``!!python/object``, ``!!binary``,
  ``!!timestamp``, ``!!set``, ``!Ref``…) is a violation; nothing is ever constructed from a tag. A
  mapping key is the text it is written with (``200:`` is ``"200"``); a collection as a key, a
  repeated key, ``.inf``/``.nan`` and numbers beyond a double are violations.
- **Bounded work:** size, nesting depth, alias expansion (billion laughs) and integer length are
  limited; an alias cycle is a violation. A byte-order mark before the document is allowed (the
  YAML spec allows it), so it is not hostile input.
- **Rendering** (:mod:`formtune_yaml.write`): block style, two-space indents, keys in schema
  order, and a string is quoted exactly when some YAML 1.1 *or* 1.2 reader would read it as
  something else, so the documents a model learns mean the same to every reader.
- **Constrained decoding** (:mod:`formtune_yaml.constraint`): a regular expression in exactly
  the rendered style, for a documented subset of JSON Schema; other schemas are "unconstrained
  only".

PyYAML is the parser (it is already a dependency, it is maintained, and with libyaml it is
fast); it only produces parse events here, and the YAML 1.2 meaning is applied on top of them.
"""

from __future__ import annotations

from formtune import hookimpl
from formtune_yaml.format import YamlFormat


@hookimpl
def register_formats(register):
    register(YamlFormat())
