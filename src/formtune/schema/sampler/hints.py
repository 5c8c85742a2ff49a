"""Caller hints: which values particular fields should get, so samples look like the caller's data.

``SchemaSampler(schema, hints={...})`` maps a *field* to a *source*. A field is either

- a property name (``"company"``): it applies wherever a property of that name appears, or
- a JSON pointer into the instance (``"/customer/name"``, ``"/items/*/sku"``), where ``*``
  matches any array index or key; a pointer wins over a property name.

A source is one of

- a Faker provider name: ``"company"``, ``"city"``, ``"iban"``... (in the sampler's ``locale``);
- ``"regex:<pattern>"``: strings drawn from the pattern;
- a non-empty list of values to pick from;
- a numeric range ``{"min": a, "max": b}``: whole numbers where the schema wants integers,
  otherwise numbers with two decimals.

Hints are checked when the sampler is built, so a mistake fails at once, naming the field: an
unknown provider, a bad regex, an empty list, min > max, a field the schema does not have, or a
source whose values the schema's type rules out. When sampling, a hinted value is validated like
any other; one that does not fit (too long, not in an enum...) is replaced by an ordinary value
and counted in ``SchemaSampler.hint_fallbacks``. A hint on an array field whose values are not
arrays applies to the items (``"tags": ["urgent", "billing"]``).
"""

from __future__ import annotations

import copy
import datetime
import difflib
import math
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from formtune.errors import SamplingError
from formtune.schema.sampler.budget import MAX_STRING
from formtune.schema.sampler.fields import Reader, Types
from formtune.schema.sampler.keywords import Loc
from formtune.schema.sampler.values import Xeger, json_type

SOURCES = ("a hint is a Faker provider name (e.g. 'company', 'city', 'iban'), 'regex:<pattern>', "
           "a non-empty list of values, or {'min': a, 'max': b}")
FIELDS = "a field is a property name, or a JSON pointer into the instance such as '/customer/name'"
REGEX_REPEAT = 8  # longest run of an open-ended repeat (+, *) in a regex hint


@dataclass(frozen=True)
class Hint:
    """One checked hint: where it came from, what kind it is, and the JSON types it makes."""

    field: str  # as the caller wrote it
    kind: str  # "faker", "regex", "choice" or "range"
    arg: Any  # provider name, pattern, list of values, or (min, max)
    makes: frozenset[str]  # JSON types of its values

    def make(self, rng: random.Random, fake: Any, types: set[str]) -> Any:
        """A value from the source (ValueError: none); ``types`` are the types allowed where it goes."""
        if self.kind == "faker":
            return jsonable(getattr(fake, self.arg)())
        if self.kind == "regex":
            return Xeger(rng, REGEX_REPEAT, MAX_STRING).xeger(self.arg)
        if self.kind == "choice":
            return copy.deepcopy(rng.choice(self.arg))
        low, high = self.arg
        if "number" not in types:  # the schema wants an integer
            if math.ceil(low) > math.floor(high):
                raise ValueError(f"no whole number in [{low}, {high}]")
            return rng.randint(math.ceil(low), math.floor(high))
        return min(max(round(rng.uniform(low, high), 2), low), high)


class Hints:
    """The caller's hints, checked against the schema, looked up by instance location."""

    def __init__(self, hints: Mapping[str, Any], reader: Reader, fake: Any, locale: str) -> None:
        self.by_name: dict[str, Hint] = {}
        self.by_pointer: list[tuple[tuple[str, ...], Hint]] = []
        for field, source in hints.items():
            if not isinstance(field, str) or not field or field == "/":
                raise _error(field, "not a field", FIELDS)
            hint = _parse(field, source, fake, locale)
            _check_types(hint, reader)
            if field.startswith("/"):
                self.by_pointer.append((_tokens(field), hint))
            else:
                self.by_name[field] = hint
        self.by_pointer.sort(key=lambda entry: entry[0].count("*"))  # the most specific first

    def lookup(self, loc: Loc) -> Hint | None:
        if loc.at is None:
            return None
        for tokens, hint in self.by_pointer:
            if len(tokens) == len(loc.at) and all(t in ("*", str(a)) for t, a in zip(tokens, loc.at)):
                return hint
        if loc.hint is not None:
            return loc.hint
        return self.by_name.get(loc.at[-1]) if loc.at and isinstance(loc.at[-1], str) else None


def jsonable(value: Any) -> Any:
    """Faker returns dates, Decimals and tuples too: make them JSON values."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return str(value)


def _parse(field: str, source: Any, fake: Any, locale: str) -> Hint:
    if isinstance(source, str) and source.startswith("regex:"):
        pattern = source.removeprefix("regex:")
        try:
            re.compile(pattern)
            Xeger(random.Random(0), REGEX_REPEAT, MAX_STRING).xeger(pattern)
        except Exception as exc:  # noqa: BLE001 - re.error, or sre internals rstr cannot follow
            raise _error(field, f"bad regex {pattern!r} ({exc})") from None
        return Hint(field, "regex", pattern, frozenset({"string"}))
    if isinstance(source, str):
        return _provider(field, source, fake, locale)
    if isinstance(source, list):
        if not source:
            raise _error(field, "the list of values is empty")
        return Hint(field, "choice", list(source), frozenset(json_type(v) for v in source))
    if isinstance(source, Mapping):
        bounds = [source.get("min"), source.get("max")]
        if set(source) != {"min", "max"} or any(isinstance(b, bool) or not isinstance(b, (int, float))
                                                 or not math.isfinite(b) for b in bounds):
            raise _error(field, f"a range is {{'min': a, 'max': b}} with two numbers, not {dict(source)}")
        if bounds[0] > bounds[1]:
            raise _error(field, f"the range's min {bounds[0]} is greater than its max {bounds[1]}")
        whole = all(isinstance(b, int) for b in bounds)
        return Hint(field, "range", tuple(bounds), frozenset({"integer"} if whole else {"integer", "number"}))
    raise _error(field, f"{source!r} is not a hint")


def _provider(field: str, name: str, fake: Any, locale: str) -> Hint:
    known = sorted({n for p in fake.providers for n in dir(p) if not n.startswith("_")})
    if name not in known:
        close = difflib.get_close_matches(name, known, n=3)
        maybe = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise _error(field, f"unknown Faker provider {name!r} for locale {locale}{maybe}")
    try:
        value = jsonable(getattr(fake, name)())
    except Exception as exc:  # noqa: BLE001 - a provider that needs arguments, or fails
        raise _error(field, f"Faker provider {name!r} cannot be called without arguments ({exc})") from None
    return Hint(field, "faker", name, frozenset({json_type(value)}))


def _check_types(hint: Hint, reader: Reader) -> None:
    """Fail unless the field exists and, somewhere it appears, the schema allows the hint's values."""
    if hint.field.startswith("/"):
        places = [reader.root]
        for token in _tokens(hint.field):
            places = reader.child(places, token)
        spots = [places] if places else []
    else:
        spots = [[part] for part in reader.named(hint.field)]
    if not spots:
        what = "location" if hint.field.startswith("/") else "property"
        raise _error(hint.field, f"the schema has no such {what}", FIELDS)
    wants: list[Types] = []
    for parts in spots:
        types = reader.types(parts)
        if types is not None and "array" in types and "array" not in hint.makes:
            items = reader.types([(sub, res) for schema, res in reader.applying(parts)
                                  for sub in reader.items(schema, None)])
            types = types | (items if items is not None else hint.makes)
        if types is None or _fits(hint, types):
            return
        wants.append(types)
    allowed = sorted(set().union(*(w for w in wants if w is not None)))
    bad = sorted(hint.makes - set(allowed)) if hint.kind == "choice" else sorted(hint.makes)
    raise _error(hint.field, f"the hint makes {' and '.join(bad)} values but the schema wants "
                             f"{' or '.join(allowed) or 'nothing'} there")


def _fits(hint: Hint, types: frozenset[str]) -> bool:
    if hint.kind == "choice":
        return hint.makes <= types  # every listed value must be usable
    return bool(hint.makes & types)


def _tokens(pointer: str) -> tuple[str, ...]:
    return tuple(t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:])


def _error(field: Any, problem: str, accepted: str = SOURCES) -> SamplingError:
    return SamplingError(f"hint for {field!r}: {problem} ({accepted})", keyword="hints", path=str(field))
