"""Bounds on the work formtune does with what it is given, in one place.

Formats bound their own parsing (nesting depth, entity and alias expansion); these bound the rest:
how much of a file is read and how long one check may take. Each is a clear result or error when
it is hit, never a crash or a hang.
"""

from __future__ import annotations

import os

#: Largest file ``formtune validate`` reads (a model output is far smaller); bigger files are
#: reported invalid without being parsed, so ``validate /dev/zero`` ends at once.
MAX_FILE_BYTES = 10_000_000
#: Seconds ``formtune validate`` spends on one file before reporting it invalid.
TIME_LIMIT_S = 5.0
#: Largest task file read: task files are small; data belongs in the dataset, not the task.
MAX_TASK_FILE_BYTES = 2_000_000


class TooLarge(Exception):
    """A file holds more bytes than the limit it is read under."""


def read_capped(path: str | os.PathLike[str], max_bytes: int) -> str:
    """The UTF-8 text of the file at ``path``, reading at most ``max_bytes + 1`` bytes, so that a
    huge file or a device (``/dev/zero``) costs no more than the limit.

    Raises ``OSError`` when it cannot be read, :class:`TooLarge` when it holds more than
    ``max_bytes``, and ``UnicodeDecodeError`` when it is not UTF-8 (``.start`` is the offset and
    ``.object`` the bytes). Callers word each case for their own file kind.
    """
    with open(path, "rb") as fh:
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise TooLarge(path)
    return data.decode("utf-8")
