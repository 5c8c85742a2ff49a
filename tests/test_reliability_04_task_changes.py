"""Case 4: a folder holds the rows of one version of its task. A change that shapes the data is
named and refused until ``--rebuild``; rows are never mixed; lowering ``train:`` gives exactly the
requested rows, the ones a fresh build makes."""

from __future__ import annotations

import json

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
