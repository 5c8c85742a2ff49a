"""Bounded work: schemas that used to hang now sample or fail fast, naming the keyword.

Each former hang runs in a child process with a timeout, so a regression fails its test instead
of hanging the suite. No test asserts how long anything takes.
"""

from __future__ import annotations

import pytest
from sampling import sample_in_subprocess

from formtune.errors import SamplingError
from formtune.schema.compile import compile_schema
from formtune.schema.sampler import SchemaSampler, budget


@pytest.mark.parametrize("schema, keyword, limit", [
    ({"type": "string", "minLength": 1_000_000_000}, "minLength", "100,000 characters"),
    ({"type": "string", "pattern": "^a{1000000000}$"}, "pattern", "100,000 characters"),
    ({"type": "string", "pattern": "^(a{1000}){1000}$"}, "pattern", "100,000 characters"),
    ({"type": "array", "minItems": 100_000_000}, "minItems", "10,000 items"),
    ({"type": "array", "contains": {"type": "integer"}, "minContains": 20_000}, "minContains", "10,000 items"),
    ({"type": "object", "minProperties": 50_000}, "minProperties", "10,000 properties"),
])
def test_oversized_requests_are_refused_by_keyword(schema: dict, keyword: str, limit: str) -> None:
    result = sample_in_subprocess(schema)
    assert result["keyword"] == keyword, result
    assert f"cannot satisfy {keyword!r}" in result["message"] and limit in result["message"]


def test_oversized_branch_is_skipped_when_another_type_fits() -> None:
    result = sample_in_subprocess({"type": ["string", "null"], "minLength": 1_000_000_000})
    assert result == {"value": None}


def test_items_beyond_the_work_budget_name_min_items() -> None:
    result = sample_in_subprocess({"type": "array", "items": {"type": "integer"}, "minItems": 5000})
    assert result["keyword"] == "minItems" and "steps of work" in result["message"], result


def test_work_budget_names_the_keyword_that_spent_it() -> None:
    wide = {"type": "object", "required": [f"p{i}" for i in range(300)],
            "properties": {f"p{i}": {"type": "object", "required": ["a", "b", "c", "d", "e", "f"]}
                           for i in range(300)}}
    result = sample_in_subprocess(wide)
    assert result["keyword"] == "required" and f"more than {budget.STEPS} steps" in result["message"], result


@pytest.mark.parametrize("branches", [
    [{"const": i} for i in range(500)],
    [{"const": f"v{i}"} for i in range(500)],
    [{"enum": [i, i + 1000]} for i in range(300)] + [{"enum": [1000, 2000]}],
])
def test_wide_one_of_of_constants_samples(branches: list[dict]) -> None:
    result = sample_in_subprocess({"oneOf": branches}, realistic=False)
    validators = [compile_schema(b) for b in branches]
    assert sum(v.is_valid(result["value"]) for v in validators) == 1, result


def test_wide_one_of_of_objects_samples() -> None:
    branches = [{"type": "object", "properties": {"k": {"const": i}}, "required": ["k"]} for i in range(300)]
    result = sample_in_subprocess({"oneOf": branches}, realistic=False)
    assert result["value"]["k"] in range(300), result


def test_one_of_constants_shared_by_branches_are_never_picked() -> None:
    schema = {"oneOf": [{"const": 1}, {"enum": [1, 2]}, {"enum": [2, 3, 4]}]}
    values = {SchemaSampler(schema, realistic=False).sample(seed) for seed in range(40)}
    assert values == {3, 4}


@pytest.mark.parametrize("schema, low", [
    ({"type": "integer", "multipleOf": 7, "minimum": 1e30}, 10**30),
    ({"type": "integer", "minimum": 2**60, "maximum": 2**60 + 10}, 2**60),
    ({"type": "number", "multipleOf": 3, "exclusiveMinimum": 1e25}, 10**25),
])
def test_big_integers_are_exact(schema: dict, low: int) -> None:
    validator = compile_schema(schema)
    for seed in range(10):
        value = SchemaSampler(schema, realistic=False).sample(seed)
        assert isinstance(value, int) and value >= low and validator.is_valid(value), value
        assert value % schema.get("multipleOf", 1) == 0


def test_time_budget_stops_the_call_and_names_a_keyword(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(budget, "SECONDS", 0.0)
    schema = {"anyOf": [{"type": "string"}, {"type": "integer"}]}
    with pytest.raises(SamplingError) as info:
        SchemaSampler(schema, realistic=False).sample(0)
    assert info.value.keyword == "type" and "no instance within 0 s" in str(info.value)
