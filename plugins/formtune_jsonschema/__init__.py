"""The builtin JSON Schema plugin: the ``json-schema`` validator and the ``schema-sampler``
generator, shared by every format whose values are JSON-like data (JSON, YAML, tool calls).

A task tunes the sampler in its ``jsonschema:`` section, so that values look like the task's
own data (see :mod:`formtune.schema.sampler.hints` for what a hint may be)::

    jsonschema:
      sampler:
        locale: de_DE
        fields: {supplier: company, code: "regex:[A-Z]{2}[0-9]{5}", town: city, qty: {min: 1, max: 20}}

A wrong hint (an unknown Faker provider, a field the schema lacks, a regex for a number) is one
error naming the task file, the line and the field, before any data is made.

It is registered through the ``formtune`` entry-point group like any other plugin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from formtune import hookimpl
from formtune.contrib import Draft, TaskOptions, derive_seed
from formtune.errors import SamplingError, TaskError

if TYPE_CHECKING:
    from formtune.schema.sampler import SchemaSampler
    from formtune.task import Task
    from formtune.violations import Violation

# jsonschema, Faker and rstr are imported on first use: loading plugins must stay cheap.


class SamplerOptions(BaseModel):
    """How the ``schema-sampler`` draws values for this task."""

    model_config = ConfigDict(extra="forbid")

    fields: dict[str, Any] = Field(
        default_factory=dict,
        description="What a field gets, by property name or JSON pointer ('/customer/name', '/items/*/sku'): "
        "a Faker provider name ('company', 'city'), 'regex:<pattern>', a list of values, or {min: a, max: b}.")
    locale: str | None = Field(None, description="Faker locale of realistic values, such as de_DE (default en_US).")


class JsonSchemaOptions(BaseModel):
    """The ``jsonschema:`` section of a task file."""

    model_config = ConfigDict(extra="forbid")

    sampler: SamplerOptions = Field(default_factory=SamplerOptions)


class JsonSchemaValidator:
    """Checks a value against ``task.schema`` under the schema's own draft, formats asserted."""

    name = "json-schema"
    formats: tuple[str, ...] = ()  # any format whose values are JSON-like

    def validate(self, value: Any, task: Task) -> list[Violation]:
        from formtune.schema.compile import compile_schema, violations

        validator = task.memo("json-schema", lambda: compile_schema(task.schema, base_dir=task.base_dir))
        return violations(validator, value)


class SchemaSampleGenerator:
    """Samples a valid, realistic-looking output; the task's templates write the input."""

    name = "schema-sampler"

    def draft(self, task: Task, *, seed: int, index: int) -> Draft:
        sampler = task.memo("schema-sampler", lambda: _sampler(task))
        sample_seed = derive_seed(seed, index)
        return Draft(output=sampler.sample(sample_seed), meta={"sample_seed": sample_seed})


def _sampler(task: Task) -> SchemaSampler:
    """The task's sampler with its hints; a wrong hint or locale is a :class:`TaskError` at its line."""
    from formtune.schema.sampler import SchemaSampler

    options = task.options("jsonschema").sampler
    try:
        return SchemaSampler(task.schema, base_dir=task.base_dir, hints=options.fields or None, locale=options.locale)
    except SamplingError as exc:
        if exc.keyword == "hints":
            key = ("jsonschema", "sampler", "fields", exc.path)
        elif exc.keyword == "locale":
            key = ("jsonschema", "sampler", "locale")
        else:
            raise
        raise TaskError(f"{task.where(*key)}: {'.'.join(key[:3])}: {exc}") from None


@hookimpl
def register_validators(register):
    register(JsonSchemaValidator())


@hookimpl
def register_generators(register):
    register(SchemaSampleGenerator())


@hookimpl
def register_task_options(register):
    register(TaskOptions("jsonschema", JsonSchemaOptions, "how the schema-sampler draws values: field hints, locale"))
