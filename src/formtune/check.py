"""Check a completion against a task: the task's format parses it, its validators judge it."""

from __future__ import annotations

from formtune.plugins import Registry, get_registry
from formtune.task import Task
from formtune.violations import Checked


def check(text: str, task: Task, registry: Registry | None = None) -> Checked:
    """Parse ``text`` in the task's format and collect every validator's violations."""
    registry = registry or get_registry()
    fmt = registry.get("formats", task.spec.format)
    checked = fmt.parse(text, lenient=task.spec.lenient)
    if checked.parsed:
        for validator in registry.validators.values():
            if not validator.formats or task.spec.format in validator.formats:
                checked.violations.extend(validator.validate(checked.value, task))
    return checked
