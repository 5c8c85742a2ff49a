"""Task files: what a model should learn to emit, declared in YAML.

Pydantic models here are the source of truth; ``schemas/task.schema.json`` is generated from
:class:`TaskSpec` (``formtune schema``) and a test fails when it is stale. Example::

    name: support-ticket
    format: json
    schema: ticket.schema.json        # a JSON Schema file, an inline schema, or "pkg.module:Model"
    instructions: Extract the support ticket as JSON.
    templates:                        # Jinja2: a sampled output becomes a natural input text
      - name: email
        text: "Hi, this is {{ output.customer.name }} ..."
    data: {train: 300, eval: 60, holdout_templates: [email]}
"""

from __future__ import annotations

import importlib
import json
import re
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from formtune.errors import SchemaError, TaskError

_MODEL_REF = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


class Template(BaseModel):
    """A Jinja2 template that writes an input text from a sampled ``output``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Unique name; used to hold whole templates out for evaluation.")
    text: str | None = Field(None, description="The template itself.")
    file: str | None = Field(None, description="Or a file holding it, relative to the task file.")


class Example(BaseModel):
    """A hand-written example: an input and the exact output expected for it."""

    model_config = ConfigDict(extra="forbid")

    input: str
    output: Any


class DataSpec(BaseModel):
    """How the training and evaluation data are made."""

    model_config = ConfigDict(extra="forbid")

    generator: str = Field("schema-sampler", description="Name of a registered data generator.")
    train: int = Field(300, ge=1, description="Number of training examples to make.")
    eval: int = Field(60, ge=0, description="Number of held-out evaluation examples to make.")
    seed: int = Field(0, description="Seed of every random choice; the same seed gives the same data.")
    holdout_templates: list[str] = Field(
        default_factory=list,
        description="Templates used only for evaluation, so the score measures unseen wordings.",
    )


class TaskSpec(BaseModel):
    """A formtune task file."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9][\w.-]*$", description="Short identifier, used in folder names.")
    format: str = Field("json", description="Name of a registered output format.")
    schema_: str | dict[str, Any] | bool = Field(
        alias="schema",
        description="Output schema: a JSON Schema file (relative to the task file), an inline "
        "JSON Schema, or a pydantic model as 'package.module:Class'.",
    )
    instructions: str = Field(description="The short instruction the tuned model is prompted with.")
    lenient: bool = Field(False, description="Also extract outputs from code fences or prose; "
                          "such successes are counted apart, never as valid.")
    templates: list[Template] = Field(default_factory=list)
    examples: list[Example] = Field(default_factory=list)
    data: DataSpec = Field(default_factory=DataSpec)
    training: dict[str, Any] = Field(
        default_factory=dict,
        description="Trainer settings for this task (fields of formtune.train.TrainConfig, e.g. epochs, "
        "learning_rate, batch_size); command-line options override them.",
    )

    @field_validator("templates")
    @classmethod
    def _unique_templates(cls, templates: list[Template]) -> list[Template]:
        names = [t.name for t in templates]
        if dupes := sorted({n for n in names if names.count(n) > 1}):
            raise ValueError(f"template names must be unique; repeated: {', '.join(dupes)}")
        for t in templates:
            if (t.text is None) == (t.file is None):
                raise ValueError(f"template {t.name!r} needs exactly one of 'text' or 'file'")
        return templates


class Task:
    """A loaded task: the spec plus everything resolved from it (schema, templates)."""

    def __init__(self, spec: TaskSpec, base_dir: Path, source: Path | None = None) -> None:
        self.spec = spec
        self.base_dir = base_dir
        self.source = source
        unknown = set(spec.data.holdout_templates) - {t.name for t in spec.templates}
        if unknown:
            raise self._error("data.holdout_templates", f"unknown template(s) {sorted(unknown)}; "
                              "name templates declared under 'templates'")

    @classmethod
    def from_schema(cls, schema: Path, format: str = "json", lenient: bool = False) -> Task:
        """An ad-hoc task around a schema file, for validating or sampling without a task file."""
        spec = TaskSpec.model_validate({"name": "adhoc", "format": format, "schema": str(schema.resolve()),
                                        "instructions": "", "lenient": lenient})
        task = cls(spec, base_dir=schema.resolve().parent, source=schema)
        task.schema_validator  # fail now, as a SchemaError, if the schema is unusable
        return task

    @property
    def name(self) -> str:
        return self.spec.name

    def _error(self, field: str, message: str) -> TaskError:
        where = f"{self.source}: " if self.source else ""
        return TaskError(f"{where}{field}: {message}")

    @cached_property
    def schema(self) -> dict[str, Any] | bool:
        """The output JSON Schema, from a file, inline, or a pydantic model."""
        ref = self.spec.schema_
        if not isinstance(ref, str):
            return ref
        path = self.base_dir / ref
        if path.is_file():
            from formtune.schema.compile import load_schema_file

            try:
                return load_schema_file(path)
            except SchemaError as exc:
                raise self._error("schema", str(exc)) from None
        if _MODEL_REF.match(ref):
            return _pydantic_schema(ref, self)
        raise self._error("schema", f"{path} does not exist; give a JSON Schema file relative to "
                          "the task file, an inline schema, or a pydantic model as 'module:Class'")

    @cached_property
    def schema_validator(self) -> Any:
        """The compiled, offline JSON Schema validator of :attr:`schema`."""
        from formtune.schema.compile import compile_schema

        try:
            return compile_schema(self.schema, base_dir=self.base_dir)
        except SchemaError as exc:
            raise SchemaError(f"{self.source or self.name}: {exc}") from None

    @cached_property
    def templates(self) -> dict[str, Any]:
        """Compiled Jinja2 templates by name (syntax errors name the template and line)."""
        from formtune.templates import compile_template

        compiled = {}
        for t in self.spec.templates:
            if t.file is not None:
                path = self.base_dir / t.file
                try:
                    text = path.read_text(encoding="utf-8")
                except OSError:
                    raise self._error(f"templates[{t.name}].file", f"{path} cannot be read") from None
                origin = str(path)
            else:
                text, origin = t.text or "", f"{self.source or 'task'} template {t.name!r}"
            compiled[t.name] = compile_template(text, origin, self.base_dir)
        return compiled


def _pydantic_schema(ref: str, task: Task) -> dict[str, Any]:
    module_name, _, attr = ref.partition(":")
    import sys

    # The task's folder is importable, so a model can live next to the task file.
    if str(task.base_dir) not in sys.path:
        sys.path.insert(0, str(task.base_dir))
    try:
        model = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise task._error("schema", f"cannot import pydantic model {ref!r}: {exc}") from None
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise task._error("schema", f"{ref!r} is not a pydantic model class")
    return model.model_json_schema()


def _line_of(node: yaml.Node | None, location: tuple[Any, ...]) -> int | None:
    """The 1-based line of the YAML node at ``location`` (or of its nearest parent)."""
    line = node.start_mark.line + 1 if node is not None else None
    for key in location:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == key), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            node = None
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


def load_task(path: str | Path) -> Task:
    """Read and check a task file; every mistake is one :class:`TaskError` line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TaskError(f"{path}: cannot read task file ({exc.strerror})") from None
    try:
        node = yaml.compose(text)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise TaskError(f"{path}{line}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(raw, dict):
        raise TaskError(f"{path}: a task file is a YAML mapping with at least name, schema and instructions")
    try:
        spec = TaskSpec.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        location = tuple(err["loc"])
        field = ".".join(str(p) for p in location) or "(top level)"
        line = _line_of(node, location)
        hint = {
            "missing": "add it",
            "extra_forbidden": "remove it or check its spelling",
        }.get(err["type"], "fix its value")
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise TaskError(f"{path}:{line}: field '{field}': {err['msg']}; {hint}{more}") from None
    task = Task(spec, base_dir=path.resolve().parent, source=path)
    return task


def task_json_schema() -> dict[str, Any]:
    """The JSON Schema of task files, as written to ``schemas/task.schema.json``."""
    schema = TaskSpec.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://formtune.dev/schemas/task.schema.json"
    return schema


def dump_task_json_schema() -> str:
    return json.dumps(task_json_schema(), indent=2, sort_keys=True) + "\n"
