"""A corrections file: messages a person answered by hand, checked line by line before training.

``formtune fix RUN --corrections FILE`` adds these rows to the retraining data. The file is YAML
so that a person can edit it comfortably: a list of ``input`` (the message) and ``output`` (the
answer it should get)::

    - input: |
        Hi, my parcel never came. I bought 2 x ABC-1234. Ana (ana@example.org)
      output:
        customer: {name: Ana, email: ana@example.org}
        category: shipping
        ...

Every row is checked again on import, and every mistake is reported with the file and line of
the row (or of the key): a missing key, an input that is not text, an answer that breaks the
task's schema, and an input that is in an evaluation set (training on it would only flatter the
scores).
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from formtune.check import check
from formtune.conversation import input_key
from formtune.errors import UsageError
from formtune.limits import MAX_TASK_FILE_BYTES, TooLarge, read_capped
from formtune.task import Task


class _Loader(yaml.SafeLoader):
    """Safe YAML in which ``2024-03-05`` stays the string it is in a JSON answer, not a date."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}


@dataclass(frozen=True)
class Correction:
    """One checked row of a corrections file."""

    input: str
    output: Any
    line: int


def load_corrections(path: Path, task: Task, held_out: Container[str] = frozenset()) -> list[Correction]:
    """The rows of a corrections file, each checked against ``task``. ``held_out`` holds the
    :func:`~formtune.conversation.input_key` of inputs that must never be trained on. Every mistake
    in the file is reported at once, one ``file:line:`` per mistake, in a :class:`UsageError`."""
    path = Path(path)
    try:
        text = read_capped(path, MAX_TASK_FILE_BYTES)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the corrections file ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    except TooLarge:
        raise UsageError(f"{path}: larger than {MAX_TASK_FILE_BYTES:,} bytes; split it into several files") from None
    try:
        root = yaml.compose(text, Loader=_Loader)
        rows = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise UsageError(f"{path}:{mark.line + 1 if mark else 1}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if rows is None:
        return []
    if not isinstance(rows, list) or not isinstance(root, yaml.SequenceNode):
        raise UsageError(f"{path}:1: a corrections file is a YAML list of rows with 'input' and 'output'")
    mistakes: list[str] = []
    found = []
    for row, node in zip(rows, root.value):
        line = node.start_mark.line + 1
        problem, at = _problem(row, node, task, held_out)
        if problem:
            mistakes.append(f"{path}:{at or line}: {problem}")
        else:
            found.append(Correction(row["input"], row["output"], line))
    if mistakes:
        head = mistakes[0] if len(mistakes) == 1 else f"{path}: {len(mistakes)} rows need fixing:\n  " + "\n  ".join(mistakes)
        raise UsageError(head)
    return found


def _problem(row: Any, node: yaml.Node, task: Task, held_out: Container[str]) -> tuple[str | None, int | None]:
    """What is wrong with one row, and the line of the key it is about (None: the row's line)."""
    if not isinstance(row, dict) or not isinstance(node, yaml.MappingNode):
        return "a row is a mapping with 'input' and 'output'", None
    lines = {key.value: key.start_mark.line + 1 for key, _ in node.value if isinstance(key, yaml.ScalarNode)}
    if extra := sorted(set(map(str, row)) - {"input", "output"}):
        return f"unknown key {extra[0]!r}; a row has only 'input' and 'output'", lines.get(extra[0])
    for key in ("input", "output"):
        if key not in row:
            return f"'{key}' is missing; add it", None
    if not isinstance(row["input"], str) or not row["input"].strip():
        return "'input' must be the message as text", lines["input"]
    if input_key(row["input"]) in held_out:
        return ("this input is in an evaluation set; training on it would only flatter the scores, so use "
                "messages the evaluation does not hold"), lines["input"]
    try:
        rendered = task.format.render(row["output"])
    except (TypeError, ValueError) as exc:
        return f"'output' cannot be written as {task.format.label or task.spec.format}: {exc}", lines["output"]
    checked = check(rendered, task)
    if not checked.valid:
        first = checked.violations[0]
        return f"'output' breaks the task at {first.path or '/'}: {first.message}", lines["output"]
    return None, None
