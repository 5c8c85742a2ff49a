"""Task files: loading, and one clear line for every kind of mistake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import ROOT, run_formtune
from formtune.errors import TaskError, UsageError
from formtune.plugins import build_registry
from formtune.task import dump_task_json_schema, load_task, task_json_schema

DATA = Path(__file__).parent / "data"


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "person.schema.json").write_text((DATA / "person.schema.json").read_text())
    path = tmp_path / "task.yaml"
    path.write_text(text)
    return path


def test_loads_the_example_task():
    task = load_task(DATA / "person.task.yaml")
    assert task.name == "person" and task.schema["required"] == ["name", "email"]
    assert set(task.templates) == {"intro", "card"}


def test_unknown_field_names_file_line_and_fix(tmp_path):
    path = write(tmp_path, "name: x\nschema: person.schema.json\ninstructions: hi\ntemplate: []\n")
    with pytest.raises(TaskError) as err:
        load_task(path)
    # The builtin plugins' sections (xml) may follow in parentheses.
    assert str(err.value).startswith(f"{path}:4: field 'template': not a task field or a plugin section; "
                                     "remove it or check its spelling")


def test_missing_and_wrongly_typed_fields(tmp_path):
    with pytest.raises(TaskError, match=r"field 'instructions': Field required; add it"):
        load_task(write(tmp_path, "name: x\nschema: person.schema.json\n"))
    with pytest.raises(TaskError, match=r"task.yaml:5: field 'data.train'"):
        load_task(write(tmp_path, "name: x\nschema: person.schema.json\ninstructions: hi\ndata:\n  train: lots\n"))


def test_bad_yaml_names_the_line(tmp_path):
    with pytest.raises(TaskError, match=r"task.yaml:2: not valid YAML"):
        load_task(write(tmp_path, "name: x\n  bad: [\n"))


def test_missing_schema_file_and_bad_schema(tmp_path):
    task = load_task(write(tmp_path, "name: x\nschema: nope.json\ninstructions: hi\n"))
    with pytest.raises(TaskError, match=r"task.yaml: schema: .*nope.json does not exist"):
        task.schema
    (tmp_path / "bad.json").write_text('{"type": 12}')
    task = load_task(write(tmp_path, "name: x\nschema: bad.json\ninstructions: hi\n"))
    with pytest.raises(TaskError, match=r"task.yaml: schema: invalid schema at /type"):
        task.check()


def test_template_syntax_error_names_the_template_and_line(tmp_path):
    task = load_task(write(tmp_path, "name: x\nschema: person.schema.json\ninstructions: hi\n"
                                     "templates:\n  - name: t\n    text: \"{{ output.name \"\n"))
    with pytest.raises(TaskError, match=r"template 't', line 1: template syntax error"):
        task.templates


def test_unknown_holdout_template(tmp_path):
    with pytest.raises(TaskError, match=r"data.holdout_templates: unknown template"):
        load_task(write(tmp_path, "name: x\nschema: person.schema.json\ninstructions: hi\n"
                                  "data: {holdout_templates: [nope]}\n"))


def test_pydantic_model_as_schema(tmp_path):
    (tmp_path / "models_x.py").write_text(
        "from pydantic import BaseModel\nclass Item(BaseModel):\n    sku: str\n    qty: int\n")
    task = load_task(write(tmp_path, "name: x\nschema: models_x:Item\ninstructions: hi\n"))
    assert task.schema["required"] == ["sku", "qty"]


def test_cli_prints_one_error_line_without_traceback(tmp_path):
    path = write(tmp_path, "name: x\nschema: person.schema.json\n")
    result = run_formtune("generate", str(path))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"ERROR: {path}:1: field 'instructions': Field required; add it"]


def test_task_schema_file_is_up_to_date():
    committed = (ROOT / "schemas" / "task.schema.json").read_text()
    assert committed == dump_task_json_schema(), "run: formtune schema > schemas/task.schema.json"
    assert json.loads(committed)["properties"]["schema"]


def test_training_settings_come_from_the_task_and_options_override_them(tmp_path):
    from formtune.runs import train_config

    task = load_task(write(tmp_path, "name: x\nschema: person.schema.json\ninstructions: hi\n"
                                     "training: {epochs: 2, learning_rate: 0.001}\n"))
    config = train_config(task, {"epochs": 1})
    assert (config.epochs, config.learning_rate) == (1, 0.001)
    with pytest.raises(TaskError, match=r"task.yaml:5: field 'training.epoch': Extra inputs are not permitted"):
        load_task(write(tmp_path, "name: x\nschema: person.schema.json\ninstructions: hi\ntraining:\n  epoch: 2\n"))
    with pytest.raises(UsageError, match=r"option epochs: Input should be greater than 0"):
        train_config(task, {"epochs": 0})


OPTIONS_PLUGIN = """
from pydantic import BaseModel, ConfigDict
from formtune import hookimpl, TaskOptions

class Acme(BaseModel):
    model_config = ConfigDict(extra="forbid")
    level: int = 1
    tags: list[str] = []

@hookimpl
def register_task_options(register):
    register(TaskOptions("acme", Acme, "acme settings"))
"""


def test_plugin_sections_are_checked_by_the_plugins_model(tmp_path):
    plugin = tmp_path / "acme_options.py"
    plugin.write_text(OPTIONS_PLUGIN)
    registry = build_registry([plugin])
    head = "name: x\nschema: person.schema.json\ninstructions: hi\n"
    task = load_task(write(tmp_path, head + "acme:\n  level: 3\n"), registry)
    assert task.options("acme").level == 3 and task.options("acme").tags == []
    assert load_task(write(tmp_path, head), registry).options("acme").level == 1  # defaults when absent
    with pytest.raises(TaskError, match=r"task.yaml:6: field 'acme.tags.0': Input should be a valid string"):
        load_task(write(tmp_path, head + "acme:\n  level: 3\n  tags: [7]\n"), registry)
    with pytest.raises(TaskError, match=r"task.yaml:5: field 'acme.levl': Extra inputs are not permitted"):
        load_task(write(tmp_path, head + "acme:\n  levl: 3\n"), registry)
    # Without the plugin, the section is an unknown field.
    with pytest.raises(TaskError, match=r"task.yaml:4: field 'acme': not a task field or a plugin section"):
        load_task(write(tmp_path, head + "acme:\n  level: 3\n"))
    assert task_json_schema(registry)["properties"]["acme"]["description"] == "acme settings"


def test_validators_default_to_the_formats_and_are_checked(tmp_path):
    head = "name: x\nschema: person.schema.json\ninstructions: hi\n"
    assert [v.name for v in load_task(write(tmp_path, head)).validators] == ["json-schema"]
    assert load_task(write(tmp_path, head + "validators: []\n")).validators == []
    with pytest.raises(TaskError, match=r"validators: no validator named 'nope' \(available: json-schema"):
        load_task(write(tmp_path, head + "validators: [nope]\n")).check()
    with pytest.raises(TaskError, match=r"format: no format named 'yml'"):
        load_task(write(tmp_path, head + "format: yml\n")).check()
