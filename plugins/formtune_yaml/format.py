"""YAML as an output format: one YAML 1.2 document of JSON-like data, strict by default.

Strict: the whole completion is exactly one YAML document (no code fences, no prose around it,
no second document), read by :mod:`formtune_yaml.read`. Lenient (a task's ``lenient: true``):
a document is also extracted from a fenced block or from the lines between prose, and the result
is flagged ``lenient`` (counted as ``lenient_valid``, never as valid).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from formtune.contrib import NOT_FOUND, DecodingConstraint, Format, parse_document
from formtune.violations import Checked
from formtune_yaml.read import YamlRejected, read_yaml
from formtune_yaml.write import render_yaml

if TYPE_CHECKING:
    from formtune.task import Task

_FENCE = re.compile(r"```[ \t]*(?:ya?ml|YA?ML)?[ \t]*\n(.*?)```", re.DOTALL)
# A line where a YAML block may start after prose: "key: value", "key:" or "- item" at column 0.
_BLOCK_START = re.compile(r"(?:[^\s#:][^:]*:(?:[ \t]+\S.*)?|-(?:[ \t].*)?)")
MAX_LENIENT_LINES = 400  # prose extraction tries a few parses per start line, no more lines than this


class YamlFormat(Format):
    """The whole completion must be exactly one YAML document of JSON-like data."""

    name = "yaml"
    label = "YAML"

    def parse(self, text: str, *, lenient: bool = False) -> Checked:
        return parse_document(text, lenient=lenient, read=read_yaml, rejected=YamlRejected,
                              what="YAML document of plain data", extract=_extract)

    def render(self, value: Any) -> str:
        return render_yaml(value)

    def constraint(self, task: Task) -> DecodingConstraint | None:
        from formtune_yaml.constraint import yaml_regex

        pattern = task.memo("yaml-regex", lambda: yaml_regex(task.schema))
        if pattern is None:
            return None
        from outlines.types import Regex

        return DecodingConstraint(Regex(pattern))


    def viable(self, text: str) -> bool:
        """False once the text cannot become one YAML document: it opens with a code fence (no
        YAML token starts with a backtick or '@'), a block mapping or sequence is followed by a
        line that starts with one at column 0 ("```" after "Here is the YAML:"), or a second
        document starts (a ``---`` line after content)."""
        if text.lstrip()[:1] in _RESERVED:
            return False
        lines = text.split("\n")
        complete = len(lines) - 1  # the last line may still grow
        root = None  # the first complete content line
        for i, line in enumerate(lines):
            if root is None:
                if i < complete and _content(line) and not _MARKER.match(line):
                    root = line
            elif line[:1] in _RESERVED and _BLOCK_START.match(root):
                return False
            elif i < complete and line.startswith("---") and _MARKER.match(line):
                return False
        return True


_RESERVED = ("`", "@")
_MARKER = re.compile(r"(?:---|\.\.\.)(?:[ \t].*)?$|%")  # document markers and directives


def _content(line: str) -> bool:
    return bool(line.strip()) and not line.lstrip().startswith("#")


def _extract(text: str) -> Any:
    """The first YAML document in a fenced block, else the first mapping or sequence that a run
    of lines between prose holds; ``NOT_FOUND`` when there is none."""
    for block in _FENCE.findall(text):
        try:
            return read_yaml(block)
        except YamlRejected:
            continue
    lines = text.split("\n")[:MAX_LENIENT_LINES]
    for start, line in enumerate(lines):
        if not _block_start(lines, start):
            continue
        end = len(lines)
        for _ in range(4):  # back off from where the parser stopped: trailing prose
            try:
                value = read_yaml("\n".join(lines[start:end]))
            except YamlRejected as exc:
                if exc.line is None:
                    break
                end = min(start + exc.line - 1, end - 1)  # libyaml may point past the last line
                while end > start and not lines[end - 1].strip():
                    end -= 1
                if end <= start:
                    break
                continue
            if isinstance(value, (dict, list)):
                return value
            break
    return NOT_FOUND


def _block_start(lines: list[str], i: int) -> bool:
    """``key: value`` or ``- item`` at column 0, or ``key:`` followed by an indented line (prose
    such as "Here is the YAML:" followed by a blank line is not a start)."""
    line = lines[i].rstrip()
    if not _BLOCK_START.fullmatch(line):
        return False
    if line.endswith(":"):
        following = lines[i + 1] if i + 1 < len(lines) else ""
        return following.startswith((" ", "-"))
    return True
