"""Draw random, valid instances of a JSON Schema: the training data of a formtune task.

The sampler works in two steps per instance location. First it *collects* every subschema that
applies there (following ``$ref``, ``allOf``, and one chosen branch of each ``anyOf``/``oneOf``/
``if``/dependency) into one node of merged constraints, backtracking over branch choices that
contradict each other. Then it *generates* a value of one allowed type from those constraints.
Each generated value is checked against the original subschemas right away (so a bad branch is
retried locally), and the whole instance is checked once more against the compiled validator:
an instance that fails is never returned.

The modules, in the order a value is made:

- :mod:`.keywords` collects: one handler per keyword merges it into a :class:`~.keywords.Node`;
- :mod:`.draw` runs the per-location loop (collect, choose branches, generate, check);
- :mod:`.generate` makes one value of one type from a node;
- :mod:`.realistic` says what a property's name suggests (``email``, ``price``...);
- :mod:`.values` holds exact helpers (fractions, JSON equality, seeded regex strings);
- :mod:`.core` is :class:`SchemaSampler`, the public entry point.

Only :class:`SchemaSampler` and :func:`sample` are public; the modules are internal.
"""

from formtune.schema.sampler.core import SchemaSampler, sample

__all__ = ["SchemaSampler", "sample"]
