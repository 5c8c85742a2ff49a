"""The JSON plugin and JSON Schema validation: strict and lenient parsing, each draft's rules."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings

from formtune.check import check
from formtune.errors import SchemaError
from formtune.schema.compile import compile_schema, violations
from formtune.task import Task
from formtune_json.format import MAX_DEPTH, MAX_DIGITS, MAX_LENIENT_STARTS, JsonFormat
from json_values import json_values

FMT = JsonFormat()


@pytest.mark.parametrize("text", ['{"a": 1}', ' [1, 2]\n', '"s"', "3"])
def test_strict_accepts_exactly_one_document(text):
    assert FMT.parse(text).parsed


@pytest.mark.parametrize("text", ['```json\n{"a": 1}\n```', 'Sure! {"a": 1}', '{"a": 1} Hope this helps!',
                                  '{"a": 1}{"a": 2}', '{"a": NaN}', "",
                                  '{"a": 1, "a": 2}', "1e400", "[" * 5000 + "]" * 5000])
def test_strict_rejects_fences_prose_and_extra_documents(text):
    checked = FMT.parse(text)
    assert not checked.parsed and checked.violations[0].kind == "parse"


def test_lenient_extraction_is_flagged_and_never_valid():
    checked = FMT.parse('Here you go:\n```json\n{"a": 1}\n```', lenient=True)
    assert checked.parsed and checked.lenient and checked.value == {"a": 1}
    assert not checked.valid and checked.lenient_valid
    assert FMT.parse('prose {"a": [1, 2]} more', lenient=True).value == {"a": [1, 2]}


DRAFTS = {
    "4": "http://json-schema.org/draft-04/schema#",
    "6": "http://json-schema.org/draft-06/schema#",
    "7": "http://json-schema.org/draft-07/schema#",
    "2019-09": "https://json-schema.org/draft/2019-09/schema",
    "2020-12": "https://json-schema.org/draft/2020-12/schema",
}
# Each probe is a keyword that one draft introduced; earlier drafts ignore it (the instance is
# valid there), later ones enforce it. The set of drafts that reject the instance tells them apart.
PROBES = {
    "const (draft 6)": ({"const": 1}, 2, {"6", "7", "2019-09", "2020-12"}),
    "if/then (draft 7)": ({"if": {"type": "integer"}, "then": {"minimum": 10}}, 5, {"7", "2019-09", "2020-12"}),
    "dependentRequired (2019-09)": ({"dependentRequired": {"a": ["b"]}}, {"a": 1}, {"2019-09", "2020-12"}),
    "prefixItems (2020-12)": ({"prefixItems": [{"type": "integer"}]}, ["x"], {"2020-12"}),
}


@pytest.mark.parametrize("probe", PROBES)
def test_each_declared_draft_is_honoured(probe):
    schema, instance, rejecting = PROBES[probe]
    rejected = {name for name, uri in DRAFTS.items()
                if violations(compile_schema({"$schema": uri, **schema}), instance)}
    assert rejected == rejecting


def test_items_array_form_per_draft():
    tuple_form = {"items": [{"type": "integer"}], "additionalItems": False}
    for name in ("4", "6", "7", "2019-09"):
        kinds = [v.kind for v in violations(compile_schema({"$schema": DRAFTS[name], **tuple_form}), [1, 2])]
        assert kinds == ["schema:additionalItems"], name
    with pytest.raises(SchemaError, match="invalid schema"):  # 2020-12 made items a single schema
        compile_schema({"$schema": DRAFTS["2020-12"], **tuple_form})


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


# -- the format's contract: render, canonical form, fields, constraint ----------------------------

VALUES = [{"name": "Ada", "tags": ["x", "ü"], "n": 1.5, "ok": True, "none": None}, [], {}, "s", 0, [[{"a": []}]]]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_parse_gives_back_what_render_wrote(value):
    text = FMT.render(value)
    checked = FMT.parse(text)
    assert checked.parsed and checked.value == value and checked.violations == []
    assert "\n" not in text and "ü" in FMT.render(["ü"])  # one line, no \\u escapes


def test_canonical_form_ignores_key_order_and_int_float():
    assert FMT.canonical(FMT.parse('{"b": 1, "a": [2, {"d": 3, "c": 4}]}').value) == \
        FMT.canonical({"a": [2.0, {"c": 4, "d": 3.0}], "b": 1.0})
    assert FMT.canonical([1, 2]) != FMT.canonical([2, 1])
    assert FMT.canonical({"a": "1"}) != FMT.canonical({"a": 1})
    assert FMT.canonical({"a": None}) != FMT.canonical({})


def test_fields_are_json_pointer_leaves():
    assert {path for path, _ in FMT.fields({"a": {"b/c": 1, "d~": [True, None]}, "e": {}, "f": []})} == {
        "/a/b~1c", "/a/d~0/0", "/a/d~0/1", "/e", "/f"}
    assert {path for path, _ in FMT.fields(3)} == {""}
    assert FMT.fields({"a": 1}) == FMT.fields({"a": 1.0})
    assert len({frozenset(FMT.fields({"a": v})) for v in (1, True, "1", None, [], {})}) == 6


def test_the_constraint_admits_what_render_writes_for_the_task_schema(tmp_path):
    import re

    from outlines.types.dsl import to_regex

    schema = tmp_path / "s.json"
    schema.write_text(json.dumps({"type": "object", "properties": {"a": {"enum": [1, 2]}, "b": {"type": "string"}},
                                  "required": ["a", "b"], "additionalProperties": False}))
    constraint = FMT.constraint(Task.from_schema(schema))
    assert constraint.notes == ("/properties/b: string capped at 200 characters while decoding",)
    language = re.compile(to_regex(constraint.output_type))
    assert language.fullmatch(FMT.render({"a": 1, "b": "x"}))  # what the model was trained to write
    assert language.fullmatch('{"a":2,"b":""}')
    assert not language.fullmatch(FMT.render({"a": 3, "b": "x"}))  # outside the schema
    assert not language.fullmatch(FMT.render({"b": "x"}))
    assert not language.fullmatch(json.dumps({"a": 1, "b": "x"}, indent=2))  # newlines are not trained on


@pytest.mark.parametrize("text, message", [
    ('{"a": NaN}', "NaN is not valid JSON"), ("[-Infinity]", "-Infinity is not valid JSON"),
    ("-1e400", "number -1e400 is too large"), ('{"a": 1, "a": 2}', "key 'a' is repeated in one object"),
    ("[" * 5000 + "]" * 5000, "nested deeper than 128 levels"),
    ('\ufeff{"a": 1}', "it starts with a byte order mark (U+FEFF), which JSON text must not")])
def test_strict_parse_errors_say_what_is_wrong(text, message):
    [violation] = FMT.parse(text).violations
    assert violation.path == "" and violation.message == f"not a single JSON document: {message}"


@pytest.mark.parametrize("wrap, levels", [(lambda inner: f"[{inner}]", 1), (lambda inner: f'{{"k": {inner}}}', 1),
                                          (lambda inner: f'{{"k": 1, "l": [{inner}]}}', 2)],
                         ids=["arrays", "objects", "object-array"])
def test_nesting_is_bounded_at_max_depth_levels(wrap, levels):
    def nested(times):
        text = "0"
        for _ in range(times):
            text = wrap(text)
        return text

    assert FMT.parse(nested(MAX_DEPTH // levels)).valid
    [violation] = FMT.parse(nested(MAX_DEPTH // levels + 1)).violations
    assert violation.message.endswith(f"nested deeper than {MAX_DEPTH} levels")


def test_a_lone_surrogate_is_not_text():
    for text, code in [('"\\ud800"', "ud800"), ('{"k": ["ok", "\\udfff"]}', "udfff"), ('{"\\udc00": 1}', "udc00")]:
        [violation] = FMT.parse(text).violations
        assert violation.kind == "parse"
        assert violation.message.endswith(f"\\{code} is a lone surrogate, not a character")
    assert FMT.parse('["\\ud83d\\ude00", "é", "\\u00e9"]').value == ["😀", "é", "é"]  # a pair is one character


def test_integers_are_bounded_by_their_number_of_digits():
    assert FMT.parse("9" * MAX_DIGITS).valid and FMT.parse("-" + "9" * MAX_DIGITS).valid
    [violation] = FMT.parse("-" + "9" * (MAX_DIGITS + 1)).violations
    assert violation.message.endswith(f"an integer of {MAX_DIGITS + 1} digits is too long (limit {MAX_DIGITS})")


def test_lenient_extraction_tries_a_bounded_number_of_starts():
    document = '{"a": 1}'
    assert FMT.parse("{x " * (MAX_LENIENT_STARTS - 1) + document, lenient=True).value == {"a": 1}
    assert not FMT.parse("{x " * MAX_LENIENT_STARTS + document, lenient=True).parsed
    # Nested past Python's recursion limit: no document starts within the first starts, and no crash.
    assert not FMT.parse("see: " + "[" * 5000 + "]" * 5000, lenient=True).parsed


def test_lenient_extraction_skips_what_does_not_parse():
    assert FMT.parse('```json\n{bad}\n```\nso: {"a": 1}', lenient=True).value == {"a": 1}
    assert FMT.parse('```\n[1]\n```', lenient=True).value == [1]
    assert FMT.parse('{"a": [} then ["x"]', lenient=True).value == ["x"]
    nothing = FMT.parse("no document here {", lenient=True)
    assert not nothing.parsed and not nothing.lenient and nothing.violations[0].kind == "parse"
    assert FMT.parse('{"a": 1}', lenient=True).lenient is False  # a strict success is not lenient


def test_schema_edge_cases(tmp_path):
    assert violations(compile_schema(True), {"x": 1}) == []
    assert len(violations(compile_schema(False), 1)) == 1
    v = compile_schema({"properties": {"a~b": {"type": "integer"}, "c": {"items": {"type": "integer"}}}})
    assert [x.path for x in violations(v, {"a~b": "x", "c": [1, "y"]})] == ["/a~0b", "/c/1"]
    with pytest.raises(SchemaError, match=r"^invalid schema at /properties/a/type: 'nope' is not valid"):
        compile_schema({"properties": {"a": {"type": "nope"}}})
    # References inside data keywords are data, not references.
    compile_schema({"default": {"$ref": "https://example.com/x.json"}, "enum": [{"$ref": "https://example.com/y"}],
                    "const": {"$ref": "https://example.com/z"}, "examples": [{"$ref": "https://example.com/w"}]})
    (tmp_path / "money.json").write_text(json.dumps({"type": "number"}))
    by_uri = compile_schema({"properties": {"p": {"$ref": (tmp_path / "money.json").as_uri()}}})
    assert violations(by_uri, {"p": "x"}) and not violations(by_uri, {"p": 1})
    with pytest.raises(SchemaError, match=r"\$ref 'money.json' at /properties/p "):
        compile_schema({"properties": {"p": {"$ref": "money.json"}}})  # relative, and no folder to look in
    with pytest.raises(SchemaError, match=r"\$ref 'other.json' at /properties/p "):
        compile_schema({"properties": {"p": {"$ref": "other.json"}}}, base_dir=tmp_path)


def test_a_referenced_file_is_read_under_the_root_schema_draft(tmp_path):
    # Draft 7 names a subschema with "$id": "#pos"; 2020-12 would not find that anchor.
    (tmp_path / "other.json").write_text(json.dumps({"definitions": {"pos": {"$id": "#pos", "minimum": 1}},
                                                     "$ref": "#pos"}))
    v = compile_schema({"$schema": DRAFTS["7"], "properties": {"p": {"$ref": "other.json"}}}, base_dir=tmp_path)
    assert [x.kind for x in violations(v, {"p": 0})] == ["schema:minimum"] and violations(v, {"p": 2}) == []
    # An unknown dialect is validated, and its references read, as 2020-12.
    (tmp_path / "money.json").write_text(json.dumps({"type": "number"}))
    v = compile_schema({"$schema": "https://example.com/custom", "properties": {"p": {"$ref": "money.json"}}},
                       base_dir=tmp_path)
    assert [x.kind for x in violations(v, {"p": "x"})] == ["schema:type"]


def test_every_remote_ref_is_checked_before_any_work(tmp_path, monkeypatch):
    remote = "https://example.com/other.json"
    with pytest.raises(SchemaError) as err:
        compile_schema({"$ref": remote})
    assert str(err.value).startswith(f"$ref '{remote}' at / cannot be resolved offline")
    assert str(err.value).endswith("next to this one and refer to it by relative path")
    with pytest.raises(SchemaError, match=r"at /allOf/1 cannot"):  # inside a list, after a good one
        compile_schema({"allOf": [{"type": "object"}, {"$ref": remote}]})
    with pytest.raises(SchemaError, match=r"at /properties/b cannot"):  # after a local reference
        compile_schema({"$defs": {"x": {}}, "properties": {"a": {"$ref": "#/$defs/x"}, "b": {"$ref": remote}}})
    # Without a schema folder, a relative reference is not looked up in the current directory.
    (tmp_path / "money.json").write_text(json.dumps({"type": "number"}))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SchemaError, match=r"\$ref 'money.json' at /properties/p "):
        compile_schema({"properties": {"p": {"$ref": "money.json"}}})


@pytest.mark.parametrize("text", ["Sure! {", "```json\n{", "{} and more", '{"a": 1}\n{"b": 2}', "nulx", "truex",
                                  "fals3", "trux", "@", "X", "'single'", "1. ", "12 3"])
def test_a_completion_that_cannot_become_one_document_is_not_viable(text):
    assert not FMT.viable(text) and not FMT.parse(text).valid


@pytest.mark.parametrize("text", ["", "  ", "{", '{"a": [1, 2', "t", "nu", "fa", "false", "-", "1", "1.", "1e", "1E+",
                                  "0.5e-",
                                  '"unfinished', '{"a": 1}  '])
def test_an_unfinished_document_is_viable(text):
    assert FMT.viable(text)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values())
def test_every_prefix_of_a_rendered_document_is_viable(value):
    text = FMT.render(value)
    assert all(FMT.viable(text[:end]) for end in range(len(text) + 1))


def test_patterns_are_searched_under_a_time_limit_in_process():
    # The in-process twin of test_reliability_07's subprocess test, which mutants cannot reach.
    schema = {"type": "object", "properties": {"a": {"pattern": "^a+$"}, "b": {"pattern": "^(b|bb)+$"}},
              "patternProperties": {"^x": {"type": "integer"}, "^(c|cc)+$": {"type": "integer"}}}
    found = violations(compile_schema(schema), {"a": "ab", "b": "b" * 60 + "!", "x1": "s", "y": "s",
                                                "c" * 60 + "!": 1, "cc": "s"})
    timeout = "took over 0.5 s on this string (the pattern backtracks catastrophically); the value is rejected"
    assert sorted((v.path, v.message) for v in found) == sorted([
        ("/a", "'ab' does not match '^a+$'"),
        ("/b", f"matching '^(b|bb)+$' {timeout}"),
        ("/x1", "'s' is not of type 'integer'"),
        ("", f"matching '^(c|cc)+$' {timeout}"),
        ("/cc", "'s' is not of type 'integer'"),  # a key after the one that timed out is still checked
    ])
    assert violations(compile_schema({"pattern": "^a+$", "patternProperties": {"^x": False}}), 5) == []
