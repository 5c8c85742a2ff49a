"""The Python API behind the CLI's data commands; each CLI command is a thin shell over one of these."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from formtune.check import check
from formtune.errors import SamplingError, UsageError
from formtune.task import Task
from formtune.violations import Violation


@dataclass
class FileResult:
    """The validation outcome of one file."""

    file: str
    valid: bool
    errors: list[Violation] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "valid": self.valid,
                "errors": [{"path": v.path, "message": v.message} for v in self.errors]}


def validate_files(schema: Path, files: list[Path], format: str = "json", lenient: bool = False,
                   validators: list[str] | None = None) -> list[FileResult]:
    """Check each file as one complete output against ``schema`` in ``format``, with ``validators``
    (default: the format's)."""
    task = Task.from_schema(Path(schema), format, lenient, validators)
    results = []
    for path in files:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"{path}: cannot read ({exc})") from None
        except UnicodeDecodeError as exc:  # an output that is not text is invalid, not a usage error
            results.append(FileResult(str(path), False, [Violation(
                "", f"not UTF-8 text: byte 0x{exc.object[exc.start]:02x} at offset {exc.start} cannot be decoded",
                "parse")]))
            continue
        checked = check(text, task)
        results.append(FileResult(str(path), checked.valid, checked.violations))
    return results


def sample_instances(schema: Path, n: int, seed: int = 0, generator: str | None = None,
                     format: str = "json") -> list[Any]:
    """``n`` instances of ``schema`` from a registered generator (default: the format's), each
    checked to be valid."""
    task = Task.from_schema(Path(schema), format)
    source = task.registry.get("generators", generator or task.format.default_generator)
    instances = []
    for i in range(n):
        value = source.draft(task, seed=seed, index=i).output
        checked = check(task.format.render(value), task)
        if not checked.valid:  # a third-party generator may be less careful than the sampler
            first = checked.violations[0]
            raise SamplingError(f"generator {generator!r} made an invalid instance: {first.message} at "
                                f"{first.path or '/'}", keyword=first.kind, path=first.path)
        instances.append(value)
    return instances


def render_instances(schema: Path, n: int, seed: int = 0, generator: str | None = None,
                     format: str = "json") -> list[str]:
    """:func:`sample_instances`, each rendered as the exact text of ``format``."""
    task = Task.from_schema(Path(schema), format)
    return [task.format.render(v) for v in sample_instances(schema, n, seed, generator, format)]
