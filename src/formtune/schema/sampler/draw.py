"""Drawing one instance: the per-location loop of collect, choose branches, generate, check.

:class:`Draw` is one attempt with one seeded ``random.Random``. At each location it collects the
applicable subschemas into a node, backtracking over branch choices (``anyOf``/``oneOf``/``if``/
dependencies) until the merged constraints do not contradict, then hands the node to the
generator of one allowed type (:mod:`.generate`). Values from keywords that are only approximated
(``not``, ``contains``, branch choices) are validated right away, so a bad choice is retried
where it was made instead of failing the whole instance. A work budget keeps pathological schemas
from running forever.
"""

from __future__ import annotations

import random
import string
from typing import TYPE_CHECKING, Any

import jsonschema
import referencing.exceptions

from formtune.schema.sampler.budget import MAX_ITEMS, MAX_PROPERTIES, MAX_STRING, Budget
from formtune.schema.sampler.generate import GENERATORS
from formtune.schema.sampler.keywords import ALL_TYPES, KEYWORDS, Choice, Collector, Loc, Node, Part, Unsat
from formtune.schema.sampler.values import canon, json_type

if TYPE_CHECKING:
    from formtune.schema.sampler.core import SchemaSampler

LOCAL_TRIES = 3  # attempts per instance location before giving up on it
DEPTH_MARGIN = 12  # levels past max_depth before a recursion counts as endless
MAX_HOPS = 256  # $ref expansions at one location: stops ref cycles that never nest
EXAMPLE_CHANCE = 0.3  # how often a scalar is taken from the schema's examples/default, when it has some


class Draw:
    """One attempt at one instance: holds the random state and the work budget."""

    def __init__(self, sampler: SchemaSampler, rng: random.Random, deadline: float) -> None:
        self.s, self.rng = sampler, rng
        self.fake = sampler.fake if sampler.realistic else None  # for values a name suggests
        self.budget = Budget(deadline)

    # --- the location loop: collect, generate, check ---------------------------------------

    def value(self, parts: list[Part], depth: int, loc: Loc, *, via: str) -> Any:
        """A value satisfying every part, or Unsat after a few local attempts.

        ``via`` is the keyword that asked for this location (``required``, ``items``...): the
        work done here is charged to it.
        """
        path = loc.path
        if depth > self.s.max_depth + DEPTH_MARGIN:
            raise Unsat("$ref", path, f"recursion deeper than {depth} levels: something required recurses",
                        retry=False)
        last: Unsat | None = None
        for _ in range(LOCAL_TRIES):
            self.budget.spend(via, path)
            try:
                node = self.resolve(parts, depth, path, via)
                value = self.generate(node, parts, depth, loc)
            except Unsat as exc:
                if not exc.retry:
                    raise
                last = exc
                continue
            # Plain nodes are built to satisfy their keywords and their children were checked
            # already; re-validating them would cost O(size x depth). The final check remains.
            error = self.first_error(parts, value) if node.risky else None
            if error is None:
                return value
            last = Unsat(str(error.validator), path + schema_path(error), error.message)
        assert last is not None
        raise last

    def first_error(self, parts: list[Part], value: Any) -> jsonschema.ValidationError | None:
        for schema, res in parts:
            checker = self.s.validator.evolve(schema=schema, _resolver=res)
            try:
                for error in checker.iter_errors(value):
                    return error
            except Exception as exc:  # noqa: BLE001 - see sample(): a broken subschema
                raise Unsat("validator", "", f"jsonschema fails here: {exc!r}") from None
        return None

    def resolve(self, parts: list[Part], depth: int, path: str, via: str) -> Node:
        """Merge the parts into a node, choosing branches depth-first until none contradict."""
        decided: dict[tuple, int] = {}

        def search(charge: str) -> Node:
            self.budget.spend(charge, path)
            collector = self.collect(parts, decided, path)
            if collector.pending is None:
                return self.finish(collector.node, path)
            key, choice = collector.pending
            last: Unsat | None = None
            for index in self.order(choice, depth):
                decided[key] = index
                try:
                    return search(key[1])  # backtracking is charged to the branching keyword
                except Unsat as exc:
                    if not exc.retry:
                        raise
                    last = exc
            del decided[key]
            raise last or Unsat("anyOf", path, "no branch can be satisfied")

        return search(via)

    def collect(self, parts: list[Part], decided: dict[tuple, int], path: str) -> Collector:
        c = Collector(decided)
        c.queue.extend(parts)
        hops = 0
        while c.queue:
            schema, res = c.queue.popleft()
            if schema is True or not isinstance(schema, (dict, bool)):
                continue
            if schema is False:
                raise Unsat("false", path, "a subschema is false")
            res = self.s.enter(schema, res)
            for ref_kw in ("$ref", "$dynamicRef", "$recursiveRef"):
                if isinstance(schema.get(ref_kw), str):
                    hops += 1
                    if hops > MAX_HOPS:
                        raise Unsat("$ref", path, "too many nested references")
                    target = "#" if ref_kw == "$recursiveRef" else schema[ref_kw]
                    c.node.risky = c.node.risky or ref_kw != "$ref"  # dynamic scope: approximated
                    try:
                        resolved = res.lookup(target)
                    except referencing.exceptions.Unresolvable as exc:
                        raise Unsat("$ref", path, f"cannot resolve {target!r}: {exc}") from None
                    c.queue.append((resolved.contents, resolved.resolver))
            if self.s.legacy and "$ref" in schema:
                continue  # drafts 3-7 ignore the siblings of $ref, and so must we
            for key, value in schema.items():
                handler = KEYWORDS.get(key)
                if handler is not None and (value is not None or key == "const"):
                    handler(c, value, schema, res)
        return c

    def finish(self, node: Node, path: str) -> Node:
        """Drop the types whose constraints contradict; fail if none is left."""
        types = set(node.types if node.types is not None else ALL_TYPES)
        why, message = "type", "contradictory constraints (type)"
        lo_bad = node.lo is not None and node.hi is not None and (
            node.lo > node.hi or (node.lo == node.hi and (node.lo_x or node.hi_x)))
        big = "is over the sampler's limit of"
        checks = [
            (("integer", "number"), lo_bad, "minimum", ""),
            (("string",), node.max_len is not None and node.min_len > node.max_len, "minLength", ""),
            (("array",), node.max_items is not None and node.min_items > node.max_items, "minItems", ""),
            (("object",), bool(node.forbidden & set(node.required)), "required", ""),
            (("object",), node.max_props is not None and (
                node.min_props > node.max_props or len(node.required) > node.max_props), "maxProperties", ""),
            (("string",), node.min_len > MAX_STRING, "minLength",
             f"minLength {node.min_len} {big} {MAX_STRING:,} characters"),
            (("array",), node.min_items > MAX_ITEMS, "minItems",
             f"minItems {node.min_items} {big} {MAX_ITEMS:,} items"),
            (("array",), bool(node.contains) and node.min_contains > MAX_ITEMS, "minContains",
             f"minContains {node.min_contains} {big} {MAX_ITEMS:,} items"),
            (("object",), node.min_props > MAX_PROPERTIES, "minProperties",
             f"minProperties {node.min_props} {big} {MAX_PROPERTIES:,} properties"),
            (("object",), len(node.required) > MAX_PROPERTIES, "required",
             f"{len(node.required)} required properties are over the sampler's limit of {MAX_PROPERTIES:,}"),
        ]
        for names, bad, keyword, why_not in checks:
            if bad and types & set(names):
                types -= set(names)
                why, message = keyword, why_not or f"contradictory constraints ({keyword})"
        if not types:
            raise Unsat(why, path, message)
        node.types = types
        if node.enum is not None:
            node.enum = [v for v in node.enum if json_type(v) in types and canon(v) not in node.excluded]
            if not node.enum:
                raise Unsat("enum", path, "no enum/const value has an allowed type")
            node.types = {json_type(v) for v in node.enum}
        return node

    def order(self, choice: Choice, depth: int) -> list[int]:
        """Branch order: random, nulls last; when deep, the least recursive branches first."""
        indices = list(range(choice.count))
        self.rng.shuffle(indices)
        if depth >= self.s.max_depth:
            indices.sort(key=lambda i: self.s.weight(choice.lead(i)))
        elif len(indices) > 1 and _is_null(choice.lead(indices[0])) and self.rng.random() < 0.8:
            indices.append(indices.pop(0))  # realistic data is mostly non-null
        return indices

    # --- generation ------------------------------------------------------------------------

    def generate(self, node: Node, parts: list[Part], depth: int, loc: Loc) -> Any:
        """A caller's hint first, then (sometimes) an example, then a value made from the node."""
        hint = self.s.hints.lookup(loc) if self.s.hints is not None else None
        if hint is not None and "array" in node.types and not hint.makes & node.types:
            loc = loc._replace(hint=hint)  # a hint of scalars on an array: for its items
        elif hint is not None:
            try:
                value = hint.make(self.rng, self.s.fake, node.types)
            except Exception:  # noqa: BLE001 - e.g. no whole number in a range: fall back, never crash
                value = _NOTHING
            if value is not _NOTHING and self.fits(value, node, parts):
                self.s.hint_uses[hint.field] += 1
                return value
            self.s.hint_fallbacks[hint.field] += 1
        examples = [v for v in node.examples + list(loc.examples) if not isinstance(v, (dict, list))]
        if examples and self.rng.random() < EXAMPLE_CHANCE:
            self.rng.shuffle(examples)
            for example in examples[:8]:
                if self.fits(example, node, parts):
                    return example
        if node.enum is not None:
            candidates = list(node.enum)
            self.rng.shuffle(candidates)
            for candidate in candidates[:32]:
                if self.first_error(parts, candidate) is None:
                    return candidate
            raise Unsat("enum", loc.path, "no enum/const value satisfies the other constraints")
        kind = self.pick_type(node, depth)
        value = GENERATORS[kind](self, node, depth, loc)
        if node.excluded and canon(value) in node.excluded:
            raise Unsat("not", loc.path, f"{value!r} is ruled out by 'not'")
        return value

    def fits(self, value: Any, node: Node, parts: list[Part]) -> bool:
        """Whether a value from outside the node (a hint, an example) is valid here."""
        return (json_type(value) in node.types and canon(value) not in node.excluded
                and self.first_error(parts, value) is None)

    def pick_type(self, node: Node, depth: int) -> str:
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
        if self.fake is not None:  # None unless realistic
            return self.fake.word()
        return "".join(self.rng.choice(string.ascii_lowercase) for _ in range(self.rng.randint(3, 8)))


_NOTHING = object()


def _is_null(schema: Any) -> bool:
    return isinstance(schema, dict) and schema.get("type") == "null"


def schema_path(error: jsonschema.ValidationError) -> str:
    where = list(error.absolute_schema_path)[:-1]
    return "/" + "/".join(str(p) for p in where)
