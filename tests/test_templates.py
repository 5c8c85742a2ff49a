"""Input templates: ``file:`` templates beside the task, shared macros, and the seeded helpers
``pick`` and ``chance``."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import jinja2
import pytest

from formtune.dataset import build_dataset, read_rows
from formtune.errors import TaskError
from formtune.task import load_task
from formtune.templates import compile_template

DATA = Path(__file__).parent / "data"


def render(text: str, folder: Path, seeds=range(2000), output=None) -> list[str]:
    template = compile_template(text, "test", folder)
    return [template.render(output or {}, random.Random(seed)) for seed in seeds]


def test_chance_is_true_with_its_probability(tmp_path):
    assert set(render("{{ chance(0) }}", tmp_path)) == {"False"}
    assert set(render("{{ chance(1) }}", tmp_path)) == {"True"}
    share = render("{{ chance(0.25) }}", tmp_path).count("True") / 2000
    assert 0.22 < share < 0.28
    # Seeded: the same random stream gives the same answers.
    assert render("{{ chance(0.5) }}", tmp_path) == render("{{ chance(0.5) }}", tmp_path)


def test_pick_takes_arguments_or_one_list_and_uses_every_option(tmp_path):
    assert Counter(render("{{ pick('a', 'b', 'c') }}", tmp_path)).keys() == {"a", "b", "c"}
    assert Counter(render("{{ pick(['a', 'b']) }}", tmp_path)).keys() == {"a", "b"}
    assert set(render("{{ pick(output.names) }}", tmp_path, output={"names": ["x", "y"]})) == {"x", "y"}
    picks = Counter(render("{{ pick('a', 'b') }}", tmp_path))
    assert 900 < picks["a"] < 1100


def test_undefined_names_are_errors(tmp_path):
    template = compile_template("{{ output.missing }}", "test", tmp_path)
    with pytest.raises((jinja2.UndefinedError, TaskError), match="has no attribute 'missing'"):
        template.render({}, random.Random(0))
    assert render("{% if output.age is defined %}{{ output.age }}{% else %}none{% endif %}", tmp_path,
                  seeds=[0], output={}) == ["none"]


TASK = """\
name: files
schema: person.schema.json
instructions: Extract the person as JSON.
templates:
  - {name: intro, text: "{{ pick('Hi', 'Hello') }}, I'm {{ output.name }}. Mail: {{ output.email }}"}
  - {name: signature, file: templates/signature.j2}
data: {train: 20, eval: 30, holdout_templates: [signature]}
"""
SIGNATURE = """\
{% import "phrases.j2" as phrases with context %}
{{ phrases.closing() }} {{ output.name }} <{{ output.email }}>{% if chance(0.5) %} (sent from my phone){% endif %}
"""
PHRASES = """{% macro closing() %}{{ pick('Best,', 'Cheers,', 'Regards,') }}{% endmacro %}"""


@pytest.fixture
def task_dir(tmp_path) -> Path:
    (tmp_path / "person.schema.json").write_text((DATA / "person.schema.json").read_text())
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "signature.j2").write_text(SIGNATURE)
    (tmp_path / "phrases.j2").write_text(PHRASES)  # imports resolve beside the task file
    (tmp_path / "task.yaml").write_text(TASK)
    return tmp_path


def test_a_file_template_writes_inputs_with_shared_macros_and_helpers(task_dir):
    task = load_task(task_dir / "task.yaml")
    build_dataset(task, task_dir / "data", progress=False)
    rows = read_rows(task_dir / "data" / "eval.jsonl")
    assert len(rows) == 30 and {r["provenance"]["template"] for r in rows} == {"signature"}
    for row in rows:
        closing, rest = row["input"].split(" ", 1)
        assert closing in ("Best,", "Cheers,", "Regards,")
        assert rest.removesuffix(" (sent from my phone)") == f"{row['output']['name']} <{row['output']['email']}>"
    # Both branches of chance(0.5) and every pick() show up in 30 examples.
    assert {r["input"].endswith("(sent from my phone)") for r in rows} == {True, False}
    assert {r["input"].split(" ", 1)[0] for r in rows} == {"Best,", "Cheers,", "Regards,"}
    assert all(r["provenance"]["template"] == "intro" for r in read_rows(task_dir / "data" / "train.jsonl")
               if r["provenance"]["source"] == "synthetic")


def test_the_same_seed_writes_the_same_inputs(task_dir):
    task = load_task(task_dir / "task.yaml")
    build_dataset(task, task_dir / "a", progress=False)
    build_dataset(task, task_dir / "b", progress=False)
    assert (task_dir / "a" / "eval.jsonl").read_text() == (task_dir / "b" / "eval.jsonl").read_text()
    (task_dir / "task.yaml").write_text(TASK.replace("eval: 30", "eval: 30, seed: 1"))
    build_dataset(load_task(task_dir / "task.yaml"), task_dir / "c", progress=False)
    assert [r["input"] for r in read_rows(task_dir / "c" / "eval.jsonl")] != \
           [r["input"] for r in read_rows(task_dir / "a" / "eval.jsonl")]


def test_a_missing_template_file_is_named(task_dir):
    (task_dir / "templates" / "signature.j2").unlink()
    with pytest.raises(TaskError) as err:
        load_task(task_dir / "task.yaml").templates
    assert str(err.value).startswith(f"{task_dir / 'task.yaml'}: templates[signature].file: "
                                     f"{task_dir / 'templates' / 'signature.j2'} cannot be read")


def test_a_syntax_error_in_a_template_file_names_the_file_and_line(task_dir):
    (task_dir / "templates" / "signature.j2").write_text("line one\n{{ output.name }\n")
    with pytest.raises(TaskError) as err:
        load_task(task_dir / "task.yaml").templates
    assert str(err.value).startswith(f"{task_dir / 'templates' / 'signature.j2'}, line 2: template syntax error")
