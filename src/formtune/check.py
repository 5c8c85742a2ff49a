"""Check a completion against a task: the task's format parses it, the task's validators judge it."""

from __future__ import annotations

from formtune.task import Task
from formtune.violations import Checked


def check(text: str, task: Task) -> Checked:
    """Parse ``text`` in the task's format and collect the violations of the task's validators."""
    checked = task.format.parse(text, lenient=task.spec.lenient)
    if checked.parsed:
        for validator in task.validators:
            checked.violations.extend(validator.validate(checked.value, task))
    return checked
