"""Case 1: a broken schema or template is a task error (exit 2, one line), found before any work,
and a build that cannot succeed stops early with a bounded rejected.jsonl."""

from __future__ import annotations

import json

import pytest
from conftest import run_formtune
from reliability import PERSON_TASK, assert_one_error_line, invoke, person_task

from formtune.dataset import build_dataset
from formtune.errors import TaskError
from formtune.plugins import build_registry
from formtune.task import load_task


def test_a_template_using_an_undefined_field_is_exit_2_and_writes_nothing(tmp_path):
    task_file = person_task(tmp_path, PERSON_TASK.replace("I'm {{ output.name }}", "I'm {{ output.nmae }}"))
    out = invoke("generate", task_file, "--out", tmp_path / "out", "--quiet")
    assert out.code == 2 and not out.crashed
    assert_one_error_line(out.stderr, "template 'intro'", "line 1", "nmae")
    assert not (tmp_path / "out").exists()


def test_a_template_bug_on_an_optional_field_is_a_task_error_not_a_dropped_example(tmp_path):
    # Dropping every example with an age would silently teach the model that people have none.
    task_file = person_task(tmp_path, PERSON_TASK.replace(", {{ output.age }} years", ", {{ output.agee }} years"))
    with pytest.raises(TaskError, match=r"template 'intro'.*agee"):
        build_dataset(load_task(task_file), tmp_path / "out", progress=False)


def test_an_unsatisfiable_schema_is_exit_2_and_writes_nothing(tmp_path):
    task_file = tmp_path / "task.yaml"
    task_file.write_text("name: t\nschema: {type: object, properties: {name: {type: string, minLength: 5, "
                         "maxLength: 2}}, required: [name]}\ninstructions: x\n"
                         "templates: [{name: a, text: 'hi {{ output.name }}'}]\ndata: {train: 5, eval: 0}\n")
    out = invoke("generate", task_file, "--out", tmp_path / "out", "--quiet")
    assert out.code == 2 and not out.crashed
    assert_one_error_line(out.stderr, "data.generator", "minLength")
    assert not (tmp_path / "out").exists()


CYCLIC = """
from formtune import Draft, hookimpl


class Cyclic:
    name = "cyclic"

    def draft(self, task, *, seed, index):
        return Draft(output={"n": index % 50})


@hookimpl
def register_generators(register):
    register(Cyclic())
"""
LIMIT = 1000  # rejections written one per line; after that, tallies
HOPELESS = ("name: t\nschema: {type: object, properties: {n: {type: integer, minimum: 0, maximum: 60}}, "
            "required: [n], additionalProperties: false}\ninstructions: x\n"
            "templates: [{name: a, text: 'n is {{ output.n }}'}]\ndata: {train: 1000000000, eval: 0}\n")


def test_a_build_that_cannot_reach_its_target_stops_early_with_exit_2(tmp_path):
    # At most 61 inputs, a billion asked for. main wrote 410 MB in 20 s and kept going.
    (tmp_path / "task.yaml").write_text(HOPELESS)
    out = run_formtune("generate", str(tmp_path / "task.yaml"), "--out", str(tmp_path / "out"), "--quiet",
                       timeout=120)
    assert out.returncode == 2
    assert_one_error_line(out.stderr, "of 1000000000 examples", "top rejections: duplicate input")
    assert len((tmp_path / "out" / "rejected.jsonl").read_text().splitlines()) <= LIMIT


def test_rejected_jsonl_is_bounded_and_counts_every_candidate_once(tmp_path):
    (tmp_path / "cyclic.py").write_text(CYCLIC)
    (tmp_path / "task.yaml").write_text(HOPELESS.replace("train: 1000000000, eval: 0}",
                                                         "train: 1000, eval: 0, generator: cyclic}"))
    task = load_task(tmp_path / "task.yaml", build_registry([tmp_path / "cyclic.py"]))
    with pytest.raises(TaskError, match=r"train: only 50 of 1000 examples after 2001 candidates"):
        build_dataset(task, tmp_path / "out", progress=False)
    entries = [json.loads(line) for line in (tmp_path / "out" / "rejected.jsonl").read_text().splitlines()]
    individual = [e for e in entries if "index" in e]
    tallies = [e for e in entries if "index" not in e]
    assert [e["index"] for e in individual] == list(range(50, 50 + LIMIT))
    assert [(t["first"], t["last"]) for t in tallies] == [(1050, 2000)]
    assert tallies[0]["rejected"] == {"duplicate input": 951}
