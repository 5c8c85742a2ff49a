"""``formtune init``: a small working task to edit."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from formtune.errors import UsageError
from formtune.task import NAME_PATTERN

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "email": {"type": "string", "format": "email"},
        "age": {"type": "integer", "minimum": 18, "maximum": 90},
    },
    "required": ["name", "email"],
    "additionalProperties": False,
}

TASK = """\
# A formtune task. Reference: schemas/task.schema.json in the formtune repository.
name: {yaml_name}
format: json
schema: schema.json
instructions: Extract the person as JSON.
templates:
  - name: intro
    text: >-
      {{{{ pick("Hi", "Hello", "Hey") }}}}, I'm {{{{ output.name }}}}
      {{% if output.age is defined %}}and I am {{{{ output.age }}}} years old{{% endif %}}.
      Reach me at {{{{ output.email }}}}.
  - name: signature
    text: >-
      Best regards, {{{{ output.name }}}} ({{{{ output.email }}}}{{% if output.age is defined %}},
      age {{{{ output.age }}}}{{% endif %}})
data:
  train: 300
  eval: 60
  holdout_templates: [signature]
"""


def check_name(name: str) -> str:
    """``name`` when a task file can carry it and a folder can be named after it; otherwise a
    :class:`UsageError` saying what is allowed."""
    if not re.match(NAME_PATTERN, name):
        raise UsageError(f"task name {name!r} is not allowed: use letters, digits, '.', '_' and '-', starting "
                         "with a letter or digit (it names the task's folders)")
    return name


def _yaml_scalar(name: str) -> str:
    """``name`` as a YAML value that reads back as this string (``123`` or ``true`` are quoted)."""
    return name if yaml.safe_load(f"name: {name}") == {"name": name} else json.dumps(name)


def scaffold_task(name: str, folder: str | Path | None = None) -> Path:
    """Write ``task.yaml`` and ``schema.json`` into ``folder`` (default: ``./NAME``); never overwrites."""
    check_name(name)
    if folder == "":
        raise UsageError("--dir is empty; give a folder (use '.' for the current one)")
    folder = Path(name) if folder is None else Path(folder)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} is a file; give a folder with --dir")
    task_path = folder / "task.yaml"
    if task_path.exists():
        raise UsageError(f"{task_path} already exists; pick another --dir")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "schema.json").write_text(json.dumps(SCHEMA, indent=2) + "\n")
        task_path.write_text(TASK.format(yaml_name=_yaml_scalar(name)))
    except OSError as exc:
        raise UsageError(f"cannot create the task in {folder} ({exc.strerror}); give a writable folder with "
                         "--dir") from None
    return task_path
