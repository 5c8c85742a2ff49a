"""The JSON Schema sampler's realistic values (name hints, seeded regex sampler), reused for XSD.

Only imports: one place that knows where the core keeps them. The ``sampler`` branch moves them
into ``formtune.schema.sampler.realistic`` / ``.values`` under public names; until it lands they
are the private names of ``formtune.schema.sampler`` (drop the fallback then).
"""

from __future__ import annotations

try:
    from formtune.schema.sampler.realistic import NUMBER_HINTS, STRING_HINTS, hint_for
    from formtune.schema.sampler.values import Xeger
except ImportError:  # main before the sampler package
    from formtune.schema.sampler import _NUMBER_HINTS as NUMBER_HINTS  # noqa: F401
    from formtune.schema.sampler import _STRING_HINTS as STRING_HINTS  # noqa: F401
    from formtune.schema.sampler import _hint_for as hint_for  # noqa: F401
    from formtune.schema.sampler import _Xeger as Xeger  # noqa: F401

__all__ = ["NUMBER_HINTS", "STRING_HINTS", "Xeger", "hint_for"]
