"""The Python API behind the CLI's data commands; each CLI command is a thin shell over one of these."""

from __future__ import annotations

import signal
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from formtune.check import check
from formtune.errors import SamplingError, UsageError
from formtune.limits import MAX_FILE_BYTES, TIME_LIMIT_S, TooLarge, read_capped
from formtune.task import Task
from formtune.violations import Violation


@dataclass
class FileResult:
    """The validation outcome of one file. ``lenient_valid`` is true when the document is valid once
    extracted leniently (code fences, prose), which is never ``valid``."""

    file: str
    valid: bool
    errors: list[Violation] = field(default_factory=list)
    lenient_valid: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "valid": self.valid, "lenient_valid": self.lenient_valid,
                "errors": [{"path": v.path, "message": v.message} for v in self.errors]}


class _TooSlow(BaseException):
    """Raised by :func:`_time_limit`; a BaseException, so no library's ``except Exception`` hides it."""


@contextmanager
def _time_limit(seconds: float | None) -> Iterator[None]:
    """Interrupt the block after ``seconds`` with :class:`_TooSlow` (a SIGALRM timer: only in the
    main thread of a Unix process; elsewhere the block runs without a limit)."""
    if not seconds or threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise _TooSlow

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _read_limited(path: Path, max_bytes: int) -> str | Violation:
    """The file's text, or why it cannot be checked (unreadable, too large, not UTF-8)."""
    try:
        return read_capped(path, max_bytes)
    except OSError as exc:
        return Violation("", f"cannot read the file ({exc.strerror})", "read")
    except TooLarge:
        return Violation("", f"too large: over {max_bytes:,} bytes, the limit (--max-bytes)", "limit:size")
    except UnicodeDecodeError as exc:
        return Violation("", f"not UTF-8 text (invalid byte 0x{exc.object[exc.start]:02x} at offset {exc.start})",
                         "read")


def _check_file(path: Path, task: Task, max_bytes: int, time_limit: float | None) -> FileResult:
    text = _read_limited(path, max_bytes)
    if isinstance(text, Violation):
        return FileResult(str(path), False, [text])
    try:
        with _time_limit(time_limit):
            checked = check(text, task)
    except _TooSlow:
        limit = Violation("", f"not checked within {time_limit} s, the limit (--time-limit)", "limit:time")
        return FileResult(str(path), False, [limit])
    return FileResult(str(path), checked.valid, checked.violations, checked.lenient_valid)


def _schema_path(schema: Path) -> Path:
    """``schema`` when it is a readable file; otherwise a :class:`UsageError` saying what it is."""
    schema = Path(schema)
    try:
        mode = schema.stat().st_mode
    except OSError as exc:
        raise UsageError(f"schema {schema}: {'no such file' if not schema.exists() else exc.strerror}") from None
    if stat.S_ISDIR(mode):
        raise UsageError(f"schema {schema}: is a folder; give the schema file")
    if not stat.S_ISREG(mode):
        raise UsageError(f"schema {schema}: not a regular file (a pipe or device); give the schema file")
    return schema


def validate_files(schema: Path, files: list[Path], format: str = "json", lenient: bool = False,
                   validators: list[str] | None = None, *, max_bytes: int = MAX_FILE_BYTES,
                   time_limit: float | None = TIME_LIMIT_S) -> list[FileResult]:
    """Check each file as one complete output against ``schema`` in ``format``, with ``validators``
    (default: the format's). Every file gets a result: one that cannot be read, is not UTF-8, is
    larger than ``max_bytes`` or takes longer than ``time_limit`` seconds is invalid, with the
    reason as its violation."""
    task = Task.from_schema(_schema_path(schema), format, lenient, validators)
    return [_check_file(Path(path), task, max_bytes, time_limit) for path in files]


def sample_instances(schema: Path, n: int, seed: int = 0, generator: str | None = None,
                     format: str = "json") -> list[Any]:
    """``n`` instances of ``schema`` from a registered generator (default: the format's), each
    checked to be valid."""
    task = Task.from_schema(_schema_path(schema), format)
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
    task = Task.from_schema(_schema_path(schema), format)
    return [task.format.render(v) for v in sample_instances(schema, n, seed, generator, format)]
