"""What a plugin contributes: formats, validators, generators and metrics.

These are the types a plugin author implements and the core consumes. Formats and validators
turn a completion into a :class:`~formtune.violations.Checked`; generators feed the dataset;
metrics score :class:`Attempt` objects in the evaluator.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from formtune.violations import Checked, Violation

if TYPE_CHECKING:
    from formtune.task import Task


@runtime_checkable
class Format(Protocol):
    """An output format such as JSON, XML or YAML."""

    name: str

    def parse(self, text: str, *, lenient: bool = False) -> Checked:
        """Parse a whole completion. Strict parsing accepts exactly one document and nothing
        else; with ``lenient`` the format may extract a document from fences or prose and must
        then set ``Checked.lenient``."""
        ...

    def render(self, value: Any) -> str:
        """The exact text a model should emit for ``value``."""
        ...


@runtime_checkable
class Validator(Protocol):
    """A check of a parsed value against a task; violations are returned, never raised."""

    name: str
    formats: tuple[str, ...]  # the formats it applies to; empty means every format

    def validate(self, value: Any, task: Task) -> list[Violation]:
        """The violations of ``value`` under ``task`` (empty when it is fine)."""
        ...


@dataclass
class Draft:
    """A candidate training example from a generator, before validation.

    ``input`` may be left ``None``: the task's input templates then write it from ``output``.
    """

    output: Any
    input: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Generator(Protocol):
    """A deterministic source of candidate examples.

    ``draft(task, seed=s, index=i)`` must return the same draft for the same arguments, so an
    interrupted dataset build resumes exactly where it stopped.
    """

    name: str

    def draft(self, task: Task, *, seed: int, index: int) -> Draft:
        """The ``index``-th candidate of the stream seeded by ``seed``."""
        ...


@dataclass
class Attempt:
    """One model output on one evaluation example, as metrics see it."""

    input: str
    checked: Checked
    expected: Any = None  # the reference value, when the example has one


@dataclass(frozen=True)
class Metric:
    """A named score in [0, 1] per attempt (``None`` when it does not apply), averaged per variant."""

    name: str
    score: Callable[[Attempt], float | None]
    description: str = ""


def derive_seed(*parts: object) -> int:
    """A stable 63-bit seed from any parts (``hash()`` of a str changes between processes)."""
    import hashlib

    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1
