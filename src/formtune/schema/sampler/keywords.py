"""Collecting: merge the keywords of every subschema that applies at one location into a node.

A :class:`Collector` walks a queue of subschemas; each keyword has a handler in :data:`KEYWORDS`
that tightens the :class:`Node` (bounds, lengths, required keys...) or queues more subschemas
(``allOf``). Branching keywords (``anyOf``, ``oneOf``, ``if``, dependencies) do not branch here:
they register a *choice* that the draw's backtracking search decides, so a collector pass is cheap
and has no randomness of its own.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Callable, NamedTuple

from formtune.schema.sampler.realistic import FORMATS
from formtune.schema.sampler.values import canon, fraction

ALL_TYPES = ("object", "array", "string", "integer", "number", "boolean", "null")
ANNOTATIONS = {"title", "description", "default", "examples", "$comment", "deprecated", "readOnly",
               "writeOnly", "$id", "id", "$schema", "$anchor"}

Part = tuple[Any, Any]  # (subschema, the referencing.Resolver it is to be read with)


class Loc(NamedTuple):
    """Where a value goes, and what is known about it besides the schema."""

    path: str  # schema keywords leading here, for error messages: /properties/items/items
    at: tuple[str | int, ...] | None  # the location in the instance (None: a property name)
    name: str | None = None  # the property name, singular for array items: suggests values
    examples: tuple[Any, ...] = ()  # values for this location from enclosing examples/defaults
    hint: Any = None  # a caller hint an array hands down to its items

    def key(self, key: str, examples: tuple[Any, ...]) -> Loc:
        return Loc(f"{self.path}/properties/{key}", None if self.at is None else (*self.at, key), key, examples)

    def item(self, index: int, examples: tuple[Any, ...]) -> Loc:
        name = self.name
        singular = name[:-1] if name and name.endswith("s") and not name.endswith("ss") else None
        at = None if self.at is None else (*self.at, index)
        return Loc(f"{self.path}/items", at, singular, examples, self.hint)


class Unsat(Exception):
    """This location cannot be satisfied with the choices made so far."""

    def __init__(self, keyword: str, path: str, message: str = "", *, retry: bool = True) -> None:
        super().__init__(message or keyword)
        self.keyword, self.path, self.message = keyword, path or "/", message or keyword
        self.retry = retry  # False: trying again at the same place cannot help


@dataclass
class Node:
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
    excluded: set[Any] = field(default_factory=set)  # canon of values ruled out by "not"
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
    examples: list[Any] = field(default_factory=list)  # from "examples" and "default"
    risky: bool = False  # keywords the generator only approximates: check the value right away

    def tighten_lo(self, value: float, exclusive: bool) -> None:
        if self.lo is None or value > self.lo or (value == self.lo and exclusive):
            self.lo, self.lo_x = value, exclusive

    def tighten_hi(self, value: float, exclusive: bool) -> None:
        if self.hi is None or value < self.hi or (value == self.hi and exclusive):
            self.hi, self.hi_x = value, exclusive


# -- keyword handlers: each merges one keyword of one subschema into the collector's node --------

@dataclass(frozen=True)
class Choice:
    """The branches of one branching keyword, built only when taken.

    A ``oneOf`` of n branches has n branches of n parts each (the branch plus a ``not`` of every
    other one); building them all on every collector pass made a 500-branch ``oneOf`` hang.
    """

    count: int
    build: Callable[[int], list[Part]]  # the parts of branch i
    lead: Callable[[int], Any]  # the subschema branch i stands for: weighs it when deep

    @classmethod
    def of(cls, branches: list[list[Part]]) -> Choice:
        return cls(len(branches), branches.__getitem__, lambda i: branches[i][0][0])


class Collector:
    """State of one pass over the subschemas that apply at a location."""

    def __init__(self, decided: dict[tuple, int]) -> None:
        self.node = Node()
        self.queue: deque[Part] = deque()
        self.decided = decided
        self.pending: tuple[tuple, Choice] | None = None  # first undecided choice

    def choose(self, key: tuple, choice: Choice) -> None:
        """Queue the branch already chosen for ``key``, or remember it as the next choice."""
        self.node.risky = True
        if key in self.decided:
            self.queue.extend(choice.build(self.decided[key]))
        elif self.pending is None:
            self.pending = (key, choice)


def _kw_type(c: Collector, value: Any, schema: dict, res: Any) -> None:
    wanted = {value} if isinstance(value, str) else {t for t in value if isinstance(t, str)}
    if "number" in wanted:
        wanted.add("integer")  # an integer is a number; intersecting with "integer" keeps it
    c.node.types = wanted if c.node.types is None else c.node.types & wanted


def _kw_enum(c: Collector, values: list[Any]) -> None:
    """enum and const: the allowed values are the intersection of every list."""
    if c.node.enum is None:
        c.node.enum = values
    else:
        keep = {canon(v) for v in values}
        c.node.enum = [v for v in c.node.enum if canon(v) in keep]


def _kw_bound(c: Collector, value: Any, schema: dict, res: Any, *, low: bool, excl_kw: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return  # draft-4 boolean exclusive*: read together with minimum/maximum
    c.node.hinted.add("number")
    exclusive = schema.get(excl_kw) is True
    (c.node.tighten_lo if low else c.node.tighten_hi)(value, exclusive)


def _kw_exclusive(c: Collector, value: Any, schema: dict, res: Any, *, low: bool) -> None:
    if not isinstance(value, bool) and isinstance(value, (int, float)):
        c.node.hinted.add("number")
        (c.node.tighten_lo if low else c.node.tighten_hi)(value, True)


def _kw_set(attr: str, hint: str, pick: Callable[[Any, Any], Any]) -> Callable[..., None]:
    """A handler that merges a numeric keyword with ``pick`` (max for minimums, min for maximums)."""

    def handler(c: Collector, value: Any, schema: dict, res: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return
        current = getattr(c.node, attr)
        setattr(c.node, attr, value if current is None else pick(current, value))
        c.node.hinted.add(hint)

    return handler


def _kw_items(c: Collector, value: Any, schema: dict, res: Any) -> None:
    c.node.hinted.add("array")
    if isinstance(value, list):  # draft-4..2019 tuple form; additionalItems covers the rest
        rest = schema.get("additionalItems")
        c.node.positional.append(([(v, res) for v in value], None if rest is None else (rest, res)))
    elif "prefixItems" not in schema:  # otherwise the prefixItems handler reads it
        c.node.positional.append(([], (value, res)))


def _kw_prefix(c: Collector, value: Any, schema: dict, res: Any) -> None:
    rest = schema.get("items")
    c.node.positional.append(([(v, res) for v in value], None if rest is None else (rest, res)))
    c.node.hinted.add("array")


def _kw_contains(c: Collector, value: Any, schema: dict, res: Any) -> None:
    c.node.risky = True
    c.node.contains.append((value, res))
    c.node.hinted.add("array")


def _kw_properties(c: Collector, value: Any, schema: dict, res: Any) -> None:
    for name, sub in value.items():
        c.node.props.setdefault(name, []).append((sub, res))
    c.node.hinted.add("object")


def _kw_pattern_props(c: Collector, value: Any, schema: dict, res: Any) -> None:
    c.node.pattern_props.extend((pat, (sub, res)) for pat, sub in value.items())
    c.node.hinted.add("object")


def _kw_additional(c: Collector, value: Any, schema: dict, res: Any) -> None:
    if value is True:
        return
    names = frozenset(schema.get("properties", {}))
    c.node.additional.append((names, tuple(schema.get("patternProperties", {})), (value, res)))


def _kw_unevaluated(c: Collector, value: Any, schema: dict, res: Any) -> None:
    c.node.risky = True
    c.node.no_extras = c.node.no_extras or value is not True


def _kw_required(c: Collector, value: Any, schema: dict, res: Any) -> None:
    if isinstance(value, list):  # draft 3 put a boolean here; the validator ignores it in 4+
        c.node.required.update(dict.fromkeys(value))
        c.node.hinted.add("object")


def _kw_str(attr: str) -> Callable[..., None]:
    def handler(c: Collector, value: Any, schema: dict, res: Any) -> None:
        getattr(c.node, attr).append(value)
        if attr == "patterns" or value in FORMATS:
            c.node.hinted.add("string")

    return handler


def _kw_list(attr: str, hint: str) -> Callable[..., None]:
    def handler(c: Collector, value: Any, schema: dict, res: Any) -> None:
        getattr(c.node, attr).append((value, res))
        c.node.hinted.add(hint)

    return handler


def _kw_all_of(c: Collector, value: Any, schema: dict, res: Any) -> None:
    c.queue.extend((sub, res) for sub in value)


def _kw_any_of(c: Collector, value: Any, schema: dict, res: Any) -> None:
    c.choose((id(schema), "anyOf"), Choice.of([[(sub, res)] for sub in value]))


def _kw_one_of(c: Collector, value: Any, schema: dict, res: Any) -> None:
    """The chosen branch, plus what keeps the others from matching too."""
    only = _exclusive_values(value)
    if only is not None:  # every branch a const/enum: allow the values no other branch has

        def build(i: int) -> list[Part]:
            return [(value[i], res), ({"enum": only[i]}, res)]
    else:  # a "not" of every other branch: cheap forms of "not" prune right away

        def build(i: int) -> list[Part]:
            return [(value[i], res)] + [({"not": other}, res) for j, other in enumerate(value) if j != i]

    c.choose((id(schema), "oneOf"), Choice(len(value), build, value.__getitem__))


def _exclusive_values(branches: list[Any]) -> list[list[Any]] | None:
    """For branches that are all const/enum: per branch, the values no other branch allows.

    This is oneOf's exclusivity, checked directly in one pass instead of pairwise.
    """
    allowed: list[list[Any]] = []
    for branch in branches:
        if not isinstance(branch, dict) or not set(branch) - ANNOTATIONS <= {"const", "enum"} or not (
                {"const", "enum"} & set(branch)) or not isinstance(branch.get("enum", []), list):
            return None
        values = list(branch["enum"]) if "enum" in branch else [branch["const"]]
        if "const" in branch and "enum" in branch:
            values = [v for v in values if canon(v) == canon(branch["const"])]
        allowed.append(values)
    seen = Counter(key for values in allowed for key in {canon(v) for v in values})
    return [[v for v in values if seen[canon(v)] == 1] for values in allowed]


def _kw_if(c: Collector, value: Any, schema: dict, res: Any) -> None:
    then = [(value, res)] + ([(schema["then"], res)] if "then" in schema else [])
    other = [({"not": value}, res)] + ([(schema["else"], res)] if "else" in schema else [])
    c.choose((id(schema), "if"), Choice.of([then, other]))


def _kw_not(c: Collector, value: Any, schema: dict, res: Any) -> None:
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
        c.node.not_multiples.append(fraction(value["multipleOf"]))
        _kw_type(c, "number", schema, res)  # as with "required": only a number can fail it
    elif keys == {"pattern"}:
        c.node.not_patterns.append(value["pattern"])
        _kw_type(c, "string", schema, res)
    elif keys in ({"enum"}, {"const"}):
        c.node.excluded.update(canon(v) for v in (value["enum"] if "enum" in value else [value["const"]]))


def _kw_dependencies(c: Collector, value: Any, schema: dict, res: Any, *, kind: str) -> None:
    """Each trigger property is either present (with what it brings along) or absent."""
    for name in sorted(value):  # sorted: the order of choices must not depend on dict history
        dep = value[name]
        needs = {"required": [name] + dep} if isinstance(dep, list) else {"required": [name]}
        present = [(needs, res)] + ([] if isinstance(dep, list) else [(dep, res)])
        absent = [({"not": {"required": [name]}}, res)]
        c.choose((id(schema), kind, name), Choice.of([present, absent]))


KEYWORDS: dict[str, Callable[..., None]] = {
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
    "examples": lambda c, v, s, r: c.node.examples.extend(v if isinstance(v, list) else []),
    "default": lambda c, v, s, r: c.node.examples.append(v),
}
