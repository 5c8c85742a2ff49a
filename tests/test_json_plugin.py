"""The JSON plugin: strict and lenient parsing, schema validation under each draft, metrics."""

from __future__ import annotations

import json

import pytest

from formtune.check import check
from formtune.contrib import Attempt
from formtune.errors import SchemaError
from formtune.schema.compile import compile_schema, violations
from formtune.task import Task
from formtune_json.format import JsonFormat
from formtune_json.metrics import METRICS

FMT = JsonFormat()


@pytest.mark.parametrize("text", ['{"a": 1}', ' [1, 2]\n', '"s"', "3"])
def test_strict_accepts_exactly_one_document(text):
    assert FMT.parse(text).parsed


@pytest.mark.parametrize("text", ['```json\n{"a": 1}\n```', 'Sure! {"a": 1}', '{"a": 1} Hope this helps!',
                                  '{"a": 1}{"a": 2}', '{"a": NaN}', ""])
def test_strict_rejects_fences_prose_and_extra_documents(text):
    checked = FMT.parse(text)
    assert not checked.parsed and checked.violations[0].kind == "parse"


def test_lenient_extraction_is_flagged_and_never_valid():
    checked = FMT.parse('Here you go:\n```json\n{"a": 1}\n```', lenient=True)
    assert checked.parsed and checked.lenient and checked.value == {"a": 1}
    assert not checked.valid and checked.lenient_valid
    assert FMT.parse('prose {"a": [1, 2]} more', lenient=True).value == {"a": [1, 2]}


SCHEMAS = {
    "https://json-schema.org/draft/2020-12/schema": {"prefixItems": [{"type": "integer"}], "items": False},
    "https://json-schema.org/draft/2019-09/schema": {"items": [{"type": "integer"}], "additionalItems": False},
    "http://json-schema.org/draft-07/schema#": {"items": [{"type": "integer"}], "additionalItems": False},
    "http://json-schema.org/draft-06/schema#": {"items": [{"type": "integer"}], "additionalItems": False},
    "http://json-schema.org/draft-04/schema#": {"items": [{"type": "integer"}], "additionalItems": False},
}


@pytest.mark.parametrize("dialect", SCHEMAS)
def test_each_declared_draft_is_honoured(dialect):
    validator = compile_schema({"$schema": dialect, "type": "array", **SCHEMAS[dialect]})
    assert violations(validator, [1]) == []
    assert [v.kind for v in violations(validator, [1, 2])] in (["schema:items"], ["schema:additionalItems"])


def test_draft4_exclusive_minimum_is_boolean():
    v = compile_schema({"$schema": "http://json-schema.org/draft-04/schema#", "minimum": 1, "exclusiveMinimum": True})
    assert violations(v, 1) and not violations(v, 2)


def test_formats_checked_unknown_formats_ignored():
    v = compile_schema({"type": "object", "properties": {"d": {"format": "date"}, "x": {"format": "made-up"}}})
    assert [x.path for x in violations(v, {"d": "2024-02-30", "x": "anything"})] == ["/d"]
    assert violations(v, {"d": "2024-02-29"}) == []


def test_local_refs_and_defs():
    v = compile_schema({"$defs": {"pos": {"type": "integer", "minimum": 1}},
                        "type": "object", "properties": {"n": {"$ref": "#/$defs/pos"}}})
    assert [x.path for x in violations(v, {"n": 0})] == ["/n"]


def test_remote_ref_resolves_from_a_local_file_only(tmp_path):
    (tmp_path / "money.json").write_text(json.dumps({"type": "number", "minimum": 0}))
    v = compile_schema({"properties": {"p": {"$ref": "money.json"}}}, base_dir=tmp_path)
    assert violations(v, {"p": -1}) and not violations(v, {"p": 1})
    v = compile_schema({"properties": {"p": {"$ref": "https://example.com/money.json"}}},
                       extra={"https://example.com/money.json": {"type": "number"}})
    assert violations(v, {"p": "x"})
    with pytest.raises(SchemaError, match=r"\$ref 'https://example.com/other.json' at /properties/p "
                                          r"cannot be resolved offline"):
        compile_schema({"properties": {"p": {"$ref": "https://example.com/other.json"}}})


def test_violations_are_values_with_json_pointers(tmp_path):
    schema = tmp_path / "s.json"
    schema.write_text(json.dumps({"type": "object", "required": ["a"],
                                  "properties": {"a/b": {"type": "integer"}, "a": {"type": "string"}}}))
    checked = check('{"a/b": "x"}', Task.from_schema(schema))
    assert [(v.path, v.kind) for v in checked.violations] == [("", "schema:required"), ("/a~1b", "schema:type")]


def score(name, text, expected):
    metric = next(m for m in METRICS if m.name == name)
    return metric.score(Attempt(input="", checked=FMT.parse(text), expected=expected))


def test_field_metrics_over_leaf_paths():
    gold = {"name": "Ada", "tags": ["x", "y"], "age": 36}
    assert score("field_f1", json.dumps(gold), gold) == 1.0
    text = json.dumps({"name": "Ada", "tags": ["x"], "age": 36.0, "extra": 1})
    assert score("field_precision", text, gold) == pytest.approx(3 / 4)
    assert score("field_recall", text, gold) == pytest.approx(3 / 4)
    assert score("exact_match", text, gold) == 0.0
    assert score("field_f1", "not json", gold) == 0.0
    assert score("exact_match", "{}", None) is None
