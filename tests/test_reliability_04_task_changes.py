"""Case 4: a folder holds the rows of one version of its task. A change that shapes the data is
named and refused until ``--rebuild``; rows are never mixed; lowering ``train:`` gives exactly the
requested rows, the ones a fresh build makes."""

from __future__ import annotations

import importlib.metadata
import json
import re
from pathlib import Path

import pytest
from reliability import PERSON_TASK, assert_one_error_line, invoke, person_task

from formtune.dataset import build_dataset, read_rows
from formtune.errors import UsageError
from formtune.schema.compile import compile_schema, violations
from formtune.task import load_task


def build(task_file, out, **options):
    return build_dataset(load_task(task_file), out, progress=False, **options)


def test_a_schema_change_is_named_and_refused_until_rebuild(tmp_path):
    task_file = person_task(tmp_path)
    build(task_file, tmp_path / "out")
    schema = json.loads((tmp_path / "person.schema.json").read_text())
    schema["properties"]["phone"] = {"type": "string", "pattern": "^[0-9]{3}-[0-9]{4}$"}
    schema["required"].append("phone")
    (tmp_path / "person.schema.json").write_text(json.dumps(schema))
    task_file.write_text(PERSON_TASK.replace("age: 36}", "age: 36, phone: 555-0100}"))

    refused = invoke("generate", task_file, "--out", tmp_path / "out", "--quiet")
    assert refused.code == 2
    assert_one_error_line(refused.stderr, "rows made for another version of the task", "schema changed", "--rebuild")

    rebuilt = invoke("generate", task_file, "--out", tmp_path / "out", "--quiet", "--rebuild")
    assert rebuilt.code == 0, rebuilt.stderr
    rows = read_rows(tmp_path / "out" / "train.jsonl") + read_rows(tmp_path / "out" / "eval.jsonl")
    validator = compile_schema(schema)
    assert len(rows) == 50 and all(violations(validator, r["output"]) == [] for r in rows)


def test_new_instructions_and_seed_are_named(tmp_path):
    task_file = person_task(tmp_path)
    build(task_file, tmp_path / "out")
    task_file.write_text(PERSON_TASK.replace("Extract the person as JSON.", "Give the person as JSON.")
                         .replace("eval: 10", "eval: 10\n  seed: 7"))
    with pytest.raises(UsageError, match=r"instructions changed; data.seed 0 → 7"):
        build(task_file, tmp_path / "out")
    build(task_file, tmp_path / "out", rebuild=True)
    rows = read_rows(tmp_path / "out" / "train.jsonl")
    assert {r["messages"][0]["content"] for r in rows} == {"Give the person as JSON."}


def test_an_imported_template_file_is_part_of_the_task(tmp_path):
    (tmp_path / "words.j2").write_text("{% macro hi() %}Hi{% endmacro %}")
    task_file = person_task(tmp_path, PERSON_TASK.replace(
        "text: \"{{ pick('Hi', 'Hello') }}", "text: \"{% import 'words.j2' as w %}{{ w.hi() }}"))
    build(task_file, tmp_path / "out")
    (tmp_path / "words.j2").write_text("{% macro hi() %}Hey{% endmacro %}")
    with pytest.raises(UsageError, match=r"template 'intro' changed"):
        build(task_file, tmp_path / "out")


def test_lowering_train_gives_exactly_the_rows_of_a_fresh_build(tmp_path):
    task_file = person_task(tmp_path)
    build(task_file, tmp_path / "out")
    task_file.write_text(PERSON_TASK.replace("train: 40", "train: 12"))
    summary = build(task_file, tmp_path / "out")
    assert summary.accepted == {"eval": 10, "train": 12}
    assert any("trimmed train.jsonl from 40 to 12 rows" in n for n in summary.notes)
    build(task_file, tmp_path / "fresh")
    for name in ("train.jsonl", "eval.jsonl", "rejected.jsonl"):
        assert (tmp_path / "out" / name).read_bytes() == (tmp_path / "fresh" / name).read_bytes(), name

    # Raising it again extends the split exactly as a fresh build of 40 would.
    task_file.write_text(PERSON_TASK)
    assert build(task_file, tmp_path / "out").accepted == {"eval": 10, "train": 40}
    build(task_file, tmp_path / "fresh40")
    assert (tmp_path / "out" / "train.jsonl").read_bytes() == (tmp_path / "fresh40" / "train.jsonl").read_bytes()


def test_rows_are_never_mixed(tmp_path):
    task_file = person_task(tmp_path)
    build(task_file, tmp_path / "out")
    # A folder whose rows carry no fingerprint (made by an older formtune, or edited) is refused.
    (tmp_path / "out" / "dataset.json").unlink()
    with pytest.raises(UsageError, match="made without a fingerprint"):
        build(task_file, tmp_path / "out")
    build(task_file, tmp_path / "out", rebuild=True)
    # A row of another task version inside the folder is named by file and line.
    train = tmp_path / "out" / "train.jsonl"
    row = json.loads(train.read_text().splitlines()[0])
    row["provenance"]["fingerprint"] = "0" * 16
    train.write_text(train.read_text() + json.dumps(row) + "\n")
    with pytest.raises(UsageError, match=r"train.jsonl:41: a row of another task version"):
        build(task_file, tmp_path / "out")


# Every part of the fingerprint, changed alone, is named; what does not shape rows changes nothing.
DATA_BLOCK = "data:\n  train: 40\n  eval: 10\n  holdout_templates: [card]\n"
EXAMPLE = "output: {name: Ada Lovelace, email: ada@example.org, age: 36}"
PART_CHANGES = [
    (("Extract the person as JSON.", "Give the person as JSON."), "instructions changed"),
    ((EXAMPLE, EXAMPLE.replace("36", "37")), "examples changed"),
    (("Mail: {{", "E-mail: {{"), "template 'intro' changed"),
    (("eval: 10", "eval: 10\n  seed: 7"), "data.seed 0 → 7"),
    (("eval: 10", "eval: 12"), "data.eval 10 → 12"),
    (("holdout_templates: [card]", "holdout_templates: [intro]"), "data.holdout_templates card → intro"),
    ((DATA_BLOCK, DATA_BLOCK + "  layouts: 0.2\n"), "data.layouts added"),
    ((DATA_BLOCK, DATA_BLOCK + "  absent: 0.3\n"), "data.absent added"),
    ((DATA_BLOCK, DATA_BLOCK + "  augment: {typos: 0.1}\n"), "data.augment added"),
    (("examples:", "phrases:\n  age: {'36': [thirty-six]}\nexamples:"), "phrases added"),
    (("examples:", "jsonschema: {sampler: {locale: de_DE}}\nexamples:"), "section 'jsonschema' added"),
]


@pytest.mark.parametrize("edit, named", PART_CHANGES, ids=[named for _, named in PART_CHANGES])
def test_each_part_of_the_fingerprint_is_named_when_it_changes(tmp_path, edit, named):
    from formtune.dataset.fingerprint import describe_changes, fingerprint, fingerprint_parts

    before = fingerprint_parts(load_task(person_task(tmp_path / "a")))
    old, new = edit
    assert old in PERSON_TASK
    after = fingerprint_parts(load_task(person_task(tmp_path / "b", PERSON_TASK.replace(old, new))))
    assert describe_changes(before, after) == named
    assert fingerprint(before) != fingerprint(after)
    key, _, values = named.partition(" ")
    undone = f"{key} {' → '.join(reversed(values.split(' → ')))}" if "→" in named else named.replace(" added", " removed")
    assert describe_changes(after, before) == undone


def test_what_does_not_shape_rows_leaves_the_fingerprint_alone(tmp_path):
    from formtune.dataset.fingerprint import fingerprint, fingerprint_parts

    base = fingerprint_parts(load_task(person_task(tmp_path / "a")))
    changed = (PERSON_TASK.replace("name: person", "name: someone").replace("train: 40", "train: 400")
               + "lenient: true\ntraining: {epochs: 2}\n")
    assert fingerprint_parts(load_task(person_task(tmp_path / "b", changed))) == base
    version = importlib.metadata.version("formtune")
    assert base["formtune"] == version and base["format"] == f"json (formtune {version})"
    assert base["validators"] == f"json-schema (formtune {version})"
    assert base["generator"] == f"schema-sampler (formtune {version})"
    assert base["templates"] == "intro, card" and base["data.holdout_templates"] == "card"
    swapped = PERSON_TASK.replace("  - name: intro", "  - name: TMP").replace("  - name: card", "  - name: intro") \
        .replace("  - name: TMP", "  - name: card")
    assert fingerprint(fingerprint_parts(load_task(person_task(tmp_path / "c", swapped)))) != fingerprint(base)


def test_a_schema_file_referenced_by_the_schema_is_part_of_it(tmp_path):
    from formtune.dataset.fingerprint import describe_changes, fingerprint_parts

    task_file = person_task(tmp_path)
    schema = json.loads((tmp_path / "person.schema.json").read_text())
    schema["properties"]["email"] = {"$ref": "email.json"}
    (tmp_path / "person.schema.json").write_text(json.dumps(schema))
    (tmp_path / "email.json").write_text(json.dumps({"type": "string", "format": "email"}))
    before = fingerprint_parts(load_task(task_file))
    (tmp_path / "email.json").write_text(json.dumps({"type": "string", "format": "email", "maxLength": 80}))
    assert describe_changes(before, fingerprint_parts(load_task(task_file))) == "schema changed"


def test_the_manifest_reader_tells_missing_from_damaged(tmp_path):
    from formtune.dataset.fingerprint import read_manifest

    path = tmp_path / "dataset.json"
    assert read_manifest(path) is None
    path.write_text("{not json")
    assert read_manifest(path) == {}
    path.write_text("[1, 2]")
    assert read_manifest(path) == {}
    path.write_text('{"fingerprint": "ab"}')
    assert read_manifest(path) == {"fingerprint": "ab"}


def test_a_schema_with_a_lone_surrogate_escape_has_a_fingerprint(tmp_path):
    from formtune.dataset.fingerprint import fingerprint, fingerprint_parts

    task_file = person_task(tmp_path)
    schema = json.loads((tmp_path / "person.schema.json").read_text())
    schema["description"] = "broken text \ud800 from a JSON escape"  # legal JSON, not encodable UTF-8
    (tmp_path / "person.schema.json").write_text(json.dumps(schema))
    assert len(fingerprint(fingerprint_parts(load_task(task_file)))) == 16


def test_the_schema_part_is_its_content_not_its_key_order(tmp_path):
    from formtune.dataset.fingerprint import fingerprint_parts

    task_file = person_task(tmp_path)
    before = fingerprint_parts(load_task(task_file))
    schema = json.loads((tmp_path / "person.schema.json").read_text())
    (tmp_path / "person.schema.json").write_text(json.dumps(dict(reversed(list(schema.items())))))
    assert fingerprint_parts(load_task(task_file)) == before


def test_a_local_plugin_file_is_named_by_its_content(tmp_path):
    from formtune.dataset.fingerprint import describe_changes, fingerprint_parts
    from formtune.plugins import build_registry

    plugin = tmp_path / "acme.py"
    plugin.write_text("from formtune import hookimpl\n"
                      "class Check:\n    name = 'acme-check'\n    formats = ()\n"
                      "    def validate(self, value, task):\n        return []\n"
                      "@hookimpl\ndef register_validators(register):\n    register(Check())\n")
    task_file = person_task(tmp_path, PERSON_TASK.replace("examples:", "validators: [json-schema, acme-check]\nexamples:"))
    before = fingerprint_parts(load_task(task_file, build_registry([plugin])))
    assert re.fullmatch(r"json-schema \(formtune [^)]+\), acme-check \(acme\.py sha256:[0-9a-f]{16}\)",
                        before["validators"])
    plugin.write_text(plugin.read_text() + "# a change\n")
    after = fingerprint_parts(load_task(task_file, build_registry([plugin])))
    assert describe_changes(before, after).startswith("validators json-schema (formtune ")


def test_a_schema_that_is_not_json_data_is_fingerprinted_by_its_description():
    from formtune.dataset.fingerprint import fingerprint_parts

    task = load_task(Path(__file__).parents[1] / "examples" / "invoice-xml" / "task.yaml")
    parts = fingerprint_parts(task)
    assert parts["format"].startswith("xml (formtune ") and parts["schema"].startswith("sha256:")


def test_changed_phrases_and_sections_are_named(tmp_path):
    from formtune.dataset.fingerprint import describe_changes, fingerprint_parts

    def parts(folder, phrase, locale):
        text = PERSON_TASK.replace("examples:", f"phrases:\n  age: {{'36': [{phrase}]}}\n"
                                                f"jsonschema: {{sampler: {{locale: {locale}}}}}\nexamples:")
        return fingerprint_parts(load_task(person_task(tmp_path / folder, text)))

    base = parts("a", "thirty-six", "de_DE")
    assert describe_changes(base, parts("b", "thirty six", "de_DE")) == "phrases changed"
    assert describe_changes(base, parts("c", "thirty-six", "fr_FR")) == "section 'jsonschema' changed"


def test_changed_shares_of_layouts_and_absent_fields_are_named(tmp_path):
    from formtune.dataset.fingerprint import describe_changes, fingerprint_parts

    def parts(folder, layouts, absent):
        text = PERSON_TASK.replace(DATA_BLOCK, DATA_BLOCK + f"  layouts: {layouts}\n  absent: {absent}\n")
        return fingerprint_parts(load_task(person_task(tmp_path / folder, text)))

    assert describe_changes(parts("a", 0.2, 0.3), parts("b", 0.25, 0.4)) == "data.layouts 0.2 → 0.25; data.absent 0.3 → 0.4"


def test_reordered_keys_in_the_task_file_leave_the_fingerprint_alone(tmp_path):
    """Key order carries no meaning in YAML maps: reordering the examples' outputs, the phrases and
    a plugin's section must not invalidate a dataset (nor does the order the parts are listed in)."""
    from formtune.dataset.fingerprint import fingerprint, fingerprint_parts

    def task_text(output, phrases, section):
        return PERSON_TASK.replace(EXAMPLE, f"output: {output}").replace(
            "examples:", f"phrases: {phrases}\njsonschema: {section}\nexamples:")

    before = fingerprint_parts(load_task(person_task(tmp_path / "a", task_text(
        "{name: Ada Lovelace, email: ada@example.org, age: 36}",
        "{age: {'36': [thirty-six]}, name: {Ada: [Ada L.]}}",
        "{sampler: {locale: de_DE, fields: {name: name}}}"))))
    after = fingerprint_parts(load_task(person_task(tmp_path / "b", task_text(
        "{age: 36, email: ada@example.org, name: Ada Lovelace}",
        "{name: {Ada: [Ada L.]}, age: {'36': [thirty-six]}}",
        "{sampler: {fields: {name: name}, locale: de_DE}}"))))
    assert after == before
    assert fingerprint(dict(reversed(list(before.items())))) == fingerprint(before)


def test_a_task_without_templates_names_none(tmp_path):
    from formtune.dataset.fingerprint import fingerprint_parts

    text = PERSON_TASK[:PERSON_TASK.index("templates:")] + PERSON_TASK[PERSON_TASK.index("examples:"):]
    parts = fingerprint_parts(load_task(person_task(tmp_path, text.replace("  holdout_templates: [card]\n", ""))))
    assert parts["templates"] == "none" and parts["data.holdout_templates"] == "none"
    assert not any(key.startswith("template ") for key in parts)


def test_lists_in_the_fingerprint_read_as_lists(tmp_path):
    """Several held-out templates and augmenters are named one by one, so a change says which."""
    from formtune.dataset.fingerprint import fingerprint_parts

    text = PERSON_TASK.replace("examples:", "  - {name: note, text: 'Note: {{ output.name }} <{{ output.email }}>'}\nexamples:") \
        .replace("holdout_templates: [card]", "holdout_templates: [card, note]\n  augment: {typos: 0.1, casing: 0.2}")
    parts = fingerprint_parts(load_task(person_task(tmp_path, text)))
    assert parts["templates"] == "intro, card, note" and parts["data.holdout_templates"] == "card, note"
    assert re.fullmatch(r"typos \(formtune [^)]+\): 0\.1, casing \(formtune [^)]+\): 0\.2", parts["data.augment"])


def test_an_example_with_a_yaml_date_has_a_fingerprint(tmp_path):
    """YAML reads an unquoted date as a date object, which JSON cannot hold as such."""
    from formtune.dataset.fingerprint import describe_changes, fingerprint_parts

    def parts(folder, born):
        text = PERSON_TASK.replace(EXAMPLE, EXAMPLE.replace("age: 36", f"age: 36, born: {born}"))
        return fingerprint_parts(load_task(person_task(tmp_path / folder, text)))

    assert describe_changes(parts("a", "1815-12-10"), parts("b", "1815-12-11")) == "examples changed"


def test_a_plugin_section_holding_yaml_dates_has_a_fingerprint():
    from formtune.dataset.fingerprint import fingerprint_parts

    task = load_task(Path(__file__).parents[1] / "examples" / "refund-rules" / "task.yaml")  # facts bounded by dates
    assert fingerprint_parts(task)["section 'rules'"].startswith("sha256:")


def test_a_local_plugin_file_in_another_encoding_has_a_fingerprint(tmp_path):
    """Python imports a file that declares its encoding; its fingerprint must not need UTF-8."""
    from formtune.dataset.fingerprint import fingerprint_parts
    from formtune.plugins import build_registry

    plugin = tmp_path / "acme.py"
    plugin.write_bytes("# -*- coding: latin-1 -*-\n# caf\xe9\n".encode("latin-1") +
                       b"from formtune import hookimpl\nclass Check:\n    name = 'acme-check'\n    formats = ()\n"
                       b"    def validate(self, value, task):\n        return []\n"
                       b"@hookimpl\ndef register_validators(register):\n    register(Check())\n")
    task_file = person_task(tmp_path, PERSON_TASK.replace("examples:", "validators: [json-schema, acme-check]\nexamples:"))
    parts = fingerprint_parts(load_task(task_file, build_registry([plugin])))
    assert re.search(r"acme-check \(acme\.py sha256:[0-9a-f]{16}\)$", parts["validators"])
