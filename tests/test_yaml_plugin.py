"""The YAML plugin: strict and lenient parsing, YAML 1.2 meaning, plain data only, bounded work on
hostile input, rendering that round-trips for every reader, and the decoding constraint."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from formtune.api import validate_files
from formtune.check import check
from formtune.schema.compile import compile_schema, violations
from formtune.schema.sampler import SchemaSampler
from formtune.task import Task
from formtune_yaml.constraint import plain_string, yaml_regex
from formtune_yaml.format import YamlFormat
from formtune_yaml.read import MAX_ALIAS_NODES, MAX_CHARS, YamlRejected, read_yaml
from formtune_yaml.write import FIRST_UNICODE, PLAIN, RESERVED, UNICODE, render_yaml
from json_values import json_values
from sampling import corpus_dir

FMT = YamlFormat()
HOSTILE = Path(__file__).parent / "hostile" / "yaml"
SCHEMASTORE = corpus_dir("schemastore")
DOC = "name: Ada\ntags:\n  - a\n  - b\n"


def rejected(text: str) -> YamlRejected:
    with pytest.raises(YamlRejected) as info:
        read_yaml(text)
    return info.value


# -- strict and lenient parsing ----------------------------------------------------------------

@pytest.mark.parametrize("text", [DOC, "--- \n" + DOC, DOC + "...\n", "\n\n" + DOC + "\n\n", "[1, 2]", "just text",
                                  "# a comment\n" + DOC])
def test_strict_accepts_exactly_one_document(text):
    assert FMT.parse(text).parsed


@pytest.mark.parametrize("text", ["```yaml\n" + DOC + "```", "Sure! Here it is.\n" + DOC,
                                  DOC + "Hope this helps!", DOC + "---\nname: Bob\n", DOC + "...\nmore\n", "",
                                  "# only a comment\n", "a: 1\na: 2\n", "a: [1, 2\n"])
def test_strict_rejects_fences_prose_extra_documents_and_nothing(text):
    checked = FMT.parse(text)
    assert not checked.parsed and checked.violations[0].kind == "parse"
    assert checked.violations[0].message.startswith("not a single YAML document")


def test_prose_that_is_yaml_is_read_as_yaml_and_left_to_the_schema(tmp_path):
    # "Sure:" is a key with a null value: YAML cannot tell it from prose, the schema can.
    assert read_yaml("Sure:\n\n" + DOC) == {"Sure": None, "name": "Ada", "tags": ["a", "b"]}
    (tmp_path / "s.json").write_text('{"type": "object", "additionalProperties": false, '
                                     '"properties": {"name": {}, "tags": {}}}')
    checked = check("Sure:\n\n" + DOC, Task.from_schema(tmp_path / "s.json", "yaml"))
    assert [v.kind for v in checked.violations] == ["schema:additionalProperties"]


@pytest.mark.parametrize("text", ["Here you go:\n```yaml\n" + DOC + "```\nAnything else?",
                                  "Sure! Here it is:\n\n" + DOC + "\nHope this helps!",
                                  "Here it is:\n" + DOC + "Let me know if you need more."])
def test_lenient_extraction_is_flagged_and_never_valid(text):
    checked = FMT.parse(text, lenient=True)
    assert checked.value == {"name": "Ada", "tags": ["a", "b"]}
    assert checked.lenient and not checked.valid and checked.lenient_valid
    assert not FMT.parse(text).parsed


def test_prose_alone_is_one_plain_string_and_lenient_finds_no_mapping_in_it():
    checked = FMT.parse("I could not find a name in this message.\nSorry!", lenient=True)
    assert checked.value == "I could not find a name in this message. Sorry!" and not checked.lenient
    checked = FMT.parse("`code` is not YAML,\nand neither is [this", lenient=True)
    assert not checked.parsed and checked.violations[0].kind == "parse"


@pytest.mark.parametrize("text", ["```yaml\nname: Ada", "  `x`", "@x", "Here is the YAML:\n```yaml\nname: x",
                                  "name: Ada\n```", DOC + "---\n", DOC + "--- \nname: Bob"])
def test_a_completion_that_cannot_become_one_document_is_not_viable(text):
    assert not FMT.viable(text) and not FMT.parse(text).valid


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values(floats=False))
def test_every_prefix_of_a_rendered_document_is_viable(value):
    text = render_yaml(value)
    assert all(FMT.viable(text[:end]) for end in range(len(text) + 1))


# -- YAML 1.2 meaning and JSON-like values -------------------------------------------------------

NORWAY = {  # plain scalar -> value under YAML 1.2's core schema (PyYAML's 1.1 reading in comments)
    "no": "no", "No": "No", "on": "on", "off": "off", "yes": "yes", "y": "y", "n": "n",  # 1.1: booleans
    "true": True, "False": False, "TRUE": True,
    "null": None, "~": None, "Null": None, "": None,
    "010": 10, "0o10": 8, "0x1F": 31, "-7": -7, "+7": 7,  # 1.1: 010 is 8, 0o10 a string
    "1e3": 1000.0, "1.5": 1.5, ".5": 0.5, "-1.5E-2": -0.015,  # 1.1: 1e3 is a string
    "1_000": "1_000", "12:30": "12:30", "190:20:30": "190:20:30",  # 1.1: 1000, 750, base 60
    "2024-01-01": "2024-01-01", "2001-12-14t21:59:43.10-05:00": "2001-12-14t21:59:43.10-05:00",  # 1.1: dates
    "<<": "<<", "=": "=", "0b101": "0b101",
}


@pytest.mark.parametrize("plain", NORWAY)
def test_plain_scalars_have_their_yaml_1_2_core_schema_meaning(plain):
    assert read_yaml(f"value: {plain}\n") == {"value": NORWAY[plain]}
    assert type(read_yaml(f"value: {plain}\n")["value"]) is type(NORWAY[plain])


def test_keys_are_the_text_they_are_written_with():
    assert read_yaml("on: push\n200: OK\nnull: x\n1.0: y\n") == {"on": "push", "200": "OK", "null": "x", "1.0": "y"}
    assert read_yaml("<<: {a: 1}\nb: 2\n") == {"<<": {"a": 1}, "b": 2}  # no merge keys in YAML 1.2


@pytest.mark.parametrize("text, path, fragment", [
    ("a: 1\nb: 2\na: 3\n", "/a", "appears twice"),
    ("200: x\n'200': y\n", "/200", "appears twice"),
    ("? [a, b]\n: 1\n", "", "keys must be text"),
    ("x: &k {a: 1}\n*k : 2\n", "", "must be text"),
    ("a: .inf\n", "/a", "not a number JSON can hold"),
    ("a: [1, .NaN]\n", "/a/1", "not a number JSON can hold"),
    ("a: {b: 1e400}\n", "/a/b", "too large"),
    ("a: !!timestamp 2001-12-14\n", "/a", "!!timestamp is not allowed"),
    ("a: !Ref bucket\n", "/a", "!Ref is not allowed"),
    ("a: !!int twelve\n", "/a", "not a valid !!int"),
    ("a: &x [1, *x]\n", "/a/1", "a cycle"),
    ("a: *nowhere\n", "/a", "refers to no anchor"),
])
def test_values_that_are_not_json_like_are_violations_with_a_pointer(text, path, fragment):
    error = rejected(text)
    assert fragment in str(error) and error.path == path


def test_core_tags_and_aliases_are_read():
    assert read_yaml("- !!str 12\n- !!int '12'\n- !!float 3\n- !!bool true\n- !!null ''\n- ! 12\n") == [
        "12", 12, 3.0, True, None, "12"]
    value = read_yaml("base: &b {image: python}\njobs: [*b, *b]\n")
    assert value == {"base": {"image": "python"}, "jobs": [{"image": "python"}] * 2}


def test_a_byte_order_mark_before_the_document_is_allowed_by_the_spec():
    # Not hostile: YAML 1.2 allows a BOM at the start of every document prefix, comments included.
    assert read_yaml("\ufeffname: Ada\n") == {"name": "Ada"}
    assert read_yaml("# schema: x.json\n\ufeffname: Ada\n") == {"name": "Ada"}
    assert "did not find expected key" in str(rejected("name: Ada\n\ufeffage: 3\n"))  # not inside one


# -- hostile input ---------------------------------------------------------------------------

HOSTILE_CASES = sorted(p.name for p in HOSTILE.glob("*.yaml"))


def test_the_hostile_corpus_covers_what_the_issue_lists():
    wanted = {"python-object-apply.yaml", "python-name.yaml", "alias-bomb.yaml", "merge-key-bomb.yaml",
              "deep-nesting-flow.yaml", "deep-nesting-block.yaml", "huge-integer.yaml", "invalid-utf8.yaml"}
    assert wanted <= set(HOSTILE_CASES)
    assert (HOSTILE / "schema.json").is_file()


@pytest.mark.parametrize("case", HOSTILE_CASES)
def test_every_hostile_case_is_rejected_with_a_clear_violation(case, tmp_path):
    secret = tmp_path / "canary"
    secret.write_text("s3cr3t-canary")
    data = (HOSTILE / case).read_bytes().replace(b"@@CANARY@@", str(secret).encode()).replace(b"@@PORT@@", b"9")
    (tmp_path / case).write_bytes(data)
    [result] = validate_files(HOSTILE / "schema.json", [tmp_path / case], format="yaml")
    assert not result.valid and result.errors[0].kind in ("parse", "read")  # read: not UTF-8 at all
    assert "s3cr3t" not in result.errors[0].message and "Traceback" not in result.errors[0].message


@pytest.mark.parametrize("case, fragment", [
    ("python-object-apply.yaml", "tag !!python/object/apply:os.system is not allowed"),
    ("python-tag-in-key.yaml", "!!python/object/apply:os.system is not allowed"),
    ("include-tag.yaml", "tag !include is not allowed"),
    ("alias-bomb.yaml", f"more than {MAX_ALIAS_NODES:,} nodes"),
    ("alias-fanout.yaml", f"more than {MAX_ALIAS_NODES:,} nodes"),
    ("merge-key-bomb.yaml", f"more than {MAX_ALIAS_NODES:,} nodes"),
    ("alias-cycle.yaml", "a cycle"),
    ("deep-nesting-block.yaml", "nested more than 100 levels"),
    ("deep-nesting-mapping.yaml", "nested more than 100 levels"),
    ("deep-nesting-flow.yaml", "nesting depth"),
    ("huge-integer.yaml", "100,001 digits; the limit is 4,300"),
    ("huge-exponent.yaml", "too large for a double"),
    ("control-character.yaml", "character #x0000"),
    ("lone-surrogate-escape.yaml", "invalid Unicode"),
])
def test_each_hostile_case_says_what_it_stopped(case, fragment):
    text = (HOSTILE / case).read_text(encoding="utf-8")
    assert fragment in str(rejected(text.replace("@@CANARY@@", "/tmp/canary").replace("@@PORT@@", "9")))


def test_python_tags_are_never_executed(tmp_path, monkeypatch):
    import os

    called = []
    monkeypatch.setattr(os, "system", lambda *a: called.append(a) or 0)
    for case in ("python-object-apply.yaml", "python-object-apply-root.yaml", "python-name.yaml"):
        assert not FMT.parse((HOSTILE / case).read_text()).parsed
    assert called == []


def test_invalid_utf8_and_huge_files_are_invalid_not_usage_errors(tmp_path, formtune_cli):
    huge = tmp_path / "huge.yaml"
    line = "  - abcdefghijklmnopqrstuvwxyz0123456789\n"
    huge.write_text("items:\n" + line * (2 * MAX_CHARS // len(line)))  # over the format's limit, under validate's
    result = formtune_cli("validate", "--format", "yaml", "--schema", str(HOSTILE / "schema.json"),
                          str(huge), str(HOSTILE / "invalid-utf8.yaml"), timeout=60)
    assert result.returncode == 1, result.stderr
    assert f"the limit is {MAX_CHARS:,}" in result.stdout and "not UTF-8 text (invalid byte 0xe9 at offset 9)" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


# -- rendering ------------------------------------------------------------------------------

def test_rendering_is_idiomatic_block_yaml():
    value = {"name": "Ada Lovelace", "answer": "no", "zip": "010", "version": "1e3", "when": "2024-01-01",
             "note": "Zoë: 2 eggs", "count": 3, "ratio": 0.5, "ok": True, "missing": None, "empty": [],
             "steps": [{"do": "mix", "minutes": 5}, {"do": "bake"}], "text": "line one\nline two\n",
             "nested": {"deep": {"tags": ["a", "yes"]}}, "": " padded "}
    assert render_yaml(value) == (
        'name: Ada Lovelace\nanswer: "no"\nzip: "010"\nversion: "1e3"\nwhen: "2024-01-01"\n'
        'note: "Zoë: 2 eggs"\ncount: 3\nratio: 0.5\nok: true\nmissing: null\nempty: []\n'
        "steps:\n  - do: mix\n    minutes: 5\n  - do: bake\ntext: |\n  line one\n  line two\n"
        'nested:\n  deep:\n    tags:\n      - a\n      - "yes"\n? ""\n: " padded "\n')


TRICKY = st.sampled_from(["no", "on", "off", "yes", "y", "N", "010", "0o7", "0x1F", "1e3", "1_000", "null", "~", "",
                          " x", "x ", "a\nb", "a\n", "\n", "a: b", "a #b", "- x", "#x", "? x", ".inf", "2024-01-01",
                          "12:30", "True", "<<", "&a", "*a", "!x", "|", ">", "'q'", '"q"', "%x", "@x", "`x", "---",
                          "...", "a\tb", "\ufeff", "\x85", "\u2028", "ü", "日本", "🎉", "2 eggs", "Zoë"])
TEXT = st.one_of(TRICKY, st.text(), st.builds(lambda a, b: a + b, TRICKY, st.text(max_size=4)),
                 st.builds(lambda a, b: a + b, st.text(max_size=4), TRICKY))
VALUES = json_values(text=TEXT, keys=TEXT, size=4, leaves=20)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(VALUES)
def test_every_rendered_value_reads_back_equal_in_yaml_1_1_and_1_2_readers(value):
    from ruamel.yaml import YAML

    text = render_yaml(value)
    assert read_yaml(text) == value
    assert yaml.safe_load(text) == value  # PyYAML, YAML 1.1: no Norway problem in what we write
    assert YAML(typ="safe", pure=True).load(text) == value  # ruamel.yaml, an independent 1.2 reader
    assert FMT.canonical(read_yaml(text)) == FMT.canonical(json.loads(json.dumps(value)))


# -- constrained decoding ---------------------------------------------------------------------

RECIPE = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "servings": {"type": "integer", "minimum": 1, "maximum": 12},
        "difficulty": {"enum": ["easy", "medium", "hard", "no"]},
        "vegan": {"type": "boolean"},
        "minutes": {"type": "number"},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
        "steps": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["text"],
            "properties": {"text": {"type": "string"}, "timer": {"type": ["integer", "null"]},
                           "tools": {"type": "array", "items": {"$ref": "#/$defs/tool"}}}}},
        "source": {"type": "object", "properties": {"book": {"type": "string"}, "page": {"type": "integer",
                                                                                        "minimum": 0}}},
    },
    "required": ["name", "steps"],
    "$defs": {"tool": {"type": "string", "enum": ["oven", "pan", "on"]}},
}


def test_every_sampled_instance_rendered_matches_the_constraint():
    pattern = re.compile(yaml_regex(RECIPE))
    sampler = SchemaSampler(RECIPE)
    for seed in range(150):
        text = render_yaml(sampler.sample(seed))
        assert pattern.fullmatch(text), text


@pytest.mark.parametrize("text", [
    "name: x\n",  # a required property missing
    "name: x\nsteps: []\n",  # minItems
    "steps:\n  - text: a\nname: x\n",  # not in schema order
    "name: x\nsteps:\n- text: a\n",  # sequence not indented
    "name: no\nsteps:\n  - text: a\n",  # a reserved word unquoted
    "name: x\nservings: 13\nsteps:\n  - text: a\n",  # out of range
    "name: x\nsteps:\n  - text: a\n    timer: 1.5\n",  # a number for an integer
    "```yaml\nname: x\nsteps:\n  - text: a\n```\n",
    'name: "x"\nsteps:\n  - text: a\n    tools:\n      - "on"\n      - grill\n',  # outside the enum
])
def test_wrong_documents_do_not_match_the_constraint(text):
    assert not re.fullmatch(yaml_regex(RECIPE), text)


def test_equivalent_spellings_of_a_string_match_the_constraint():
    for name in ("Ada", '"Ada"', '"no"', "|-\n  two\n  lines"):
        assert re.fullmatch(yaml_regex(RECIPE), f"name: {name}\nsteps:\n  - text: a\n"), name


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_every_document_the_constraint_admits_is_valid(data):
    # The alphabet is cut down to a few non-ASCII characters: hypothesis is slow on huge classes.
    small = yaml_regex(RECIPE).replace(UNICODE, "é日🎉").replace(FIRST_UNICODE, "é日")
    text = data.draw(st.from_regex(re.compile(small), fullmatch=True))
    assert violations(compile_schema(RECIPE), read_yaml(text)) == []


@settings(max_examples=2000, deadline=None)
@given(st.one_of(st.sampled_from(RESERVED), TEXT, st.builds(lambda a, b: a + b, st.sampled_from(RESERVED), TEXT)))
def test_the_constraint_spells_plain_strings_as_the_renderer_decides_them(text):
    assert bool(re.fullmatch(plain_string(), text)) == bool(PLAIN.fullmatch(text))


@pytest.mark.parametrize("schema", [
    {"type": "string"},  # the root must be a collection
    {"type": "object"},  # free-form object
    {"type": "object", "properties": {"a": {"type": "string", "format": "email"}}},
    {"type": "object", "properties": {"a": {"type": "string", "pattern": "^x"}}},
    {"type": "object", "properties": {"a": {"anyOf": [{"type": "string"}, {"type": "integer"}]}}},
    {"type": "object", "properties": {"a": {"type": "number", "minimum": 0}}},
    {"type": "object", "properties": {"a": {"$ref": "#"}}},
    {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
    {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["b"]},
])
def test_schemas_outside_the_subset_are_unconstrained(schema):
    assert yaml_regex(schema) is None


def test_the_format_offers_an_outlines_regex(tmp_path):
    from outlines.types import Regex

    (tmp_path / "s.json").write_text(json.dumps(RECIPE))
    task = Task.from_schema(tmp_path / "s.json", "yaml")
    assert isinstance(FMT.constraint(task).output_type, Regex)
    (tmp_path / "free.json").write_text('{"type": "object"}')
    assert FMT.constraint(Task.from_schema(tmp_path / "free.json", "yaml")) is None


# -- the whole plugin, through the core ----------------------------------------------------------

def test_yaml_tasks_validate_against_json_schema_with_pointers(tmp_path):
    (tmp_path / "s.json").write_text(json.dumps(RECIPE))
    task = Task.from_schema(tmp_path / "s.json", "yaml")
    assert check("name: Soup\nsteps:\n  - text: boil\n", task).valid
    checked = check("name: Soup\nservings: many\nsteps:\n  - text: boil\n    timer: soon\n", task)
    assert {(v.path, v.kind) for v in checked.violations} == {("/servings", "schema:type"),
                                                              ("/steps/0/timer", "schema:type")}
    assert FMT.fields({"a": {"b": [1, "x"]}}) == {("/a/b/0", "('number', 1.0)"), ("/a/b/1", "('string', 'x')")}


def test_validate_and_sample_commands_speak_yaml(tmp_path, formtune_cli):
    (tmp_path / "s.json").write_text(json.dumps(RECIPE))
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text("name: Soup\nsteps:\n  - text: boil\n")
    bad.write_text("name: Soup\nsteps: boil\n")
    result = formtune_cli("validate", "--format", "yaml", "--schema", str(tmp_path / "s.json"), str(good), str(bad))
    assert result.returncode == 1 and f"{good}: valid" in result.stdout and "/steps: 'boil' is not of type" in result.stdout
    sampled = formtune_cli("sample", "--format", "yaml", "--schema", str(tmp_path / "s.json"), "-n", "2")
    assert sampled.returncode == 0 and sampled.stdout.startswith("name: ")


# -- real-world files: a sample of SchemaStore's YAML tests (benchmarks/schemastore_yaml.py runs all) --

SCHEMASTORE_SAMPLE = {  # schema -> {file: valid upstream}; each a file a YAML 1.1 reader gets wrong or a negative
    "github-workflow.json": {"test/github-workflow/1162.yaml": True,  # "on:" is a key, not True
                             "test/github-workflow/918.yaml": True,
                             "negative_test/github-workflow/bad_pull_request_event_declaration.yaml": False,
                             "negative_test/github-workflow/container-command-is-invalid.yaml": False},
    "clang-format-18.x.json": {"test/clang-format-18.x/Google.clang-format.yml": True,  # "Yes" is a string
                               "negative_test/clang-format-18.x/empty.clang-format.yml": False},
    "codecov.json": {"test/codecov/jellyfin-vue.yml": True},  # "patch: off" is a string
    "gematik-test-patients.json": {"test/gematik-test-patients/patient.yaml": True},  # dates are strings
    "venvironment-schema-v2.2.0.json": {"test/venvironment-schema-v2.2.0/unicode-1.yaml": True},  # BOM on line 2
    "tmuxinator.json": {"test/tmuxinator/sample_alias.yml": True},  # anchors and aliases
}


@pytest.mark.skipif(not SCHEMASTORE.is_dir(), reason=f"SchemaStore corpus not found at {SCHEMASTORE} "
                    "(the shared corpora live beside the checkout)")
@pytest.mark.parametrize("schema", SCHEMASTORE_SAMPLE)
def test_a_sample_of_schemastore_yaml_tests_gets_its_upstream_verdict(schema):
    files = SCHEMASTORE_SAMPLE[schema]
    results = validate_files(SCHEMASTORE / "src/schemas/json" / schema,
                             [SCHEMASTORE / "src" / f for f in files], format="yaml")
    assert {Path(r.file).relative_to(SCHEMASTORE / "src").as_posix(): r.valid for r in results} == files
