"""The schema sampler: every keyword, determinism, refusals, generated schemas, a JSONSchemaBench slice.

Bounded work is tested in test_sampler_limits.py; examples, hints and names in test_sampler_realism.py.
"""

from __future__ import annotations

import gzip
import ipaddress
import json
import os
import re
import subprocess
import sys
import uuid
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import fqdn
import isoduration
import jsonpointer
import jsonschema
import pytest
import referencing
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from rfc3339_validator import validate_rfc3339
from rfc3986_validator import validate_rfc3986
from sampling import corpus_dir, draws

from formtune.errors import SamplingError, SchemaError
from formtune.schema.compile import compile_schema
from formtune.schema.sampler import SchemaSampler, sample

CORPUS = corpus_dir("jsonschemabench")


def depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    return 0


# -- scalars ---------------------------------------------------------------------------------

@pytest.mark.parametrize("kind, pytype", [("string", str), ("integer", int), ("number", (int, float)),
                                          ("boolean", bool), ("null", type(None)),
                                          ("object", dict), ("array", list)])
def test_each_type(kind: str, pytype: Any) -> None:
    for value in draws({"type": kind}):
        assert isinstance(value, pytype)
        assert kind == "boolean" or not isinstance(value, bool)


def test_type_union_uses_every_member() -> None:
    seen = {type(v).__name__ for v in draws({"type": ["string", "integer", "null"]}, range(100))}
    assert seen == {"str", "int", "NoneType"}


def test_const_and_enum() -> None:
    assert set(draws({"const": "x"})) == {"x"}
    assert set(draws({"enum": ["a", "b", 3]}, range(40))) == {"a", "b", 3}
    assert set(draws({"enum": ["a", 1, None], "type": "string"})) == {"a"}
    assert set(draws({"allOf": [{"enum": [1, 2, 3]}, {"enum": [2, 3, 4]}], "not": {"const": 3}})) == {2}


def test_numeric_bounds_and_exclusivity() -> None:
    for v in draws({"type": "integer", "minimum": 10, "maximum": 12}):
        assert 10 <= v <= 12
    for v in draws({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}):
        assert 0 < v < 1
    draft4 = {"$schema": "http://json-schema.org/draft-04/schema#", "type": "integer",
              "minimum": 5, "exclusiveMinimum": True, "maximum": 7, "exclusiveMaximum": True}
    assert set(draws(draft4)) == {6}
    assert all(v < -1000 for v in draws({"type": "integer", "maximum": -1001}))


def test_multiple_of() -> None:
    assert all(v % 7 == 0 for v in draws({"type": "integer", "multipleOf": 7, "minimum": 1}))
    assert all(v % 12 == 0 for v in draws({"type": "integer", "allOf": [{"multipleOf": 4}, {"multipleOf": 6}]}))
    cents = draws({"type": "number", "multipleOf": 0.01, "minimum": 0, "maximum": 5})
    assert all(abs(round(v, 2) - v) < 1e-9 for v in cents)
    assert all(v % 5 for v in draws({"type": "integer", "not": {"multipleOf": 5}}))
    assert all(v >= 10000 for v in draws({"type": "integer", "multipleOf": 10000, "minimum": 1}))


def test_string_length_and_pattern() -> None:
    for v in draws({"type": "string", "minLength": 30, "maxLength": 40}):
        assert 30 <= len(v) <= 40
    for v in draws({"type": "string", "pattern": "^[A-Z]{3}-\\d{4}$"}):
        assert re.fullmatch(r"[A-Z]{3}-\d{4}", v)
    # Unanchored: a match anywhere is enough, so padding to minLength keeps it valid.
    for v in draws({"type": "string", "pattern": "ab+", "minLength": 12}):
        assert re.search("ab+", v) and len(v) >= 12
    for v in draws({"type": "string", "not": {"pattern": "^a"}, "enum": ["abc", "bcd"]}):
        assert v == "bcd"


def test_plain_strings_are_words() -> None:
    words = draws({"type": "string"})
    assert all(re.fullmatch(r"[A-Za-z ]+", w) for w in words)
    assert all(re.fullmatch(r"[a-z]+", w) for w in draws({"type": "string"}, realistic=False))


def _must(ok: Any) -> None:
    if not ok:
        raise ValueError("rejected")


# Each check raises on a value that is not of its format (test_format_checks_can_fail proves it).
FORMAT_CHECKS: dict[str, Any] = {
    "date": date.fromisoformat,
    "date-time": lambda s: _must(validate_rfc3339(s)),
    "time": lambda s: _must(re.fullmatch(r"\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", s)),
    "email": lambda s: _must(re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]+", s)),
    "uri": lambda s: _must(validate_rfc3986(s, rule="URI") and re.match(r"https?://", s)),
    "uuid": uuid.UUID,
    "ipv4": ipaddress.IPv4Address,
    "ipv6": ipaddress.IPv6Address,
    "hostname": lambda s: _must(fqdn.FQDN(s).is_valid and "." in s),
    "uri-reference": lambda s: _must(validate_rfc3986(s, rule="URI_reference")),
    "json-pointer": jsonpointer.JsonPointer,
    "duration": isoduration.parse_duration,
    "regex": re.compile,
}
NOT_OF_FORMAT = {"date": "2024-13-45", "date-time": "2024-01-01 10:00", "time": "25h", "email": "ada",
                 "uri": "no scheme", "uuid": "not-a-uuid", "ipv4": "1.2.3", "ipv6": "1.2.3.4",
                 "hostname": "-bad-.com", "uri-reference": "a b:\\", "json-pointer": "no/slash",
                 "duration": "3 days", "regex": "(unclosed"}


@pytest.mark.parametrize("fmt", sorted(FORMAT_CHECKS))
def test_formats(fmt: str) -> None:
    for v in draws({"type": "string", "format": fmt}, range(10)):
        FORMAT_CHECKS[fmt](v)


@pytest.mark.parametrize("fmt", sorted(FORMAT_CHECKS))
def test_format_checks_can_fail(fmt: str) -> None:
    with pytest.raises(Exception):  # noqa: B017, PT011 - each library raises its own error type
        FORMAT_CHECKS[fmt](NOT_OF_FORMAT[fmt])


# -- arrays ----------------------------------------------------------------------------------

def test_array_sizes_and_unique_items() -> None:
    for v in draws({"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 9},
                    "minItems": 5, "maxItems": 8, "uniqueItems": True}):
        assert 5 <= len(v) <= 8 and len(set(v)) == len(v)
    for v in draws({"type": "array", "items": {"enum": ["a", "b", "c"]}, "minItems": 3, "uniqueItems": True}):
        assert sorted(v) == ["a", "b", "c"]


def test_prefix_items_and_draft4_tuples() -> None:
    for v in draws({"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}],
                    "items": False, "minItems": 2}):
        assert len(v) == 2 and isinstance(v[0], str) and isinstance(v[1], int)
    draft4 = {"$schema": "http://json-schema.org/draft-04/schema#", "type": "array",
              "items": [{"type": "boolean"}], "additionalItems": {"type": "null"}, "minItems": 3}
    for v in draws(draft4):
        assert isinstance(v[0], bool) and v[1:] == [None] * (len(v) - 1)


def test_contains_bounds() -> None:
    schema = {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 100},
              "contains": {"minimum": 90}, "minContains": 2, "maxContains": 3}
    for v in draws(schema):
        assert 2 <= sum(x >= 90 for x in v) <= 3


# -- objects ---------------------------------------------------------------------------------

PERSON = {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"},
                                             "email": {"type": "string"}}, "required": ["name"]}


def test_required_always_optional_sometimes() -> None:
    values = draws(PERSON, range(40))
    assert all("name" in v for v in values)
    present = Counter(k for v in values for k in v)
    assert 0 < present["age"] < 40 and 0 < present["email"] < 40


def test_optional_sets_the_chance_of_each_optional_property() -> None:
    for chance, low, high in ((0.0, 0, 0), (0.3, 10, 40), (1.0, 80, 80)):
        present = Counter(k for v in draws(PERSON, range(40), optional=chance) for k in v)
        assert present["name"] == 40 and low <= present["age"] + present["email"] <= high, chance
    with pytest.raises(ValueError, match="optional is a chance between 0 and 1"):
        SchemaSampler(PERSON, optional=1.5)


def test_closed_objects_and_pattern_properties() -> None:
    closed = dict(PERSON, additionalProperties=False, minProperties=2)
    assert all(set(v) <= {"name", "age", "email"} and len(v) >= 2 for v in draws(closed))
    pp = {"type": "object", "patternProperties": {"^x-[a-z]+$": {"type": "integer"}},
          "additionalProperties": False, "minProperties": 2}
    for v in draws(pp):
        assert len(v) >= 2 and all(re.fullmatch("x-[a-z]+", k) and isinstance(x, int) for k, x in v.items())
    names = {"type": "object", "propertyNames": {"pattern": "^[a-z]{2,5}$"}, "minProperties": 1,
             "maxProperties": 3}
    assert all(1 <= len(v) <= 3 for v in draws(names))


def test_dependencies() -> None:
    dr = {"type": "object", "properties": {"card": {"type": "string"}, "billing": {"type": "string"}},
          "dependentRequired": {"card": ["billing"]}}
    values = draws(dr, range(40))
    assert all("billing" in v for v in values if "card" in v) and any("card" in v for v in values)
    ds = {"type": "object", "properties": {"kind": {"type": "string"}},
          "dependentSchemas": {"kind": {"required": ["size"], "properties": {"size": {"type": "integer"}}}}}
    assert all(isinstance(v["size"], int) for v in draws(ds) if "kind" in v)
    draft7 = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
              "properties": {"a": {"type": "integer"}}, "required": ["a"],
              "dependencies": {"a": ["b"], "b": {"properties": {"c": {"const": 1}}, "required": ["c"]}}}
    assert all(v["c"] == 1 for v in draws(draft7))


def test_realistic_values_by_property_name() -> None:
    schema = {"type": "object", "required": ["email", "price", "quantity", "first_name", "city", "currency",
                                             "created_at", "description"],
              "properties": {"email": {"type": "string"}, "price": {"type": "number", "minimum": 0},
                             "quantity": {"type": "integer"}, "first_name": {"type": "string"},
                             "city": {"type": "string"}, "currency": {"type": "string"},
                             "created_at": {"type": "string", "format": "date-time"},
                             "description": {"type": "string", "maxLength": 200}}}
    for v in draws(schema):
        assert "@" in v["email"] and round(v["price"], 2) == v["price"] and 1 <= v["quantity"] <= 10
        assert re.fullmatch(r"[A-Z]{3}", v["currency"]) and v["description"].endswith(".")
        assert v["first_name"][0].isupper()
    # A hint that breaks the constraints falls back to the generic generator.
    tight = {"type": "object", "required": ["email"],
             "properties": {"email": {"type": "string", "maxLength": 3}}}
    assert all(len(v["email"]) <= 3 for v in draws(tight))


# -- references and recursion ----------------------------------------------------------------

TREE = {"$defs": {"node": {"type": "object", "required": ["value", "children"],
                           "properties": {"value": {"type": "integer"},
                                          "children": {"type": "array", "items": {"$ref": "#/$defs/node"}}}}},
        "$ref": "#/$defs/node"}


def test_recursion_is_depth_limited() -> None:
    for max_depth in (2, 6):
        values = draws(TREE, max_depth=max_depth)
        assert all(depth(v) <= 2 * max_depth + 4 for v in values)
    linked = {"definitions": {"list": {"anyOf": [{"type": "null"},
                                                 {"type": "object", "required": ["head", "tail"],
                                                  "properties": {"head": {"type": "integer"},
                                                                 "tail": {"$ref": "#/definitions/list"}}}]}},
              "$ref": "#/definitions/list"}
    assert all(depth(v) <= 10 for v in draws(linked, max_depth=3))


def test_the_root_is_depth_zero() -> None:
    # Optional properties thin out with depth and vanish at max_depth: the root, at depth 0, still has them.
    values = draws({"type": "object", "properties": {"a": {"type": "integer"}}}, max_depth=1, realistic=False)
    assert 0 < sum("a" in v for v in values) < len(values)


def test_anchor_id_and_remote_refs(tmp_path: Path) -> None:
    anchored = {"$defs": {"a": {"$anchor": "code", "type": "string", "pattern": "^c\\d$"}},
                "type": "object", "required": ["c"], "properties": {"c": {"$ref": "#code"}}}
    assert all(re.fullmatch(r"c\d", v["c"]) for v in draws(anchored))
    (tmp_path / "money.json").write_text(json.dumps({"type": "number", "minimum": 1, "maximum": 2}))
    remote = {"type": "object", "required": ["m"], "properties": {"m": {"$ref": "money.json"}}}
    assert all(1 <= v["m"] <= 2 for v in draws(remote, base_dir=tmp_path))


# -- combinators -----------------------------------------------------------------------------

def test_all_of_merges() -> None:
    schema = {"allOf": [{"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
                        {"properties": {"a": {"minimum": 50}, "b": {"type": "string"}}, "required": ["b"]}]}
    assert all(v["a"] >= 50 and isinstance(v["b"], str) for v in draws(schema))


def test_one_of_is_exclusive() -> None:
    branches = [{"type": "integer", "multipleOf": 3}, {"type": "integer", "multipleOf": 5}]
    validators = [compile_schema(b) for b in branches]
    for v in draws({"oneOf": branches}, range(40)):
        assert sum(val.is_valid(v) for val in validators) == 1
    shapes = {"type": "object", "oneOf": [{"required": ["a"]}, {"required": ["b"]}],
              "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}}
    assert all(("a" in v) != ("b" in v) for v in draws(shapes))


def test_any_of_not_and_if_then_else() -> None:
    assert all(v is not None for v in draws({"anyOf": [{"type": "string"}, {"type": "null"}], "not": {"type": "null"}}))
    assert all(not isinstance(v, str) for v in draws({"not": {"type": "string"}}))
    cond = {"type": "object", "properties": {"country": {"enum": ["US", "NL"]}, "zip": {"type": "string"}},
            "required": ["country", "zip"],
            "if": {"properties": {"country": {"const": "US"}}},
            "then": {"properties": {"zip": {"pattern": "^\\d{5}$"}}},
            "else": {"properties": {"zip": {"pattern": "^\\d{4} [A-Z]{2}$"}}}}
    values = draws(cond, range(40))
    assert {v["country"] for v in values} == {"US", "NL"}
    assert all(re.fullmatch(r"\d{5}", v["zip"]) for v in values if v["country"] == "US")


# -- determinism -----------------------------------------------------------------------------

BIG = {"type": "object", "properties": {"name": {"type": "string"}, "code": {"type": "string", "pattern": "\\W\\w+"},
                                        "tags": {"type": "array", "items": {"type": "string"}},
                                        "n": {"type": "number"}, "id": {"format": "uuid", "type": "string"}}}


def test_same_seed_same_instance_different_seeds_differ() -> None:
    a, b = SchemaSampler(BIG), SchemaSampler(BIG)
    assert [a.sample(s) for s in range(10)] == [b.sample(s) for s in range(10)]
    assert len({json.dumps(a.sample(s), sort_keys=True) for s in range(10)}) > 5
    assert sample(BIG, seed=3) == a.sample(3)


def test_deterministic_across_processes() -> None:
    hints = {"name": "company", "/tags/*": ["x", "y", "z"], "n": {"min": 0, "max": 9}}
    code = ("import json, sys; from formtune.schema.sampler import SchemaSampler;"
            f"s = SchemaSampler(json.loads({json.dumps(json.dumps(BIG))}), locale='fr_FR',"
            f" hints=json.loads({json.dumps(json.dumps(hints))}));"
            "print(json.dumps([s.sample(i) for i in range(5)]))")
    outs = set()
    for hashseed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=hashseed, PYTHONPATH=os.pathsep.join(sys.path))
        outs.add(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                check=True).stdout)
    assert len(outs) == 1


# -- refusals --------------------------------------------------------------------------------

@pytest.mark.parametrize("schema, keyword", [
    (False, "false"),
    ({"type": "integer", "minimum": 5, "maximum": 4}, "minimum"),
    ({"type": "string", "enum": [1, 2]}, "enum"),
    ({"type": "string", "pattern": "^a$", "minLength": 3}, "pattern"),
    ({"type": "object", "properties": {"code": {"type": "string", "pattern": "^ab$", "minLength": 5}},
      "required": ["code"]}, "pattern"),
    ({"type": "object", "required": ["x"], "additionalProperties": False}, "additionalProperties"),
    ({"type": "integer", "multipleOf": 10, "minimum": 1, "maximum": 9}, "multipleOf"),
])
def test_unsatisfiable_schemas_raise(schema: Any, keyword: str) -> None:
    with pytest.raises(SamplingError) as info:
        SchemaSampler(schema).sample(0)
    assert info.value.keyword == keyword
    assert f"cannot satisfy {keyword!r}" in str(info.value)


def test_refusal_names_the_path() -> None:
    schema = {"type": "object", "properties": {"code": {"type": "string", "pattern": "^ab$", "minLength": 5}},
              "required": ["code"]}
    with pytest.raises(SamplingError, match="at /properties/code"):
        sample(schema, seed=0)


# -- property-based: families of generated schemas ------------------------------------------

def _scalar() -> st.SearchStrategy[dict]:
    """Scalar schemas that all have valid instances."""
    ints = st.integers(-50, 50)
    return st.one_of(
        st.builds(lambda lo, span, m: {"type": "integer", "minimum": lo, "maximum": lo + span * m, "multipleOf": m},
                  ints, st.integers(1, 20), st.integers(1, 5)),
        st.builds(lambda lo, span: {"type": "number", "exclusiveMinimum": lo, "maximum": lo + span},
                  ints, st.floats(0.01, 100)),
        st.builds(lambda a, b: {"type": "string", "minLength": a, "maxLength": a + b}, st.integers(0, 20),
                  st.integers(0, 20)),
        st.sampled_from([{"type": "string", "pattern": p} for p in ("^[a-z]+\\d?$", "^(red|green)$", "x\\.y")]),
        st.sampled_from([{"type": "string", "format": f} for f in ("date", "email", "uuid", "ipv4", "uri")]),
        st.lists(st.one_of(st.integers(), st.text(max_size=5), st.none()), min_size=1, max_size=5,
                 unique_by=lambda v: json.dumps(v)).map(lambda vs: {"enum": vs}),
        st.just({"type": ["null", "boolean"]}),
    )


NAMES = st.sampled_from(["name", "email", "price", "id", "tags", "x", "created_at"])


def _satisfiable(children: st.SearchStrategy[dict]) -> st.SearchStrategy[dict]:
    """Containers that stay satisfiable when their children are: distinct items are only asked
    for one at a time, and allOf adds a requirement the object can meet."""
    obj = st.builds(lambda props, req, closed: {"type": "object", "properties": props,
                                                "required": sorted(props)[:req], "additionalProperties": not closed},
                    st.dictionaries(NAMES, children, max_size=4), st.integers(0, 4), st.booleans())
    return st.one_of(
        obj,
        st.builds(lambda item, lo, unique: {"type": "array", "items": item, "minItems": min(lo, 1) if unique else lo,
                                            "maxItems": lo + 3, "uniqueItems": unique},
                  children, st.integers(0, 2), st.booleans()),
        st.lists(children, min_size=1, max_size=3).map(lambda bs: {"anyOf": bs}),
        obj.map(lambda o: {"allOf": [o, {"required": sorted(o["properties"])}]}),
    )


def _any(children: st.SearchStrategy[dict]) -> st.SearchStrategy[dict]:
    """Containers that may be unsatisfiable: distinct items from a one-value enum, allOf of two
    closed objects that each require what the other forbids."""
    return st.one_of(
        _satisfiable(children),
        st.builds(lambda item, lo: {"type": "array", "items": item, "minItems": lo, "uniqueItems": True},
                  children, st.integers(2, 3)),
        st.lists(_satisfiable(children), min_size=2, max_size=2).map(lambda bs: {"allOf": bs}),
    )


SATISFIABLE = st.recursive(_scalar(), _satisfiable, max_leaves=8)
ANY = st.recursive(_scalar(), _any, max_leaves=8)
QUIET = {"deadline": None, "derandomize": True, "database": None,
         "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}


@settings(max_examples=60, **QUIET)
@given(schema=SATISFIABLE, seed=st.integers(0, 2**32))
def test_satisfiable_schemas_always_sample(schema: dict, seed: int) -> None:
    """Every schema of this family has valid instances: a refusal is a failure, not a pass."""
    value = SchemaSampler(schema).sample(seed)
    assert compile_schema(schema).is_valid(value), (schema, value)


@settings(max_examples=3, phases=[Phase.generate], **QUIET)  # no shrinking: the batch is the report
@given(schemas=st.lists(ANY, min_size=30, max_size=30))
def test_generated_schemas_mostly_sample_and_never_invalid(schemas: list[dict]) -> None:
    """Refusals are allowed where a schema may be unsatisfiable (about a fifth of this family), but
    an instance is always valid and most schemas sample."""
    outcomes: Counter[str] = Counter()
    for index, schema in enumerate(schemas):
        try:
            value = SchemaSampler(schema).sample(index)
        except SamplingError:
            outcomes["refused"] += 1
            continue
        assert compile_schema(schema).is_valid(value), (schema, value)
        outcomes["sampled"] += 1
    assert outcomes["sampled"] >= 0.6 * len(schemas), outcomes


# -- corpus: a fixed slice of JSONSchemaBench ------------------------------------------------

CORPUS_SUBSETS = ["Github_trivial", "Github_easy", "Github_medium", "Github_hard", "Glaiveai2K",
                  "Kubernetes", "Snowplow", "WashingtonPost", "JsonSchemaStore"]
PER_SUBSET = 80
COVERAGE_FLOOR = 0.95  # measured 99.7% (718 of 720) on this slice, 2 seeds per schema


def test_jsonschemabench_slice() -> None:
    if not (CORPUS / "subsets").is_dir():
        pytest.skip(f"corpus not found at {CORPUS}")
    outcomes: Counter[str] = Counter()
    refusals: Counter[str] = Counter()
    for subset in CORPUS_SUBSETS:
        with gzip.open(CORPUS / "subsets" / f"{subset}.jsonl.gz", "rt", encoding="utf-8") as fh:
            for _, line in zip(range(PER_SUBSET), fh):
                schema = json.loads(line)["schema"]
                try:
                    sampler = SchemaSampler(schema)
                except SchemaError:
                    outcomes["uncompilable"] += 1
                    continue
                cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
                checker = cls(schema, registry=referencing.Registry(), format_checker=cls.FORMAT_CHECKER)
                try:
                    for seed in (0, 1):
                        instance = sampler.sample(seed)
                        assert checker.is_valid(instance), (schema, instance)
                except SamplingError as exc:
                    outcomes["refused"] += 1
                    refusals[exc.keyword or "?"] += 1
                    continue
                outcomes["sampled"] += 1
    usable = outcomes["sampled"] + outcomes["refused"]
    assert usable >= len(CORPUS_SUBSETS) * PER_SUBSET * 0.9, outcomes
    print(f"\njsonschemabench slice: {dict(outcomes)}, refusals {dict(refusals)}")
    assert outcomes["sampled"] / usable >= COVERAGE_FLOOR, (outcomes, refusals)
