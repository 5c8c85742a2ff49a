"""The public sampler: compile the schema once, then draw seeded, validated instances.

``sample(seed)`` makes up to :data:`RETRIES` attempts, each a :class:`Draw` with a seed derived
from the caller's (so the result depends on the seed alone, in every process), and returns the
first instance the compiled validator accepts. When every attempt fails, the error names the
keyword and schema location that failed most often: the thing a user has to look at.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
from referencing.jsonschema import DRAFT202012, specification_with

from formtune.errors import SamplingError
from formtune.schema.compile import DEFAULT_DIALECT, compile_schema
from formtune.schema.sampler import budget
from formtune.schema.sampler.draw import Draw, schema_path
from formtune.schema.sampler.fields import Reader
from formtune.schema.sampler.hints import Hints
from formtune.schema.sampler.keywords import ANNOTATIONS, Loc, Unsat

RETRIES = 20  # whole-instance attempts, each with a seed derived from the caller's
LEGACY = {jsonschema.Draft3Validator, jsonschema.Draft4Validator, jsonschema.Draft6Validator,
          jsonschema.Draft7Validator}  # drafts in which "$ref" hides its sibling keywords


class SchemaSampler:
    """Seeded sampler of valid instances of one JSON Schema.

    ``sample(seed)`` returns one instance; the same seed gives the same instance in every process.
    Every instance is checked with the compiled validator before it is returned; a schema the
    sampler cannot satisfy raises :class:`SamplingError` naming the keyword that defeated it.
    Beyond ``max_depth`` levels of nesting, the sampler leaves out optional properties, keeps
    arrays minimal and prefers the least recursive branch, so recursive schemas stay finite.
    ``optional`` is the chance that a top-level optional property is drawn; deeper objects get
    fewer (it thins out linearly to none at ``max_depth``).
    Work is bounded (:mod:`.budget`): a schema that asks for too much fails within seconds.

    Values look like real data: a scalar is taken from the schema's own ``examples``/``default``
    (when they validate) 30 % of the time; with ``realistic`` (the default), property names such
    as ``email``, ``price`` or ``order_id`` get fitting values (Faker's, in ``locale``); and
    ``hints`` says outright what a field gets (:mod:`.hints`). ``hint_uses`` and
    ``hint_fallbacks`` count, per hint field, the values a hint gave and those that did not fit.
    """

    def __init__(self, schema: dict | bool, *, base_dir: Path | None = None, extra: Any = None,
                 hints: Mapping[str, Any] | None = None, locale: str | None = None,
                 max_depth: int = 6, realistic: bool = True, optional: float = 0.6) -> None:
        if not 0 <= optional <= 1:
            raise ValueError(f"optional is a chance between 0 and 1, not {optional}")
        self.schema = schema
        self.optional = optional
        self.validator = compile_schema(schema, base_dir=base_dir, extra=extra)
        self.max_depth = max_depth
        self.realistic = realistic
        self.legacy = type(self.validator) in LEGACY
        dialect = schema.get("$schema", DEFAULT_DIALECT) if isinstance(schema, dict) else DEFAULT_DIALECT
        self.spec = specification_with(dialect, default=DRAFT202012)
        self._weights: dict[int, tuple[Any, int]] = {}  # holds the schema: its id stays unique
        self.fake = _faker(locale or "en_US") if realistic or hints else None
        self.hints = None
        if hints:
            reader = Reader((schema, self.validator._resolver), self.enter)
            self.hints = Hints(hints, reader, self.fake, locale or "en_US")
        self.hint_uses: Counter[str] = Counter()
        self.hint_fallbacks: Counter[str] = Counter()

    def sample(self, seed: int) -> Any:
        """One valid instance, the same for the same seed."""
        if self.schema is False:
            raise SamplingError("cannot satisfy 'false' at /: the schema accepts nothing",
                                keyword="false", path="/")
        failures: Counter[tuple[str, str]] = Counter()
        messages: dict[tuple[str, str], str] = {}
        deadline = time.process_time() + budget.SECONDS
        for attempt in range(RETRIES):
            # Derived seeds via a string seed: Random hashes it with SHA-512, not hash().
            rng = random.Random(seed if attempt == 0 else f"{seed}/{attempt}")
            if self.fake is not None:
                self.fake.seed_instance(rng.getrandbits(64))
            draw = Draw(self, rng, deadline)
            try:
                value = draw.value([(self.schema, self.validator._resolver)], 0, Loc("", ()), via="type")
            except budget.OutOfTime as exc:
                if not failures:  # else what defeated the earlier attempts says more than the clock
                    failures[exc.keyword, exc.path] += 1
                    messages[exc.keyword, exc.path] = exc.message
                break
            except Unsat as exc:
                failures[exc.keyword, exc.path] += 1
                messages.setdefault((exc.keyword, exc.path), exc.message)
                continue
            try:
                errors = list(self.validator.iter_errors(value))
            except Exception as exc:  # noqa: BLE001 - jsonschema itself chokes on some odd schemas
                failures["validator", "/"] += 1
                messages.setdefault(("validator", "/"), f"jsonschema fails on this instance: {exc!r}")
                continue
            if not errors:
                return value
            for error in errors:
                key = (str(error.validator), schema_path(error))
                failures[key] += 1
                messages.setdefault(key, error.message)
        (keyword, path), _ = failures.most_common(1)[0]
        raise SamplingError(f"cannot satisfy {keyword!r} at {path}: {messages[keyword, path][:200]}",
                            keyword=keyword, path=path)

    def enter(self, schema: dict, res: Any) -> Any:
        """The resolver inside ``schema``: a new base URI if it has an ``$id`` (``id`` before draft 6)."""
        if "$id" not in schema and "id" not in schema:
            return res
        try:
            return res.in_subresource(self.spec.create_resource(schema))
        except (AttributeError, TypeError):  # "id" used as a property name by mistake: no base URI
            return res

    def weight(self, schema: Any) -> int:
        """How much a subschema tends to grow an instance: small ones are picked when deep."""
        key = id(schema)
        if key not in self._weights:
            self._weights[key] = (schema, _weight(schema))
        return self._weights[key][1]


def _faker(locale: str) -> Any:
    from faker import Faker, config  # imported late: it is slow to import and only needed here

    if locale not in config.AVAILABLE_LOCALES:
        raise SamplingError(f"locale {locale!r} is not a Faker locale (use one such as en_US, de_DE, fr_FR, "
                            "ja_JP)", keyword="locale")
    return Faker(locale)


def _weight(schema: Any) -> int:
    if isinstance(schema, dict):
        own = 10 if "$ref" in schema else 0
        if schema.get("type") in ("null", "boolean", "string", "integer", "number") or "enum" in schema:
            own -= 2
        return own + 1 + sum(_weight(v) for k, v in schema.items() if k not in ANNOTATIONS | {"enum"})
    if isinstance(schema, list):
        return sum(_weight(v) for v in schema)
    return 0



def sample(schema: dict | bool, *, seed: int, **kw: Any) -> Any:
    """One valid instance of ``schema`` (see :class:`SchemaSampler` for the keyword arguments)."""
    return SchemaSampler(schema, **kw).sample(seed)
