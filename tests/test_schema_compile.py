"""Compiling a JSON Schema: where remote references are looked for on disk, which files a schema
depends on, the limits that keep hostile schemas and documents from crashing or hanging, and the
shape of each violation. (Drafts, formats and reference errors are in ``test_json_plugin.py``.)"""

from __future__ import annotations

import json
from collections import deque

import pytest
import regex

from formtune.errors import SchemaError
from formtune.schema import compile as compile_module
from formtune.schema.compile import MAX_MESSAGE, compile_schema, schema_files, violations
from formtune.violations import Violation

ROOT_ID = "https://example.com/s/root.json"


@pytest.fixture
def folder(tmp_path):
    """A schema folder: ``item.json`` (an integer), ``sub/item.json`` (a string), ``my item.json``."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "item.json").write_text(json.dumps({"type": "integer"}))
    (tmp_path / "sub" / "item.json").write_text(json.dumps({"type": "string"}))
    (tmp_path / "my item.json").write_text(json.dumps({"type": "boolean"}))
    return tmp_path


def test_schema_files_lists_each_referenced_file_once_in_order(folder):
    schema = {"properties": {"z": {"$ref": "sub/item.json"}, "a": {"$ref": "item.json"},
                             "b": {"$ref": "item.json#/type"}, "c": {"$ref": "#/properties/a"}}}
    assert schema_files(schema, folder) == [folder / "item.json", folder / "sub" / "item.json"]
    assert schema_files({"type": "object"}, folder) == []


def test_a_reference_under_the_schema_id_is_read_from_the_schema_folder(folder):
    schema = {"$id": ROOT_ID, "properties": {"a": {"$ref": "item.json"}, "b": {"$ref": "sub/item.json"},
                                             "c": {"$ref": "https://example.com/s/my%20item.json"}}}
    assert schema_files(schema, folder) == [folder / "item.json", folder / "my item.json", folder / "sub" / "item.json"]
    validator = compile_schema(schema, base_dir=folder)
    assert [v.path for v in violations(validator, {"a": "x", "b": 1, "c": 0})] == ["/a", "/b", "/c"]
    assert violations(validator, {"a": 1, "b": "x", "c": True}) == []
    # Draft 4 spells it "id" (as SchemaStore's draft-4 schemas do).
    draft4 = {"$schema": "http://json-schema.org/draft-04/schema#", "id": ROOT_ID, "items": {"$ref": "item.json"}}
    assert schema_files(draft4, folder) == [folder / "item.json"]


@pytest.mark.parametrize("schema, where", [
    ({"$id": ROOT_ID, "$ref": "https://example.com/t/item.json"}, ""),  # another folder on the same host
    ({"$id": "https://example.com/s/sub/root.json", "$ref": "https://example.com/s/sub/../item.json"}, "sub"),
    ({"$id": "urn:formtune", "$ref": "urn:formtune/item.json"}, ""),  # an id with no folder has nothing under it
    ({"$id": ROOT_ID, "$ref": "https://example.com/s/item.json"}, None),  # no schema folder to look in
], ids=["other-folder", "dot-dot", "no-folder", "no-base-dir"])
def test_references_outside_the_schema_folder_are_not_read_from_it(folder, schema, where):
    with pytest.raises(SchemaError, match=r"cannot be resolved offline \(formtune never fetches schemas\)"):
        compile_schema(schema, base_dir=None if where is None else folder / where)


def test_relative_and_file_uri_references_are_read_from_the_schema_folder(folder):
    by_name = compile_schema({"items": {"$ref": "my%20item.json"}}, base_dir=folder)
    assert [v.path for v in violations(by_name, [True, 1])] == ["/1"]
    relative_uri = {"items": {"$ref": "file:sub/item.json"}}
    assert schema_files(relative_uri, folder) == [folder / "sub" / "item.json"]


def test_a_referenced_file_that_is_not_a_schema_is_named_with_its_error(folder):
    (folder / "broken.json").write_text("{not json")
    with pytest.raises(SchemaError) as err:
        compile_schema({"properties": {"p": {"$ref": "broken.json"}}}, base_dir=folder)
    assert str(err.value).startswith(f"$ref 'broken.json' at /properties/p is not a usable schema file: "
                                     f"{folder / 'broken.json'}: not valid JSON")


def test_a_missing_file_under_the_schema_id_is_named_with_both_addresses(folder):
    with pytest.raises(SchemaError) as err:
        compile_schema({"$id": ROOT_ID, "$ref": "gone.json"}, base_dir=folder)
    assert str(err.value) == (f"$ref 'gone.json' at / (that is https://example.com/s/gone.json) has no file: "
                              f"{folder / 'gone.json'} does not exist; save that schema there")
    # Deeper in the schema, in lists too, the root's $id is still the base.
    deep = r"^\$ref 'gone.json' at /allOf/0/properties/p \(that is https://example.com/s/gone.json\) has no file"
    with pytest.raises(SchemaError, match=deep):
        compile_schema({"$id": ROOT_ID, "allOf": [{"properties": {"p": {"$ref": "gone.json"}}}]}, base_dir=folder)
    # Under a subschema with an $id of its own, the reference is relative to that one.
    with pytest.raises(SchemaError) as err:
        compile_schema({"$id": ROOT_ID, "$defs": {"o": {"$id": "https://other.org/x/o.json", "$ref": "gone.json"}}},
                       base_dir=folder)
    assert str(err.value) == ("$ref 'gone.json' at /$defs/o (that is https://other.org/x/gone.json) cannot be resolved "
                              "offline (formtune never fetches schemas): save that schema as a file next to this one "
                              "and refer to it by relative path")
    relative = r"^\$ref 'gone.json' at /\$defs/o \(that is https://example.com/s/sub/gone.json\) has no file"
    with pytest.raises(SchemaError, match=relative):
        compile_schema({"$id": ROOT_ID, "$defs": {"o": {"$id": "sub/o.json", "$ref": "gone.json"}}}, base_dir=folder)


def _nested(key: str, depth: int, leaf):
    for _ in range(depth):
        leaf = {key: leaf} if key else [leaf]
    return leaf


def test_depth_limits_are_errors_and_violations_not_crashes():
    with pytest.raises(SchemaError, match="^the schema is nested too deeply to check$"):
        compile_schema(_nested("not", 5000, {}))
    deep_list = _nested("", 5000, [])
    assert violations(compile_schema({"items": {"$ref": "#"}}), deep_list) == [
        Violation(path="", message="nested too deeply to validate", kind="limit:depth")]


def test_violation_messages_are_cut_at_the_limit_and_sorted_by_path():
    validator = compile_schema({"properties": {"b": {"maxLength": 1}, "a": {"maxLength": 1}}})
    fits = "x" * (MAX_MESSAGE - len("'' is too long"))
    cut = fits + "y"
    found = violations(validator, {"b": cut, "a": fits})
    assert [(v.path, v.kind) for v in found] == [("/a", "schema:maxLength"), ("/b", "schema:maxLength")]
    assert found[0].message == f"'{fits}' is too long" and len(found[0].message) == MAX_MESSAGE
    assert found[1].message == f"'{cut}' is too long"[:MAX_MESSAGE] + "…"
    # "~" is escaped before "/", so "~1" in a key stays distinguishable from "/".
    strings = compile_schema({"additionalProperties": {"type": "string"}})
    assert [v.path for v in violations(strings, {"~1/": 1})] == ["/~01~1"]


def test_a_pattern_property_error_keeps_its_schema_path():
    [error] = compile_schema({"patternProperties": {"^x": {"type": "integer"}}}).iter_errors({"x1": "s"})
    assert error.schema_path == deque(["patternProperties", "^x", "type"])


def test_a_pattern_only_python_re_compiles_still_works(monkeypatch):
    def refuse(pattern):
        raise regex.error("unsupported here")

    monkeypatch.setattr(compile_module.regex, "compile", refuse)
    compile_module._compiled.cache_clear()
    try:
        validator = compile_schema({"pattern": "^a+$"})
        assert violations(validator, "aa") == [] and [v.kind for v in violations(validator, "b")] == ["schema:pattern"]
    finally:
        compile_module._compiled.cache_clear()


def test_a_reference_to_nothing_is_an_error_before_any_work(folder):
    (folder / "defs.json").write_text(json.dumps({"$defs": {"n": {"type": "integer"}, "a": {"$anchor": "here"}}}))
    cases = {
        "#/$defs/missing": "points to nothing: there is no /$defs/missing in this schema",
        "defs.json#/$defs/missing": "points to nothing: there is no /$defs/missing in 'defs.json'",
        "defs.json#nowhere": "points to nothing: there is no anchor 'nowhere' in 'defs.json'",
    }
    for ref, why in cases.items():
        with pytest.raises(SchemaError) as err:
            compile_schema({"properties": {"a": {"$ref": ref}}}, base_dir=folder)
        assert str(err.value) == f"$ref {ref!r} at /properties/a {why}"
    fine = compile_schema({"prefixItems": [{"$ref": "defs.json#/$defs/n"}, {"$ref": "defs.json#here"}]},
                          base_dir=folder)  # a pointer and an anchor that exist
    assert [v.path for v in violations(fine, ["s", "s"])] == ["/0"]


def test_references_resolve_in_the_scope_of_the_nearest_id():
    # "#/$defs/n" inside the subschema with its own $id means that subschema's $defs, not the root's.
    inner = {"$id": "https://example.com/s/inner.json", "$defs": {"n": {"type": "integer"}}, "$ref": "#/$defs/n"}
    validator = compile_schema({"$defs": {"inner": inner}, "properties": {"x": {"$ref": "inner.json"}},
                                "$id": ROOT_ID})
    assert [v.path for v in violations(validator, {"x": "s"})] == ["/x"] and violations(validator, {"x": 1}) == []
    in_a_list = compile_schema({"allOf": [{"minimum": 0}, inner]})  # scopes inside lists too
    assert [v.kind for v in violations(in_a_list, "s")] == ["schema:type"] and violations(in_a_list, 1) == []
    # In draft 4 "id" is also a fine property name: a schema, not a base URI.
    draft4 = {"$schema": "http://json-schema.org/draft-04/schema#", "definitions": {"s": {"type": "string"}},
              "properties": {"id": {"$ref": "#/definitions/s"}}}
    assert [v.path for v in violations(compile_schema(draft4), {"id": 1})] == ["/id"]
    named = {"$defs": {"s": {"type": "string"}}, "properties": {"$id": {"$ref": "#/$defs/s"}, "$ref": {"type": "null"}}}
    assert [v.path for v in violations(compile_schema(named), {"$id": 1, "$ref": None})] == ["/$id"]


def test_references_deep_under_an_unknown_keyword_are_a_clear_error():
    # jsonschema's own check does not descend into keywords it does not know; the search for $ref does.
    with pytest.raises(SchemaError, match="^the schema is nested too deeply to check$"):
        compile_schema(_nested("x-extension", 5000, {}))
