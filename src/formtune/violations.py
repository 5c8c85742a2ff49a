"""Validation outcomes as values: what was wrong, where, and of which kind."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Violation:
    """One thing wrong with an output.

    ``path`` is a JSON pointer into the parsed value ("" for the whole document), ``kind`` a short
    machine-readable class such as ``"parse"``, ``"schema:required"`` or ``"rule"``.
    """

    path: str
    message: str
    kind: str

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message, "kind": self.kind}


@dataclass
class Checked:
    """A completion after parsing and validation.

    ``value`` is the parsed document or ``None`` when nothing could be parsed. ``lenient`` is true
    when the value was only found by lenient extraction (code fences, surrounding prose): such a
    completion is never ``valid``, it is counted on its own.
    """

    text: str
    value: Any = None
    parsed: bool = False
    lenient: bool = False
    violations: list[Violation] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        """Strictly parsed and free of violations."""
        return self.parsed and not self.lenient and not self.violations

    @property
    def lenient_valid(self) -> bool:
        """Free of violations once extracted leniently (includes the strictly valid ones)."""
        return self.parsed and not self.violations
