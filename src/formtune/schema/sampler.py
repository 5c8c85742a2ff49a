"""Draw random, valid instances of a JSON Schema: the training data of a formtune task.

The sampler works in two steps per instance location. First it *collects* every subschema that
applies there (following ``$ref``, ``allOf``, and one chosen branch of each ``anyOf``/``oneOf``/
``if``/dependency) into one :class:`_Node` of merged constraints, backtracking over branch choices
that contradict each other. Then it *generates* a value of one allowed type from those constraints.
Each generated value is checked against the original subschemas right away (so a bad branch is
retried locally), and the whole instance is checked once more against the compiled validator:
an instance that fails is never returned.
"""

from __future__ import annotations

import math
import random
import re
import string
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable

import jsonschema
import referencing.exceptions
import rstr
from referencing.jsonschema import DRAFT202012, specification_with

from formtune.errors import SamplingError
from formtune.schema.compile import DEFAULT_DIALECT, compile_schema

RETRIES = 20  # whole-instance attempts, each with a seed derived from the caller's
MAX_OPTIONAL = 12  # optional properties per object, at most
LOCAL_TRIES = 3  # attempts per instance location before giving up on it
NODE_BUDGET = 4000  # generated locations per attempt: stops pathological schemas early
DEPTH_MARGIN = 12  # levels past max_depth before a recursion counts as endless
MAX_HOPS = 256  # $ref/allOf expansions at one location: stops ref cycles that never nest
ALL_TYPES = ("object", "array", "string", "integer", "number", "boolean", "null")
ANNOTATIONS = {"title", "description", "default", "examples", "$comment", "deprecated", "readOnly",
               "writeOnly", "$id", "id", "$schema", "$anchor"}
LEGACY = {jsonschema.Draft3Validator, jsonschema.Draft4Validator, jsonschema.Draft6Validator,
          jsonschema.Draft7Validator}  # drafts in which "$ref" hides its sibling keywords

Part = tuple[Any, Any]  # (subschema, the referencing.Resolver it is to be read with)


class _Unsat(Exception):
    """This location cannot be satisfied with the choices made so far."""

    def __init__(self, keyword: str, path: str, message: str = "", *, retry: bool = True) -> None:
        super().__init__(message or keyword)
        self.keyword, self.path, self.message = keyword, path or "/", message or keyword
        self.retry = retry  # False: trying again at the same place cannot help


@dataclass
class _Node:
    """The constraints on one instance location, merged from every subschema that applies."""

    types: set[str] | None = None
    enum: list[Any] | None = None
    lo: float | None = None
    lo_x: bool = False
    hi: float | None = None
    hi_x: bool = False
    multiples: list[float] = field(default_factory=list)
    not_multiples: list[Fraction] = field(default_factory=list)
    not_patterns: list[str] = field(default_factory=list)
    excluded: set[Any] = field(default_factory=set)  # _canon of values ruled out by "not"
    min_len: int = 0
    max_len: int | None = None
    patterns: list[str] = field(default_factory=list)
    formats: list[str] = field(default_factory=list)
    min_items: int = 0
    max_items: int | None = None
    unique: bool = False
    positional: list[tuple[list[Part], Part | None]] = field(default_factory=list)
    contains: list[Part] = field(default_factory=list)
    min_contains: int = 1
    max_contains: int | None = None
    props: dict[str, list[Part]] = field(default_factory=dict)
    pattern_props: list[tuple[str, Part]] = field(default_factory=list)
    additional: list[tuple[frozenset[str], tuple[str, ...], Part]] = field(default_factory=list)
    no_extras: bool = False
    names: list[Part] = field(default_factory=list)
    required: dict[str, None] = field(default_factory=dict)  # an ordered set
    forbidden: set[str] = field(default_factory=set)
    min_props: int = 0
    max_props: int | None = None
    hinted: set[str] = field(default_factory=set)  # types suggested by the keywords present
    risky: bool = False  # keywords the generator only approximates: check the value right away

    def tighten_lo(self, value: float, exclusive: bool) -> None:
        if self.lo is None or value > self.lo or (value == self.lo and exclusive):
            self.lo, self.lo_x = value, exclusive

    def tighten_hi(self, value: float, exclusive: bool) -> None:
        if self.hi is None or value < self.hi or (value == self.hi and exclusive):
            self.hi, self.hi_x = value, exclusive


# -- keyword handlers: each merges one keyword of one subschema into the collector's node --------

class _Collector:
    """State of one pass over the subschemas that apply at a location."""

    def __init__(self, decided: dict[tuple, int]) -> None:
        self.node = _Node()
        self.queue: deque[Part] = deque()
        self.decided = decided
        self.pending: tuple[tuple, list[list[Part]]] | None = None  # first undecided choice

    def choose(self, key: tuple, options: list[list[Part]]) -> None:
        """Queue the branch already chosen for ``key``, or remember it as the next choice."""
        self.node.risky = True
        if key in self.decided:
            self.queue.extend(options[self.decided[key]])
        elif self.pending is None:
            self.pending = (key, options)


def _kw_type(c: _Collector, value: Any, schema: dict, res: Any) -> None:
    wanted = {value} if isinstance(value, str) else {t for t in value if isinstance(t, str)}
    if "number" in wanted:
        wanted.add("integer")  # an integer is a number; intersecting with "integer" keeps it
    c.node.types = wanted if c.node.types is None else c.node.types & wanted


def _kw_enum(c: _Collector, values: list[Any]) -> None:
    """enum and const: the allowed values are the intersection of every list."""
    if c.node.enum is None:
        c.node.enum = values
    else:
        keep = {_canon(v) for v in values}
        c.node.enum = [v for v in c.node.enum if _canon(v) in keep]


def _kw_bound(c: _Collector, value: Any, schema: dict, res: Any, *, low: bool, excl_kw: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return  # draft-4 boolean exclusive*: read together with minimum/maximum
    c.node.hinted.add("number")
    exclusive = schema.get(excl_kw) is True
    (c.node.tighten_lo if low else c.node.tighten_hi)(value, exclusive)


def _kw_exclusive(c: _Collector, value: Any, schema: dict, res: Any, *, low: bool) -> None:
    if not isinstance(value, bool) and isinstance(value, (int, float)):
        c.node.hinted.add("number")
        (c.node.tighten_lo if low else c.node.tighten_hi)(value, True)


def _kw_set(attr: str, hint: str, pick: Callable[[Any, Any], Any]) -> Callable[..., None]:
    """A handler that merges a numeric keyword with ``pick`` (max for minimums, min for maximums)."""

    def handler(c: _Collector, value: Any, schema: dict, res: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return
        current = getattr(c.node, attr)
        setattr(c.node, attr, value if current is None else pick(current, value))
        c.node.hinted.add(hint)

    return handler


def _kw_items(c: _Collector, value: Any, schema: dict, res: Any) -> None:
    c.node.hinted.add("array")
    if isinstance(value, list):  # draft-4..2019 tuple form; additionalItems covers the rest
        rest = schema.get("additionalItems")
        c.node.positional.append(([(v, res) for v in value], None if rest is None else (rest, res)))
    elif "prefixItems" not in schema:  # otherwise the prefixItems handler reads it
        c.node.positional.append(([], (value, res)))


def _kw_prefix(c: _Collector, value: Any, schema: dict, res: Any) -> None:
    rest = schema.get("items")
    c.node.positional.append(([(v, res) for v in value], None if rest is None else (rest, res)))
    c.node.hinted.add("array")


def _kw_contains(c: _Collector, value: Any, schema: dict, res: Any) -> None:
    c.node.risky = True
    c.node.contains.append((value, res))
    c.node.hinted.add("array")


def _kw_properties(c: _Collector, value: Any, schema: dict, res: Any) -> None:
    for name, sub in value.items():
        c.node.props.setdefault(name, []).append((sub, res))
    c.node.hinted.add("object")


def _kw_pattern_props(c: _Collector, value: Any, schema: dict, res: Any) -> None:
    c.node.pattern_props.extend((pat, (sub, res)) for pat, sub in value.items())
    c.node.hinted.add("object")


def _kw_additional(c: _Collector, value: Any, schema: dict, res: Any) -> None:
    if value is True:
        return
    names = frozenset(schema.get("properties", {}))
    c.node.additional.append((names, tuple(schema.get("patternProperties", {})), (value, res)))


def _kw_unevaluated(c: _Collector, value: Any, schema: dict, res: Any) -> None:
    c.node.risky = True
    c.node.no_extras = c.node.no_extras or value is not True


def _kw_required(c: _Collector, value: Any, schema: dict, res: Any) -> None:
    if isinstance(value, list):  # draft 3 put a boolean here; the validator ignores it in 4+
        c.node.required.update(dict.fromkeys(value))
        c.node.hinted.add("object")


def _kw_str(attr: str) -> Callable[..., None]:
    def handler(c: _Collector, value: Any, schema: dict, res: Any) -> None:
        getattr(c.node, attr).append(value)
        if attr == "patterns" or value in _FORMATS:
            c.node.hinted.add("string")

    return handler


def _kw_list(attr: str, hint: str) -> Callable[..., None]:
    def handler(c: _Collector, value: Any, schema: dict, res: Any) -> None:
        getattr(c.node, attr).append((value, res))
        c.node.hinted.add(hint)

    return handler


def _kw_all_of(c: _Collector, value: Any, schema: dict, res: Any) -> None:
    c.queue.extend((sub, res) for sub in value)


def _kw_any_of(c: _Collector, value: Any, schema: dict, res: Any) -> None:
    c.choose((id(schema), "anyOf"), [[(sub, res)] for sub in value])


def _kw_one_of(c: _Collector, value: Any, schema: dict, res: Any) -> None:
    # The chosen branch, plus "not" for every other one: cheap forms of "not" prune right away.
    options = [[(sub, res)] + [({"not": other}, res) for j, other in enumerate(value) if j != i]
               for i, sub in enumerate(value)]
    c.choose((id(schema), "oneOf"), options)


def _kw_if(c: _Collector, value: Any, schema: dict, res: Any) -> None:
    then = [(value, res)] + ([(schema["then"], res)] if "then" in schema else [])
    other = [({"not": value}, res)] + ([(schema["else"], res)] if "else" in schema else [])
    c.choose((id(schema), "if"), [then, other])


def _kw_not(c: _Collector, value: Any, schema: dict, res: Any) -> None:
    """Prune what a simple ``not`` rules out; anything subtler is left to validation."""
    c.node.risky = True
    if not isinstance(value, dict):
        return
    keys = set(value) - ANNOTATIONS
    if keys == {"type"}:
        banned = {value["type"]} if isinstance(value["type"], str) else set(value["type"])
        if "number" in banned:
            banned.add("integer")
        c.node.types = set(c.node.types if c.node.types is not None else ALL_TYPES) - banned
    elif keys == {"required"} and isinstance(value["required"], list) and len(value["required"]) == 1:
        # A non-object passes "required", so failing it means: an object without that key.
        c.node.forbidden.add(value["required"][0])
        _kw_type(c, "object", schema, res)
    elif keys == {"anyOf"}:  # not (A or B) = not A and not B
        for sub in value["anyOf"]:
            _kw_not(c, sub, schema, res)
    elif keys == {"not"}:
        c.queue.append((value["not"], res))
    elif keys == {"multipleOf"} and isinstance(value["multipleOf"], (int, float)) and value["multipleOf"]:
        c.node.not_multiples.append(_fraction(value["multipleOf"]))
        _kw_type(c, "number", schema, res)  # as with "required": only a number can fail it
    elif keys == {"pattern"}:
        c.node.not_patterns.append(value["pattern"])
        _kw_type(c, "string", schema, res)
    elif keys in ({"enum"}, {"const"}):
        c.node.excluded.update(_canon(v) for v in (value["enum"] if "enum" in value else [value["const"]]))


def _kw_dependencies(c: _Collector, value: Any, schema: dict, res: Any, *, kind: str) -> None:
    """Each trigger property is either present (with what it brings along) or absent."""
    for name in sorted(value):  # sorted: the order of choices must not depend on dict history
        dep = value[name]
        needs = {"required": [name] + dep} if isinstance(dep, list) else {"required": [name]}
        present = [(needs, res)] + ([] if isinstance(dep, list) else [(dep, res)])
        absent = [({"not": {"required": [name]}}, res)]
        c.choose((id(schema), kind, name), [present, absent])


_KEYWORDS: dict[str, Callable[..., None]] = {
    "type": _kw_type,
    "enum": lambda c, v, s, r: _kw_enum(c, list(v)),
    "const": lambda c, v, s, r: _kw_enum(c, [v]),
    "minimum": lambda c, v, s, r: _kw_bound(c, v, s, r, low=True, excl_kw="exclusiveMinimum"),
    "maximum": lambda c, v, s, r: _kw_bound(c, v, s, r, low=False, excl_kw="exclusiveMaximum"),
    "exclusiveMinimum": lambda c, v, s, r: _kw_exclusive(c, v, s, r, low=True),
    "exclusiveMaximum": lambda c, v, s, r: _kw_exclusive(c, v, s, r, low=False),
    "multipleOf": lambda c, v, s, r: (c.node.multiples.append(v), c.node.hinted.add("number")),
    "minLength": _kw_set("min_len", "string", max),
    "maxLength": _kw_set("max_len", "string", min),
    "pattern": _kw_str("patterns"),
    "format": _kw_str("formats"),  # no type hint: OpenAPI puts int32 & co on numbers
    "minItems": _kw_set("min_items", "array", max),
    "maxItems": _kw_set("max_items", "array", min),
    "uniqueItems": lambda c, v, s, r: setattr(c.node, "unique", c.node.unique or v is True),
    "items": _kw_items,
    "prefixItems": _kw_prefix,
    "contains": _kw_contains,
    "minContains": _kw_set("min_contains", "array", max),
    "maxContains": _kw_set("max_contains", "array", min),
    "properties": _kw_properties,
    "patternProperties": _kw_pattern_props,
    "additionalProperties": _kw_additional,
    "unevaluatedProperties": _kw_unevaluated,
    "propertyNames": lambda c, v, s, r: (_kw_list("names", "object")(c, v, s, r), setattr(c.node, "risky", True)),
    "unevaluatedItems": lambda c, v, s, r: setattr(c.node, "risky", True),
    "required": _kw_required,
    "minProperties": _kw_set("min_props", "object", max),
    "maxProperties": _kw_set("max_props", "object", min),
    "allOf": _kw_all_of,
    "anyOf": _kw_any_of,
    "oneOf": _kw_one_of,
    "if": _kw_if,
    "not": _kw_not,
    "dependentRequired": lambda c, v, s, r: _kw_dependencies(c, v, s, r, kind="dependentRequired"),
    "dependentSchemas": lambda c, v, s, r: _kw_dependencies(c, v, s, r, kind="dependentSchemas"),
    "dependencies": lambda c, v, s, r: _kw_dependencies(c, v, s, r, kind="dependencies"),
}


# -- small pure helpers -------------------------------------------------------------------------

def _canon(value: Any) -> Any:
    """A hashable key with JSON equality: 1 == 1.0, but True != 1 and order of keys is moot."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return (type(value).__name__, value)
    if isinstance(value, (int, float)):
        return ("num", Fraction(value) if math.isfinite(value) else value)
    if isinstance(value, list):
        return ("list", tuple(_canon(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((k, _canon(v)) for k, v in value.items())))
    return ("other", repr(value))


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return "integer"
    return {float: "number", str: "string", list: "array", dict: "object"}.get(type(value), "?")


def _fraction(number: float) -> Fraction:
    return Fraction(str(number)) if isinstance(number, float) else Fraction(number)


def _step(multiples: list[float]) -> Fraction | None:
    """The least common multiple of every multipleOf (1 for integers), exactly, as a fraction."""
    steps = [_fraction(m) for m in multiples if m]
    if not steps:
        return None
    return Fraction(math.lcm(*(s.numerator for s in steps)), math.gcd(*(s.denominator for s in steps)))


def _is_multiple(value: float, step: float) -> bool:
    """jsonschema's own multipleOf test, float quirks included."""
    if isinstance(step, float):
        try:
            quotient = value / step
            return int(quotient) == quotient
        except (OverflowError, ZeroDivisionError):
            return False
    return value % step == 0


def _snake(name: str) -> str:
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


class _Xeger(rstr.Rstr):
    """rstr's regex sampler with short repeats and no set-order randomness (needed for seeds)."""

    def __init__(self, rng: random.Random, repeat: int) -> None:
        super().__init__(rng)
        self.repeat = repeat
        # rstr builds some alphabets from sets, whose order changes with PYTHONHASHSEED.
        self._alphabets = {k: "".join(sorted(v)) for k, v in self._alphabets.items()}
        # "." "\s" "\W" need not produce form feeds and vertical tabs: keep the text readable.
        self._alphabets.update(printable=string.ascii_letters + string.digits + string.punctuation + " ",
                               whitespace=" ", nonword=string.punctuation.replace("_", "") + " ")

    def _handle_repeat(self, start_range: int, end_range: int, value: Any) -> str:
        end_range = min(end_range, start_range + self.repeat)
        times = self._random.randint(start_range, end_range)
        return "".join("".join(self._handle_state(i) for i in value) for _ in range(times))

    def _handle_in(self, value: Any) -> Any:
        candidates = [c for group in (self._handle_state(i) for i in value) for c in group]
        if candidates and candidates[0] is False:  # negated class: anything printable but these
            banned = set(candidates[1:])
            candidates = [ch for ch in string.ascii_letters + string.digits + " -_." if ch not in banned]
        return self._random.choice(candidates)


# -- realistic values ---------------------------------------------------------------------------

def _money(fake: Any, rng: random.Random) -> float:
    return round(rng.uniform(1, 500), 2)


_STRING_HINTS: dict[str, Callable[[Any, random.Random], str]] = {
    "name": lambda f, r: f.name(), "full_name": lambda f, r: f.name(),
    "first_name": lambda f, r: f.first_name(), "given_name": lambda f, r: f.first_name(),
    "firstname": lambda f, r: f.first_name(), "last_name": lambda f, r: f.last_name(),
    "lastname": lambda f, r: f.last_name(), "surname": lambda f, r: f.last_name(),
    "family_name": lambda f, r: f.last_name(), "author": lambda f, r: f.name(),
    "username": lambda f, r: f.user_name(), "user_name": lambda f, r: f.user_name(),
    "login": lambda f, r: f.user_name(), "password": lambda f, r: f.password(),
    "email": lambda f, r: f.email(), "mail": lambda f, r: f.email(),
    "email_address": lambda f, r: f.email(), "phone_number": lambda f, r: f.phone_number(),
    "phone": lambda f, r: f.phone_number(), "telephone": lambda f, r: f.phone_number(),
    "mobile": lambda f, r: f.phone_number(), "city": lambda f, r: f.city(),
    "country": lambda f, r: f.country(), "country_code": lambda f, r: f.country_code(),
    "state": lambda f, r: f.state(), "address": lambda f, r: f.address().replace("\n", ", "),
    "street": lambda f, r: f.street_address(), "street_address": lambda f, r: f.street_address(),
    "zip": lambda f, r: f.postcode(), "zipcode": lambda f, r: f.postcode(),
    "zip_code": lambda f, r: f.postcode(), "postal_code": lambda f, r: f.postcode(),
    "postcode": lambda f, r: f.postcode(), "company": lambda f, r: f.company(),
    "organization": lambda f, r: f.company(), "employer": lambda f, r: f.company(),
    "job": lambda f, r: f.job(), "job_title": lambda f, r: f.job(), "occupation": lambda f, r: f.job(),
    "url": lambda f, r: f.url(), "website": lambda f, r: f.url(), "homepage": lambda f, r: f.url(),
    "link": lambda f, r: f.url(), "domain": lambda f, r: f.domain_name(),
    "description": lambda f, r: f.sentence(), "notes": lambda f, r: f.sentence(),
    "note": lambda f, r: f.sentence(), "comment": lambda f, r: f.sentence(),
    "summary": lambda f, r: f.sentence(), "bio": lambda f, r: f.sentence(),
    "message": lambda f, r: f.sentence(), "text": lambda f, r: f.sentence(),
    "content": lambda f, r: f.sentence(), "title": lambda f, r: f.sentence(nb_words=4).rstrip("."),
    "subject": lambda f, r: f.sentence(nb_words=5).rstrip("."),
    "currency": lambda f, r: f.currency_code(), "currency_code": lambda f, r: f.currency_code(),
    "color": lambda f, r: f.color_name(), "colour": lambda f, r: f.color_name(),
    "language": lambda f, r: f.language_name(), "uuid": lambda f, r: f.uuid4(),
    "guid": lambda f, r: f.uuid4(), "ip": lambda f, r: f.ipv4(), "ip_address": lambda f, r: f.ipv4(),
    # Dates come from the seeded rng, not Faker: Faker's date ranges end at "now".
    **dict.fromkeys(["date", "birthdate", "dob", "birthday"], lambda f, r: _date(r)),
    **dict.fromkeys(["timestamp", "datetime"], lambda f, r: f"{_date(r)}T{_clock(r)}"),
    "time": lambda f, r: _clock(r),
}
_NUMBER_HINTS: dict[str, Callable[[Any, random.Random], float]] = {
    **dict.fromkeys(["price", "amount", "total", "cost", "subtotal", "balance", "salary", "fee",
                     "tax", "discount", "revenue", "budget"], _money),
    **dict.fromkeys(["quantity", "qty", "count"], lambda f, r: r.randint(1, 10)),
    "age": lambda f, r: r.randint(18, 80), "year": lambda f, r: r.randint(1990, 2025),
    "rating": lambda f, r: r.randint(1, 5), "stars": lambda f, r: r.randint(1, 5),
    "percent": lambda f, r: r.randint(0, 100), "percentage": lambda f, r: r.randint(0, 100),
    "latitude": lambda f, r: round(r.uniform(-90, 90), 6), "lat": lambda f, r: round(r.uniform(-90, 90), 6),
    "longitude": lambda f, r: round(r.uniform(-180, 180), 6),
    "lng": lambda f, r: round(r.uniform(-180, 180), 6), "lon": lambda f, r: round(r.uniform(-180, 180), 6),
}


_PERSON = {"full", "customer", "user", "person", "contact", "author", "owner", "display", "client",
           "employee", "patient", "student", "member", "account", "holder", "recipient", "sender"}


_QUALIFIED = {  # last words that mislead after most other words: the words they may follow
    "name": _PERSON,
    "address": {"billing", "shipping", "home", "street", "postal", "mailing", "delivery", "customer", "user"},
    "state": {"home", "us", "billing", "shipping"},
    "country": {"home", "billing", "shipping", "origin", "birth"},
    "city": {"home", "billing", "shipping", "birth"},
    "ip": set(), "color": set(), "job": set(), "login": set(), "domain": set(), "link": set(),
}


def _hint_for(name: str, table: dict[str, Callable]) -> Callable | None:
    """The generator a property name suggests: whole name first, then its trailing words."""
    words = _snake(name).split("_")
    if words[-1] == "at" and table is _STRING_HINTS:  # created_at, updated_at, ...
        return table["timestamp"]
    for start in range(len(words)):
        rest = words[start:]
        if start and len(rest) == 1 and rest[0] in _QUALIFIED and words[start - 1] not in _QUALIFIED[rest[0]]:
            return None  # file_name, mac_address, order_state: not what the last word suggests
        found = table.get("_".join(words[start:]))
        if found is not None:
            return found
    return None


def _date(rng: random.Random) -> str:
    return f"{rng.randint(2000, 2030):04d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def _clock(rng: random.Random) -> str:
    return f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z"


_FORMATS: dict[str, Callable[[Any], str]] = {  # each takes the running _Draw
    "date": lambda d: _date(d.rng),
    "date-time": lambda d: f"{_date(d.rng)}T{_clock(d.rng)}",
    "time": lambda d: _clock(d.rng),
    "email": lambda d: d.fake.email() if d.fake else f"{d.word()}@example.com",
    "idn-email": lambda d: d.fake.email() if d.fake else f"{d.word()}@example.com",
    "uri": lambda d: d.fake.url() + d.word() if d.fake else f"https://example.com/{d.word()}",
    "iri": lambda d: f"https://example.com/{d.word()}",
    "uri-reference": lambda d: f"/{d.word()}/{d.word()}",
    "iri-reference": lambda d: f"/{d.word()}",
    "uri-template": lambda d: f"https://example.com/{d.word()}/{{id}}",
    "uuid": lambda d: str(uuid.UUID(int=d.rng.getrandbits(128), version=4)),
    "ipv4": lambda d: ".".join(str(d.rng.randint(1, 254)) for _ in range(4)),
    "ipv6": lambda d: ":".join(f"{d.rng.randrange(65536):x}" for _ in range(8)),
    "hostname": lambda d: d.fake.domain_name() if d.fake else f"{d.word()}.example.com",
    "idn-hostname": lambda d: f"{d.word()}.example.com",
    "json-pointer": lambda d: f"/{d.word()}/{d.rng.randint(0, 9)}",
    "relative-json-pointer": lambda d: f"{d.rng.randint(0, 3)}/{d.word()}",
    "regex": lambda d: f"^{d.word()}[0-9]+$",
    "duration": lambda d: f"P{d.rng.randint(1, 30)}D",
    "byte": lambda d: "aGVsbG8gd29ybGQ=",
    "color": lambda d: d.rng.choice(["red", "blue", "green", "#1a2b3c"]),
}


class SchemaSampler:
    """Seeded sampler of valid instances of one JSON Schema.

    ``sample(seed)`` returns one instance; the same seed gives the same instance in every process.
    Every instance is checked with the compiled validator before it is returned; a schema the
    sampler cannot satisfy raises :class:`SamplingError` naming the keyword that defeated it.
    Beyond ``max_depth`` levels of nesting, the sampler leaves out optional properties, keeps
    arrays minimal and prefers the least recursive branch, so recursive schemas stay finite.
    With ``realistic`` (the default), property names such as ``email`` or ``price`` get
    Faker-made values whenever those satisfy the subschema.
    """

    def __init__(self, schema: dict | bool, *, base_dir: Path | None = None, extra: Any = None,
                 max_depth: int = 6, realistic: bool = True) -> None:
        self.schema = schema
        self.validator = compile_schema(schema, base_dir=base_dir, extra=extra)
        self.max_depth = max_depth
        self.legacy = type(self.validator) in LEGACY
        dialect = schema.get("$schema", DEFAULT_DIALECT) if isinstance(schema, dict) else DEFAULT_DIALECT
        self.spec = specification_with(dialect, default=DRAFT202012)
        self.fake = None
        if realistic:
            from faker import Faker  # imported late: it is slow to import and only needed here

            self.fake = Faker("en_US")
        self._weights: dict[int, int] = {}

    def sample(self, seed: int) -> Any:
        """One valid instance, the same for the same seed."""
        if self.schema is False:
            raise SamplingError("cannot satisfy 'false' at /: the schema accepts nothing",
                                keyword="false", path="/")
        failures: Counter[tuple[str, str]] = Counter()
        messages: dict[tuple[str, str], str] = {}
        for attempt in range(RETRIES):
            # Derived seeds via a string seed: Random hashes it with SHA-512, not hash().
            rng = random.Random(seed if attempt == 0 else f"{seed}/{attempt}")
            if self.fake is not None:
                self.fake.seed_instance(rng.getrandbits(64))
            draw = _Draw(self, rng)
            try:
                value = draw.value([(self.schema, self.validator._resolver)], 0, "")
            except _Unsat as exc:
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
                key = (str(error.validator), _schema_path(error))
                failures[key] += 1
                messages.setdefault(key, error.message)
        (keyword, path), _ = failures.most_common(1)[0]
        raise SamplingError(f"cannot satisfy {keyword!r} at {path}: {messages[keyword, path][:200]}",
                            keyword=keyword, path=path)

    def weight(self, schema: Any) -> int:
        """How much a subschema tends to grow an instance: small ones are picked when deep."""
        key = id(schema)
        if key not in self._weights:
            self._weights[key] = _weight(schema)
        return self._weights[key]


def _weight(schema: Any) -> int:
    if isinstance(schema, dict):
        own = 10 if "$ref" in schema else 0
        if schema.get("type") in ("null", "boolean", "string", "integer", "number") or "enum" in schema:
            own -= 2
        return own + 1 + sum(_weight(v) for k, v in schema.items() if k not in ANNOTATIONS | {"enum"})
    if isinstance(schema, list):
        return sum(_weight(v) for v in schema)
    return 0


def _schema_path(error: jsonschema.ValidationError) -> str:
    where = list(error.absolute_schema_path)[:-1]
    return "/" + "/".join(str(p) for p in where)


class _Draw:
    """One attempt at one instance: holds the random state and the work budget."""

    def __init__(self, sampler: SchemaSampler, rng: random.Random) -> None:
        self.s, self.rng, self.fake = sampler, rng, sampler.fake
        self.budget = NODE_BUDGET

    def frugal(self) -> bool:
        """Past two thirds of the budget, add nothing optional: finish the instance instead."""
        return self.budget < NODE_BUDGET // 3

    # --- the location loop: collect, generate, check ---------------------------------------

    def value(self, parts: list[Part], depth: int, path: str, hint: str | None = None) -> Any:
        """A value satisfying every part, or _Unsat after a few local attempts."""
        if depth > self.s.max_depth + DEPTH_MARGIN:
            raise _Unsat("$ref", path, f"recursion deeper than {depth} levels: something required recurses",
                         retry=False)
        last: _Unsat | None = None
        for _ in range(LOCAL_TRIES):
            self.budget -= 1
            if self.budget < 0:
                raise _Unsat("budget", path, "the schema is too large or too recursive", retry=False)
            try:
                node = self.resolve(parts, depth, path)
                value = self.generate(node, parts, depth, path, hint)
            except _Unsat as exc:
                if not exc.retry:
                    raise
                last = exc
                continue
            # Plain nodes are built to satisfy their keywords and their children were checked
            # already; re-validating them would cost O(size x depth). The final check remains.
            error = self.first_error(parts, value) if node.risky else None
            if error is None:
                return value
            last = _Unsat(str(error.validator), path + _schema_path(error), error.message)
        assert last is not None
        raise last

    def first_error(self, parts: list[Part], value: Any) -> jsonschema.ValidationError | None:
        for schema, res in parts:
            checker = self.s.validator.evolve(schema=schema, _resolver=res)
            try:
                for error in checker.iter_errors(value):
                    return error
            except Exception as exc:  # noqa: BLE001 - see sample(): a broken subschema
                raise _Unsat("validator", "", f"jsonschema fails here: {exc!r}") from None
        return None

    def resolve(self, parts: list[Part], depth: int, path: str) -> _Node:
        """Merge the parts into a node, choosing branches depth-first until none contradict."""
        decided: dict[tuple, int] = {}

        def search() -> _Node:
            collector = self.collect(parts, decided, path)
            if collector.pending is None:
                return self.finish(collector.node, path)
            key, options = collector.pending
            last: _Unsat | None = None
            for index in self.order(options, depth):
                decided[key] = index
                try:
                    return search()
                except _Unsat as exc:
                    last = exc
            del decided[key]
            raise last or _Unsat("anyOf", path, "no branch can be satisfied")

        return search()

    def collect(self, parts: list[Part], decided: dict[tuple, int], path: str) -> _Collector:
        self.budget -= 1
        if self.budget < 0:
            raise _Unsat("budget", path, "the schema is too large or too recursive", retry=False)
        c = _Collector(decided)
        c.queue.extend(parts)
        hops = 0
        while c.queue:
            schema, res = c.queue.popleft()
            if schema is True or not isinstance(schema, (dict, bool)):
                continue
            if schema is False:
                raise _Unsat("false", path, "a subschema is false")
            hops += 1
            if hops > MAX_HOPS:
                raise _Unsat("$ref", path, "too many nested references")
            res = self.enter(schema, res)
            for ref_kw in ("$ref", "$dynamicRef", "$recursiveRef"):
                if isinstance(schema.get(ref_kw), str):
                    target = "#" if ref_kw == "$recursiveRef" else schema[ref_kw]
                    c.node.risky = c.node.risky or ref_kw != "$ref"  # dynamic scope: approximated
                    try:
                        resolved = res.lookup(target)
                    except referencing.exceptions.Unresolvable as exc:
                        raise _Unsat("$ref", path, f"cannot resolve {target!r}: {exc}") from None
                    c.queue.append((resolved.contents, resolved.resolver))
            if self.s.legacy and "$ref" in schema:
                continue  # drafts 3-7 ignore the siblings of $ref, and so must we
            for key, value in schema.items():
                handler = _KEYWORDS.get(key)
                if handler is not None and (value is not None or key == "const"):
                    handler(c, value, schema, res)
        return c

    def enter(self, schema: dict, res: Any) -> Any:
        """The resolver inside ``schema``: a new base URI if it has an ``$id`` (``id`` before draft 6)."""
        if "$id" not in schema and "id" not in schema:
            return res
        try:
            return res.in_subresource(self.s.spec.create_resource(schema))
        except (AttributeError, TypeError):  # "id" used as a property name by mistake: no base URI
            return res

    def finish(self, node: _Node, path: str) -> _Node:
        """Drop the types whose constraints contradict; fail if none is left."""
        types = set(node.types if node.types is not None else ALL_TYPES)
        why = "type"
        lo_bad = node.lo is not None and node.hi is not None and (
            node.lo > node.hi or (node.lo == node.hi and (node.lo_x or node.hi_x)))
        checks = [
            (("integer", "number"), lo_bad, "minimum"),
            (("string",), node.max_len is not None and node.min_len > node.max_len, "minLength"),
            (("array",), node.max_items is not None and node.min_items > node.max_items, "minItems"),
            (("object",), bool(node.forbidden & set(node.required)), "required"),
            (("object",), node.max_props is not None and (
                node.min_props > node.max_props or len(node.required) > node.max_props), "maxProperties"),
        ]
        for names, bad, keyword in checks:
            if bad and types & set(names):
                types -= set(names)
                why = keyword
        if not types:
            raise _Unsat(why, path, f"contradictory constraints ({why})")
        node.types = types
        if node.enum is not None:
            node.enum = [v for v in node.enum if _json_type(v) in types and _canon(v) not in node.excluded]
            if not node.enum:
                raise _Unsat("enum", path, "no enum/const value has an allowed type")
        return node

    def order(self, options: list[list[Part]], depth: int) -> list[int]:
        """Branch order: random, nulls last; when deep, the least recursive branches first."""
        indices = list(range(len(options)))
        self.rng.shuffle(indices)
        if depth >= self.s.max_depth:
            indices.sort(key=lambda i: sum(self.s.weight(p[0]) for p in options[i][:1]))
        elif len(indices) > 1 and _is_null(options[indices[0]][0][0]) and self.rng.random() < 0.8:
            indices.append(indices.pop(0))  # realistic data is mostly non-null
        return indices

    # --- generation ------------------------------------------------------------------------

    def generate(self, node: _Node, parts: list[Part], depth: int, path: str, hint: str | None) -> Any:
        if node.enum is not None:
            candidates = list(node.enum)
            self.rng.shuffle(candidates)
            for candidate in candidates[:32]:
                if self.first_error(parts, candidate) is None:
                    return candidate
            raise _Unsat("enum", path, "no enum/const value satisfies the other constraints")
        kind = self.pick_type(node, depth)
        value = _GENERATORS[kind](self, node, depth, path, hint)
        if node.excluded and _canon(value) in node.excluded:
            raise _Unsat("not", path, f"{value!r} is ruled out by 'not'")
        return value

    def pick_type(self, node: _Node, depth: int) -> str:
        types = sorted(node.types or ALL_TYPES, key=ALL_TYPES.index)
        if "number" in types and "integer" in types:
            types.remove("integer")  # "number" covers it (and makes whole numbers too)
        hinted = [t for t in types if t in node.hinted or (t == "integer" and "number" in node.hinted)]
        if hinted:
            types = hinted
        elif node.types is None:  # `{}`: anything goes; a short word is the most useful
            return "string"
        if depth >= self.s.max_depth:  # deep: scalars end the recursion
            scalars = [t for t in types if t not in ("object", "array")]
            types = scalars or types
        if len(types) > 1 and "null" in types and self.rng.random() < 0.75:
            types.remove("null")
        return self.rng.choice(types)

    def word(self) -> str:
        if self.fake is not None:
            return self.fake.word()
        return "".join(self.rng.choice(string.ascii_lowercase) for _ in range(self.rng.randint(3, 8)))

    def string(self, node: _Node, depth: int, path: str, hint: str | None) -> str:
        def fits(text: str) -> bool:
            return (node.min_len <= len(text) and (node.max_len is None or len(text) <= node.max_len)
                    and all(_search(p, text) for p in node.patterns)
                    and not any(_search(p, text) for p in node.not_patterns)
                    and all(self.s.validator.format_checker.conforms(text, f) for f in node.formats))

        maker = _hint_for(hint, _STRING_HINTS) if hint and self.fake is not None else None
        if maker is not None:
            text = maker(self.fake, self.rng)
            if fits(text):
                return text
        known = [f for f in node.formats if f in _FORMATS]
        for attempt in range(8):
            if known and not (node.patterns and attempt % 2):  # both: take turns
                text = _FORMATS[self.rng.choice(known)](self)
            elif node.patterns:
                text = self.from_pattern(self.rng.choice(node.patterns), node, attempt)
            else:
                text = self.words(node.min_len, node.max_len)
            if fits(text):
                return text
        keyword = "format" if known else "pattern" if node.patterns else "minLength"
        raise _Unsat(keyword, path, f"no string found for {keyword} {node.patterns or node.formats}")

    def from_pattern(self, pattern: str, node: _Node, attempt: int) -> str:
        # Few repeats first: shorter strings read better, and some schemas' regexes backtrack
        # exponentially in the length of the string (the validator would take minutes).
        # Later attempts allow more, for a minLength that an anchored pattern cannot pad.
        repeat = 3 * 2 ** (attempt // 2) if attempt < 2 else max(3 * 2 ** (attempt // 2), node.min_len)
        if node.max_len is not None:
            repeat = max(1, min(repeat, node.max_len if attempt >= 2 else node.max_len // 4))
        try:
            text = _Xeger(self.rng, repeat).xeger(pattern)
        except Exception:  # noqa: BLE001 - sre internals on exotic patterns
            return ""
        if len(text) < node.min_len and not pattern.endswith("$"):
            text += "x" * (node.min_len - len(text))  # unanchored: extra text keeps the match
        return text

    def words(self, low: int, high: int | None) -> str:
        text = self.word()
        while len(text) < low:
            text += " " + self.word()
        if high is not None and len(text) > high:
            text = text[:high].rstrip() or "x" * high
            text += "x" * (low - len(text)) if len(text) < low else ""
        return text

    def number(self, node: _Node, depth: int, path: str, hint: str | None, integer: bool = False) -> float:
        tries: list[float] = []
        maker = _hint_for(hint, _NUMBER_HINTS) if hint and self.fake is not None else None
        if maker is not None:
            tries.append(maker(self.fake, self.rng))
        step = _step(node.multiples + ([1] if integer else []))
        tries += self.multiples(node, step, path) if step is not None else self.plain(node, integer)
        for value in tries:
            if float(value).is_integer() and abs(value) < 2**53:
                value = int(value)  # 12, not 12.0: valid for "number" too, and more natural
            elif integer:
                continue
            if self.number_fits(node, value):
                return value
        raise _Unsat("multipleOf" if node.multiples else "minimum", path,
                     f"no number in [{node.lo}, {node.hi}] fits")

    def plain(self, node: _Node, integer: bool) -> list[float]:
        """Candidates in a "human" window inside the bounds: small, with at most 2 decimals."""
        lo, hi = node.lo, node.hi
        low = lo if lo is not None else (min(0, hi - 100) if hi is not None else 0)
        high = min(hi if hi is not None else low + 100, low + 1000)
        if integer or self.rng.random() < 0.3:
            tries = [self.rng.randint(math.ceil(low), max(math.ceil(low), math.floor(high)))
                     for _ in range(8)]
        else:
            tries = [round(self.rng.uniform(low, high), 2) for _ in range(8)]
        return tries + [math.ceil(low), math.floor(high), (low + high) / 2]

    def multiples(self, node: _Node, step: Fraction, path: str) -> list[float]:
        """Candidates k * step, with k small and inside the bounds (counted in steps)."""
        k_lo = math.ceil(Fraction(node.lo) / step) if node.lo is not None else None
        k_hi = math.floor(Fraction(node.hi) / step) if node.hi is not None else None
        first = k_lo if k_lo is not None else (min(1, k_hi - 20) if k_hi is not None else 1)
        last = min(k_hi if k_hi is not None else first + 20, first + 20)
        if first > last:
            raise _Unsat("multipleOf", path, f"no multiple of {float(step)} in [{node.lo}, {node.hi}]")
        ks = [self.rng.randint(first, last) for _ in range(16)] + list(range(first, min(last, first + 30) + 1))
        values = [k * step for k in ks if all(k * step % m for m in node.not_multiples)]
        return [int(v) if v.denominator == 1 else float(v) for v in values]

    @staticmethod
    def number_fits(node: _Node, value: float) -> bool:
        if node.lo is not None and (value < node.lo or (node.lo_x and value == node.lo)):
            return False
        if node.hi is not None and (value > node.hi or (node.hi_x and value == node.hi)):
            return False
        return (all(_is_multiple(value, m) for m in node.multiples if m)
                and not any(_fraction(value) % m == 0 for m in node.not_multiples))

    def array(self, node: _Node, depth: int, path: str, hint: str | None) -> list[Any]:
        cap = node.max_items
        for prefix, rest in node.positional:
            if rest is not None and rest[0] is False:
                cap = len(prefix) if cap is None else min(cap, len(prefix))
        need = max(node.min_contains, 0) if node.contains else 0
        low = max(node.min_items, need)
        if cap is not None and low > cap:
            raise _Unsat("maxItems", path, f"needs {low} items but at most {cap} are allowed")
        if depth >= self.s.max_depth or self.frugal():
            count = low
        else:
            count = self.rng.randint(max(low, 1), max(low, 1) + 2)
            count = min(count, cap) if cap is not None else count
        holders = set(self.rng.sample(range(count), need)) if need <= count else set()
        item_hint = hint[:-1] if hint and hint.endswith("s") and not hint.endswith("ss") else None
        items: list[Any] = []
        seen: set[Any] = set()
        for index in range(count):
            parts = self.item_parts(node, index) + (node.contains if index in holders else [])
            for _ in range(8 if node.unique else 1):
                item = self.value(parts, depth + 1, f"{path}/items", item_hint)
                if not node.unique or _canon(item) not in seen:
                    break
            else:
                if index >= low:
                    break  # enough items already: stop rather than repeat one
                raise _Unsat("uniqueItems", path, f"cannot find {low} distinct items")
            seen.add(_canon(item))
            items.append(item)
        return items

    @staticmethod
    def item_parts(node: _Node, index: int) -> list[Part]:
        parts: list[Part] = []
        for prefix, rest in node.positional:
            if index < len(prefix):
                parts.append(prefix[index])
            elif rest is not None:
                parts.append(rest)
        return parts

    def object(self, node: _Node, depth: int, path: str, hint: str | None) -> dict[str, Any]:
        keys = list(node.required)
        for key in keys:
            if not self.allowed(node, key):
                raise _Unsat("additionalProperties", path, f"required {key!r} is not allowed")
        # Optional properties thin out with depth, and a wide object gets a dozen at most:
        # training examples should be readable, not every field of a Kubernetes manifest.
        chance = 0.0 if self.frugal() else 0.6 * max(0.0, 1 - depth / self.s.max_depth)
        optional = [k for k in node.props if k not in node.required and k not in node.forbidden
                    and self.allowed(node, k)]
        picked = [k for k in optional if self.rng.random() < chance]
        if len(picked) > MAX_OPTIONAL:
            keep = set(self.rng.sample(picked, MAX_OPTIONAL))
            picked = [k for k in picked if k in keep]
        keys += picked
        if node.max_props is not None and len(keys) > node.max_props:
            keys = keys[:node.max_props]  # required ones come first and are kept
        spare = [k for k in optional if k not in keys]
        while len(keys) < node.min_props:
            key = spare.pop(0) if spare else self.extra_key(node, path, keys)
            keys.append(key)
        order = {k: i for i, k in enumerate(node.props)}
        keys.sort(key=lambda k: order.get(k, len(order)))  # schema order reads naturally
        result: dict[str, Any] = {}
        for key in keys:
            try:
                result[key] = self.value(self.prop_parts(node, key), depth + 1, f"{path}/properties/{key}", key)
            except _Unsat:
                if key in node.required or len(keys) - 1 < node.min_props:
                    raise
                keys = [k for k in keys if k != key]  # optional after all: leave it out
        return result

    def allowed(self, node: _Node, key: str) -> bool:
        return all(key in names or any(_search(p, key) for p in pats)
                   for names, pats, (sub, _) in node.additional if sub is False)

    def extra_key(self, node: _Node, path: str, taken: list[str]) -> str:
        """A new property name to reach minProperties: from patternProperties, or a plain word."""
        for _ in range(10):
            if node.pattern_props and (node.no_extras or self.rng.random() < 0.7):
                pattern = self.rng.choice(node.pattern_props)[0]
                key = _Xeger(self.rng, 4).xeger(pattern)
            elif node.names:
                key = self.value(node.names, self.s.max_depth, f"{path}/propertyNames")
            else:
                key = self.word()
            if key not in taken and key not in node.forbidden and self.allowed(node, key):
                return key
        raise _Unsat("minProperties", path, "cannot invent enough property names")

    @staticmethod
    def prop_parts(node: _Node, key: str) -> list[Part]:
        parts = list(node.props.get(key, []))
        parts += [sub for pattern, sub in node.pattern_props if _search(pattern, key)]
        parts += [sub for names, pats, sub in node.additional
                  if key not in names and not any(_search(p, key) for p in pats)]
        return parts


def _search(pattern: str, text: str) -> bool:
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return False


def _is_null(schema: Any) -> bool:
    return isinstance(schema, dict) and schema.get("type") == "null"


_GENERATORS: dict[str, Callable[..., Any]] = {
    "null": lambda d, n, depth, path, hint: None,
    "boolean": lambda d, n, depth, path, hint: d.rng.random() < 0.5,
    "integer": lambda d, n, depth, path, hint: d.number(n, depth, path, hint, integer=True),
    "number": _Draw.number,
    "string": _Draw.string,
    "array": _Draw.array,
    "object": _Draw.object,
}


def sample(schema: dict | bool, *, seed: int, **kw: Any) -> Any:
    """One valid instance of ``schema`` (see :class:`SchemaSampler` for the keyword arguments)."""
    return SchemaSampler(schema, **kw).sample(seed)
