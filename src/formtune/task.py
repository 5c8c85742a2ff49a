"""Task files: what a model should learn to emit, declared in YAML.

Pydantic models here are the source of truth; ``schemas/task.schema.json`` is generated from
:class:`TaskSpec` and the plugins' sections (``formtune schema``), and a test fails when it is
stale. The core knows no format: the task's ``format`` (a plugin) loads its schema, names its
default validators and generator, and plugins read their own sections. Example::

    name: support-ticket
    format: json
    schema: ticket.schema.json        # in the format's schema language: a file, inline, or "pkg.module:Model"
    instructions: Extract the support ticket as JSON.
    templates:                        # Jinja2: a sampled output becomes a natural input text
      - name: email
        text: "Hi, this is {{ output.customer.name }} ..."
    data: {train: 300, eval: 60, holdout_templates: [email]}
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from formtune.errors import PluginError, SchemaError, TaskError
from formtune.limits import MAX_TASK_FILE_BYTES, TooLarge, read_capped
from formtune.plugins import Registry, get_registry
from formtune.train_config import TrainConfig

if TYPE_CHECKING:
    from formtune.contrib import Format, Generator, Validator

#: Task names become folder names: letters, digits, '.', '_' and '-', starting with a letter or digit.
NAME_PATTERN = r"^[A-Za-z0-9][\w.-]*$"


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

    generator: str | None = Field(None, description="Name of a registered data generator (default: the format's).")
    train: int = Field(300, ge=1, description="Number of training examples to make.")
    eval: int = Field(60, ge=0, description="Number of held-out evaluation examples to make.")
    seed: int = Field(0, description="Seed of every random choice; the same seed gives the same data.")
    holdout_templates: list[str] = Field(
        default_factory=list,
        description="Templates used only for evaluation, so the score measures unseen wordings.",
    )
    augment: dict[str, Annotated[float, Field(ge=0, le=1)]] = Field(
        default_factory=dict,
        description="Augmenters applied to training inputs, in this order, each with the chance that it "
        "applies: {greeting: 0.3, typos: 0.15}. They never change an answer (`formtune plugins` lists them).")
    layouts: float = Field(
        0.0, ge=0, le=1,
        description="Share of training inputs written from the schema alone (key-value lists, tables, prose) "
        "instead of by a template. A task without templates gets every input this way.")
    absent: float = Field(
        0.0, ge=0, le=1,
        description="Chance that each optional field is left out of a training answer, so that absent fields "
        "are common.")


class TaskSpec(BaseModel):
    """A formtune task file. Keys beyond these are plugin sections (``TaskOptions``)."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(pattern=NAME_PATTERN, description="Short identifier, used in folder names.")
    format: str = Field("json", description="Name of a registered output format.")
    schema_: str | dict[str, Any] | bool = Field(
        alias="schema",
        description="Output schema in the format's schema language: a file (relative to the task "
        "file), an inline schema, or a pydantic model as 'package.module:Class'.",
    )
    instructions: str = Field(description="The short instruction the tuned model is prompted with.")
    lenient: bool = Field(False, description="Also extract outputs from code fences or prose; "
                          "such successes are counted apart, never as valid.")
    validators: list[str] | None = Field(
        None, description="Validators every output must pass (default: those of the format).")
    templates: list[Template] = Field(default_factory=list)
    phrases: dict[str, dict[str, list[str]]] = Field(
        default_factory=dict,
        description="Words for field values, used by templates through fmt.say(field, value): "
        "{priority: {high: [urgent, ASAP]}, refund_requested: {'true': [please refund me]}}.")
    examples: list[Example] = Field(default_factory=list)
    data: DataSpec = Field(default_factory=DataSpec)
    training: TrainConfig = Field(
        default_factory=TrainConfig,
        description="Trainer settings for this task; command-line options override them.",
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
    """A loaded task: the spec plus everything resolved from it through the plugins.

    Plugins read what they need from here: :attr:`format`, :attr:`schema` (in the format's schema
    language), :attr:`validators`, :attr:`generator`, :meth:`options` (their own task-file
    section), :attr:`templates`, :attr:`base_dir`, and :meth:`memo` to cache compiled things.
    """

    def __init__(self, spec: TaskSpec, base_dir: Path, source: Path | None = None,
                 registry: Registry | None = None) -> None:
        self.spec = spec
        self.base_dir = base_dir
        self.source = source
        self._registry = registry
        self._memo: dict[Any, Any] = {}
        names = [t.name for t in spec.templates]
        unknown = set(spec.data.holdout_templates) - set(names)
        if unknown:
            raise self._error("data.holdout_templates", f"unknown template(s) {sorted(unknown)}; "
                              "name templates declared under 'templates'")
        if names and set(names) <= set(spec.data.holdout_templates):
            raise self._error("data.holdout_templates", "every template is held out, so nothing is left to "
                              "write training inputs; keep at least one template for training")

    @classmethod
    def from_schema(cls, schema: Path, format: str = "json", lenient: bool = False,
                    validators: list[str] | None = None) -> Task:
        """An ad-hoc task around a schema file, for validating or sampling without a task file."""
        spec = TaskSpec.model_validate({"name": "adhoc", "format": format, "schema": str(schema.resolve()),
                                        "instructions": "", "lenient": lenient, "validators": validators})
        task = cls(spec, base_dir=schema.resolve().parent, source=schema)
        task.check()
        return task

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def registry(self) -> Registry:
        return self._registry or get_registry()

    def _error(self, field: str, message: str) -> TaskError:
        where = f"{self.source}: " if self.source else ""
        return TaskError(f"{where}{field}: {message}")

    def where(self, *location: str | int) -> str:
        """``file:line`` of a key of the task file, such as ``where("data", "augment", "typo")``,
        for mistakes found after loading (a plugin checking its section against the schema)."""
        if self.source is None:
            return self.name
        try:
            node = yaml.compose(Path(self.source).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            return str(self.source)
        line = _line_of(node, location)
        return f"{self.source}:{line}" if line else str(self.source)

    def check(self) -> Task:
        """Resolve the format, schema, validators and generator now, so a mistake stops the work
        before it starts (each is a one-line error naming the task file)."""
        self.format, self.schema, self.validators, self.generator  # noqa: B018
        return self

    def memo(self, key: Any, make: Callable[[], Any]) -> Any:
        """``make()`` once per task and ``key``: plugins cache compiled schemas and the like here."""
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]

    @cached_property
    def format(self) -> Format:
        """The task's output format, configured for this task (``Format.for_task``)."""
        try:
            return self.registry.get("formats", self.spec.format).for_task(self)
        except PluginError as exc:
            raise self._error("format", str(exc)) from None

    @cached_property
    def schema(self) -> Any:
        """The output schema, loaded by the format (a JSON Schema unless the format says otherwise)."""
        try:
            return self.format.load_schema(self.spec.schema_, self)
        except SchemaError as exc:
            raise self._error("schema", str(exc)) from None

    @cached_property
    def validators(self) -> list[Validator]:
        """The validators every output must pass: the task's ``validators:`` or its format's."""
        names = self.spec.validators if self.spec.validators is not None else self.format.default_validators
        chosen = []
        for name in names:
            try:
                validator = self.registry.get("validators", name)
            except PluginError as exc:
                raise self._error("validators", str(exc)) from None
            if validator.formats and self.spec.format not in validator.formats:
                raise self._error("validators", f"validator {name!r} checks {', '.join(validator.formats)} "
                                  f"outputs, not {self.spec.format}")
            chosen.append(validator)
        return chosen

    @cached_property
    def generator(self) -> Generator:
        """The data generator: ``data.generator`` or the format's default."""
        name = self.spec.data.generator or self.format.default_generator
        try:
            return self.registry.get("generators", name)
        except PluginError as exc:
            raise self._error("data.generator", str(exc)) from None

    def options(self, section: str) -> Any:
        """A plugin's task-file section, checked by its model (its defaults when absent)."""
        model = self.registry.get("task_options", section).model
        raw = (self.spec.model_extra or {}).get(section) or {}
        try:
            return self.memo(("options", section), lambda: model.model_validate(raw))
        except ValidationError as exc:
            raise self._error(section, _first_error(exc)[1]) from None

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
                except (OSError, UnicodeDecodeError) as exc:
                    raise self._error(f"templates[{t.name}].file", f"{path} cannot be read ({exc})") from None
                origin = str(path)
            else:
                text, origin = t.text or "", f"{self.source or 'task'} template {t.name!r}"
            compiled[t.name] = compile_template(text, origin, self.base_dir, self.spec.phrases)
        return compiled


def _line_of(node: yaml.Node | None, location: tuple[Any, ...]) -> int | None:
    """The 1-based line of the YAML key or item at ``location`` (or of its nearest parent)."""
    line = node.start_mark.line + 1 if node is not None else None
    for key in location:
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if k.value == key), None)
            if pair is None:
                break
            line, node = pair[0].start_mark.line + 1, pair[1]  # the key's line: where the name is written
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _first_error(exc: ValidationError, prefix: tuple[Any, ...] = ()) -> tuple[tuple[Any, ...], str]:
    """The location of a pydantic error and one line saying what is wrong and what to do."""
    err = exc.errors()[0]
    location = (*prefix, *err["loc"])
    field = ".".join(str(p) for p in location) or "(top level)"
    hint = {"missing": "add it", "extra_forbidden": "remove it or check its spelling"}.get(err["type"], "fix its value")
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return location, f"field '{field}': {err['msg']}; {hint}{more}"


def _parse_spec(raw: dict[str, Any], registry: Registry) -> TaskSpec:
    """Validate the core fields, then each plugin section with its own model (a :class:`_SpecError`
    carries where the first mistake is and what it is)."""
    try:
        spec = TaskSpec.model_validate(raw)
    except ValidationError as exc:
        raise _SpecError(*_first_error(exc)) from None
    sections = registry.task_options
    for key, value in (spec.model_extra or {}).items():
        if key not in sections:
            known = f" (plugin sections: {', '.join(sorted(sections))})" if sections else ""
            raise _SpecError((key,), f"field '{key}': not a task field or a plugin section; "
                             f"remove it or check its spelling{known}")
        try:
            sections[key].model.model_validate(value if value is not None else {})
        except ValidationError as exc:
            raise _SpecError(*_first_error(exc, (key,))) from None
    return spec


class _SpecError(Exception):
    def __init__(self, location: tuple[Any, ...], message: str) -> None:
        super().__init__(message)
        self.location, self.message = location, message


def load_task(path: str | Path, registry: Registry | None = None) -> Task:
    """Read and check a task file; every mistake is one :class:`TaskError` line."""
    path = Path(path)
    try:
        text = read_capped(path, MAX_TASK_FILE_BYTES)
    except OSError as exc:
        raise TaskError(f"{path}: cannot read task file ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise TaskError(f"{path}: not UTF-8 text (byte {exc.start}); save the task file as UTF-8") from None
    except TooLarge:
        raise TaskError(f"{path}: larger than {MAX_TASK_FILE_BYTES:,} bytes, too large for a task file; keep "
                        "templates in their own files (templates[].file)") from None
    try:
        node = yaml.compose(text)
        raw = yaml.safe_load(text)
    except RecursionError:
        raise TaskError(f"{path}: nested too deeply to read") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise TaskError(f"{path}{line}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(raw, dict):
        raise TaskError(f"{path}: a task file is a YAML mapping with at least name, schema and instructions")
    registry = registry or get_registry()
    try:
        spec = _parse_spec(raw, registry)
    except _SpecError as exc:
        raise TaskError(f"{path}:{_line_of(node, exc.location)}: {exc.message}") from None
    return Task(spec, base_dir=path.resolve().parent, source=path, registry=registry)


def task_json_schema(registry: Registry | None = None) -> dict[str, Any]:
    """The JSON Schema of task files, with the sections of the loaded plugins, as written to
    ``schemas/task.schema.json``."""
    registry = registry or get_registry()
    schema = TaskSpec.model_json_schema(by_alias=True)
    for name, section in sorted(registry.task_options.items()):
        sub = section.model.model_json_schema(by_alias=True)
        for key, definition in sub.pop("$defs", {}).items():
            schema.setdefault("$defs", {})[key] = definition
        sub["description"] = section.description or sub.get("description", "")
        schema["properties"][name] = sub
    schema["additionalProperties"] = False
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://formtune.dev/schemas/task.schema.json"
    return schema


def dump_task_json_schema() -> str:
    return json.dumps(task_json_schema(), indent=2, sort_keys=True) + "\n"
