"""Helpers of the reliability tests (tests/test_reliability_*.py): one file per numbered case of
the "Reliability" issue, so that they read as a checklist."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from formtune.cli import cli

DATA = Path(__file__).parent / "data"
PERSON_TASK = (DATA / "person.task.yaml").read_text()


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str
    crashed: bool  # an exception escaped the command: a user would have seen a traceback


def invoke(*args: str) -> Outcome:
    """Run a ``formtune`` command in this process (fast; the subprocess tests cover what needs a
    real process: signals, locks, limits, hangs)."""
    result = CliRunner().invoke(cli, [str(a) for a in args])
    crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
    return Outcome(result.exit_code, result.stdout, result.stderr, crashed)


def assert_one_error_line(stderr: str, *fragments: str) -> None:
    """``stderr`` is exactly one ``ERROR:`` line (no traceback) that contains every fragment."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("ERROR: "), stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def person_task(folder: Path, text: str = PERSON_TASK) -> Path:
    """The test person task (40 train, 10 eval) in ``folder``, with ``text`` as its task file."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(DATA / "person.schema.json", folder)
    (folder / "task.yaml").write_text(text)
    return folder / "task.yaml"
