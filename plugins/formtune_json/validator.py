"""JSON Schema validation of a parsed output against the task's schema."""

from __future__ import annotations

from typing import Any

from formtune.schema.compile import violations
from formtune.task import Task
from formtune.violations import Violation


class JsonSchemaValidator:
    """Checks a value against ``task.schema`` under the schema's own draft, formats asserted."""

    name = "json-schema"
    formats = ("json",)

    def validate(self, value: Any, task: Task) -> list[Violation]:
        return violations(task.schema_validator, value)
