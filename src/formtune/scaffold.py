"""``formtune init``: a small working task to edit."""

from __future__ import annotations

import json
from pathlib import Path

from formtune.errors import UsageError

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
name: {name}
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


def scaffold_task(name: str, folder: Path) -> Path:
    """Write ``task.yaml`` and ``schema.json`` into ``folder``; never overwrites."""
    task_path = folder / "task.yaml"
    if task_path.exists():
        raise UsageError(f"{task_path} already exists; pick another --dir")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "schema.json").write_text(json.dumps(SCHEMA, indent=2) + "\n")
    task_path.write_text(TASK.format(name=name))
    return task_path
