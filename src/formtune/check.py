"""Check a completion against a task: the task's format parses it, the task's validators judge it."""

from __future__ import annotations

import inspect
from typing import Any

from formtune.task import Task
from formtune.violations import Checked


def check(text: str, task: Task, *, input: Any = None, meta: dict[str, Any] | None = None) -> Checked:
    """Parse ``text`` in the task's format and collect the violations of the task's validators.

    ``input`` and ``meta`` (the example's provenance) say what the output answers; a validator
    whose ``validate`` names them receives them (rules need the input's facts), the others never see them.
    """
    checked = task.format.parse(text, lenient=task.spec.lenient)
    if checked.parsed:
        context = {"input": input, "meta": meta or {}}
        for validator in task.validators:
            wanted = inspect.signature(validator.validate).parameters
            extra = {name: value for name, value in context.items() if name in wanted}
            checked.violations.extend(validator.validate(checked.value, task, **extra))
    return checked
