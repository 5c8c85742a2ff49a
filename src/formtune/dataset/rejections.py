"""``rejected.jsonl``: why candidates were rejected, bounded in size, counted exactly.

The first :data:`LIMIT` rejections of a folder are written one per line
(``{"split", "source", "index", "reason"}``), so there are examples of every early failure to
read. After that, rejections are written as tallies: ``{"split", "source", "first", "last",
"rejected": {reason: count}}`` for a run of candidates. A pending tally is written before the
next accepted row of its split (and every :data:`TALLY_EVERY` rejections), so every rejection
recorded has a lower index than any unrecorded one: a build killed at any moment resumes after
the last recorded candidate and counts each rejection exactly once.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from formtune.dataset.store import Appender

LIMIT = 1000
TALLY_EVERY = 1000


def _span(entry: dict[str, Any]) -> tuple[int, int]:
    if "index" in entry:
        return entry["index"], entry["index"]
    return entry["first"], entry["last"]


def trimmed(entries: list[dict[str, Any]], split: str, source: str, after: int) -> list[dict[str, Any]]:
    """``entries`` without those of ``split``/``source`` past candidate ``after`` (a tally never
    spans an accepted row, so it is either wholly before or wholly after)."""
    return [e for e in entries if not (e["split"] == split and e["source"] == source and _span(e)[0] > after)]


class RejectionLog:
    """Appends to ``rejected.jsonl`` and keeps the counts of every rejection in it."""

    def __init__(self, path: Path, entries: list[dict[str, Any]]) -> None:
        self.counts: dict[str, Counter[str]] = {}
        self._last: dict[tuple[str, str], int] = {}
        self._individual = 0
        for entry in entries:
            counts = self.counts.setdefault(entry["split"], Counter())
            counts.update({entry["reason"]: 1} if "index" in entry else entry["rejected"])
            self._recorded(entry)
        self._pending: dict[str, Any] | None = None
        self._out = Appender(path)

    def _recorded(self, entry: dict[str, Any]) -> None:
        self._individual += "index" in entry
        key = (entry["split"], entry["source"])
        self._last[key] = max(self._last.get(key, -1), _span(entry)[1])

    def next_index(self, split: str, source: str) -> int:
        """One past the last candidate of this stream that was recorded as rejected."""
        return self._last.get((split, source), -1) + 1

    def total(self) -> Counter[str]:
        """Every rejection by reason, all splits together."""
        return sum(self.counts.values(), Counter())

    def add(self, split: str, source: str, index: int, reason: str) -> None:
        self.counts.setdefault(split, Counter())[reason] += 1
        if self._individual < LIMIT:
            self._write({"split": split, "source": source, "index": index, "reason": reason})
            return
        pending = self._pending
        if pending is not None and (pending["split"], pending["source"]) != (split, source):
            self.flush()
            pending = None
        if pending is None:
            pending = self._pending = {"split": split, "source": source, "first": index, "last": index,
                                       "rejected": Counter()}
        pending["last"] = index
        pending["rejected"][reason] += 1
        if sum(pending["rejected"].values()) >= TALLY_EVERY:
            self.flush()

    def flush(self) -> None:
        """Write the pending tally (call before an accepted row is written)."""
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self._write({**pending, "rejected": dict(pending["rejected"].most_common())})

    def _write(self, entry: dict[str, Any]) -> None:
        self._out.write(entry)
        self._recorded(entry)

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self._out.close()
