"""The answer values an input must keep: what augmenters edit around, and what the builder checks.

An augmenter may add a greeting, wrap lines or misspell words, but the answer to the input must not
change. The rule that makes this checkable: every answer value that appears verbatim in the text
before the change still appears verbatim after it. :func:`kept_values` lists those values,
:func:`outside` applies an edit to the text between them only, and :func:`lost_values` is the
builder's check after each augmenter::

    keep = kept_values(text, output)                    # ["Ada Lovelace", "ada@example.org", "3"]
    noisy = outside(text, keep, lambda part: part.lower())
    assert not lost_values(noisy, keep)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any


def answer_values(output: Any) -> list[str]:
    """The scalar values of an answer as text (strings, and numbers as written by ``str``), longest
    first; booleans and null are not written verbatim in inputs, so they are left out."""
    found: set[str] = set()
    stack = [output]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, (list, tuple)):
            stack.extend(value)
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, (str, int, float)):
            text = str(value).strip()
            if text:
                found.add(text)
    return sorted(found, key=lambda v: (-len(v), v))


def kept_values(text: str, output: Any) -> list[str]:
    """The answer values that appear verbatim in ``text``, longest first."""
    return [value for value in answer_values(output) if value in text]


def lost_values(text: str, keep: Sequence[str]) -> list[str]:
    """The values of ``keep`` that no longer appear verbatim in ``text``."""
    return [value for value in keep if value not in text]


def kept_spans(text: str, keep: Sequence[str]) -> list[tuple[int, int]]:
    """Sorted, merged ``(start, end)`` spans of every occurrence of every kept value."""
    spans = []
    for value in keep:
        start = text.find(value)
        while start != -1:
            spans.append((start, start + len(value)))
            start = text.find(value, start + 1)
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def outside(text: str, keep: Sequence[str], edit: Callable[[str], str]) -> str:
    """``text`` with ``edit`` applied to each stretch between kept values; the kept values are
    copied unchanged, so none can be lost."""
    parts, last = [], 0
    for start, end in kept_spans(text, keep):
        parts += [edit(text[last:start]) if start > last else "", text[start:end]]
        last = end
    parts.append(edit(text[last:]) if last < len(text) else "")
    return "".join(parts)
