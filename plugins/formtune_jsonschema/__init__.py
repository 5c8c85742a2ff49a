"""The builtin JSON Schema plugin: the ``json-schema`` validator and the ``schema-sampler``
generator, shared by every format whose values are JSON-like data (JSON, YAML, tool calls).

It is registered through the ``formtune`` entry-point group like any other plugin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from formtune import hookimpl
from formtune.contrib import Draft, derive_seed

if TYPE_CHECKING:
    from formtune.task import Task
    from formtune.violations import Violation

# jsonschema, Faker and rstr are imported on first use: loading plugins must stay cheap.


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
        from formtune.schema.sampler import SchemaSampler

        sampler = task.memo("schema-sampler", lambda: SchemaSampler(task.schema, base_dir=task.base_dir))
        sample_seed = derive_seed(seed, index)
        return Draft(output=sampler.sample(sample_seed), meta={"sample_seed": sample_seed})


@hookimpl
def register_validators(register):
    register(JsonSchemaValidator())


@hookimpl
def register_generators(register):
    register(SchemaSampleGenerator())
