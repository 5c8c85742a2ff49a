"""The files of a dataset folder: one writer at a time, rows written whole, readers that never
skip a row without saying where.

- :class:`FolderLock` is an exclusive ``flock`` on ``FOLDER/.lock``; the holder writes its pid,
  host and command there, so a second writer is told who holds the folder.
- :class:`Appender` writes each row with unbuffered ``os.write`` calls and turns a failed write
  (full disk, file-size limit) into one :class:`FormtuneError` line. A write that stops midway
  leaves an unfinished last line; :func:`cut_torn_tail` removes it on the next run.
- :func:`read_rows` reads every row or raises an error naming ``file:line``: nothing is dropped
  silently.
- :func:`write_atomically` replaces a whole file (manifest, summary, a trimmed split) so that a
  crash leaves either the old or the new content.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
from pathlib import Path
from typing import Any

from formtune.errors import FormtuneError, UsageError

LOCK_FILE = ".lock"


class FolderLock:
    """An exclusive lock on a folder, held by one process at a time (``with FolderLock(folder):``)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._fd: int | None = None

    def __enter__(self) -> FolderLock:
        path = self.folder / LOCK_FILE
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise UsageError(f"{self.folder}: cannot create {LOCK_FILE} ({exc.strerror})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise UsageError(f"{self.folder} is being written by another formtune ({holder}); wait for it to "
                             "finish or stop it, or write into another folder") from None
        me = {"pid": os.getpid(), "host": socket.gethostname(), "command": " ".join(sys.argv)}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(me).encode(), 0)
        self._fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing releases the lock
            self._fd = None


def _read_holder(fd: int) -> str:
    try:
        info = json.loads(os.pread(fd, 4096, 0) or b"{}")
        return f"pid {info['pid']} on {info['host']}: {info['command']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "holder unknown"


class Appender:
    """Appends JSON rows to a file, each written whole before :meth:`write` returns."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as exc:
            raise _write_error(path, exc) from None

    def write(self, row: dict[str, Any]) -> None:
        data = memoryview((json.dumps(row, ensure_ascii=False) + "\n").encode())
        try:
            while data:
                data = data[os.write(self._fd, data):]
        except OSError as exc:
            raise _write_error(self.path, exc) from None

    def close(self) -> None:
        os.close(self._fd)


def _write_error(path: Path, exc: OSError) -> FormtuneError:
    return FormtuneError(f"cannot write {path}: {exc.strerror}; make room (disk space, file-size limit) and "
                         "rerun the same command: the unfinished row is removed and the build continues")


def cut_torn_tail(path: Path) -> int | None:
    """Remove an unfinished last line (a write that stopped midway); return its line number, or
    ``None`` when the file ends with a complete row (or does not exist)."""
    if not path.is_file():
        return None
    with path.open("r+b") as fh:
        end = pos = fh.seek(0, os.SEEK_END)
        keep = 0
        while pos > 0:
            start = max(0, pos - (1 << 16))
            fh.seek(start)
            newline = fh.read(pos - start).rfind(b"\n")
            if newline >= 0:
                keep = start + newline + 1
                break
            pos = start
        if keep == end:
            return None
        fh.truncate(keep)
        fh.seek(0)
        return sum(block.count(b"\n") for block in iter(lambda: fh.read(1 << 20), b"")) + 1


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Every row of a JSONL file (blank lines aside); a line that is not a JSON object, or an
    unfinished last line, is an error naming ``file:line``. A missing file has no rows."""
    return [row for _, row in numbered_rows(path)]


def numbered_rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """:func:`read_rows` with the line number of each row, for messages about a row."""
    path = Path(path)
    if not path.exists():
        return []
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror})") from None
    rows = []
    lines = data.split(b"\n")
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise UsageError(f"{path}:{number}: not UTF-8 text (byte {exc.start + 1} of the line)") from None
        except (ValueError, RecursionError) as exc:
            hint = " (an unfinished last row: was a write interrupted?)" if number == len(lines) else ""
            raise UsageError(f"{path}:{number}: not a JSON row{hint}: {exc}") from None
        if not isinstance(row, dict):
            raise UsageError(f"{path}:{number}: a row must be a JSON object, not {type(row).__name__}")
        rows.append((number, row))
    return rows


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one step (write a temporary file, then rename it)."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _write_error(path, exc) from None


def write_rows_atomically(path: Path, rows: list[dict[str, Any]]) -> None:
    """Replace a JSONL file with ``rows`` in one step."""
    write_atomically(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
