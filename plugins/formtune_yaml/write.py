"""Rendering JSON-like data as the idiomatic YAML a model should learn to emit.

Block style (nested mappings and sequences on their own indented lines, sequences indented under
their key), two spaces per level, keys in insertion order (which is schema order for sampled
instances), no anchors, no line folding. Empty containers are ``{}`` and ``[]``.

A string is written plain (unquoted) only when every YAML reader gets the same string back,
YAML 1.1 readers (PyYAML, many CI tools) as well as 1.2 ones: see :data:`PLAIN`. So ``no``,
``on``, ``y``, ``null``, ``010``, ``1e3`` and ``2024-01-01`` are quoted, while ``Ada Lovelace``,
``2 eggs`` and ``Zoë`` are not. A multi-line string is a literal block (``|`` or ``|-``) when that
is exact, and a double-quoted string otherwise (leading spaces, tabs, control characters…).
The decoding constraint (:mod:`formtune_yaml.constraint`) is built from these same definitions.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

#: Words that a YAML 1.1 or 1.2 reader turns into a boolean or null when they are not quoted.
RESERVED = ("y Y yes Yes YES n N no No NO true True TRUE false False FALSE on On ON off Off OFF "
            "null Null NULL").split()

# Characters of a plain string. ':' and '#' are left out everywhere (": " starts a value and
# " #" a comment); the rest of printable Unicode may follow the first character.
_UNICODE = "\u00a0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff"
FIRST = "A-Za-z\u00c0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff"
LAST = "!\"$-9;-~" + _UNICODE  # printable ASCII except space, '#', ':'
REST = " " + LAST

#: A string written plain: it starts with a letter and is not a reserved word, or it starts with
#: a digit and has a space (no number, date or time of YAML 1.1 or 1.2 has one without a ':').
#: It never ends with a space. Everything else is quoted.
PLAIN = re.compile(rf"(?!(?:{'|'.join(RESERVED)})\Z)[{FIRST}](?:[{REST}]*[{LAST}])?"
                   rf"|[0-9][{REST}]* [{REST}]*[{LAST}]")


def literal_ok(text: str) -> bool:
    """Whether a multi-line string is written as a literal block: at most one final newline, no
    leading whitespace (so no indentation indicator or ``|+`` is needed) and none of the line
    breaks that YAML 1.1 has and 1.2 has not (NEL, LS, PS). PyYAML itself falls back to double
    quotes for blocks with tabs, control characters or trailing spaces."""
    return ("\n" in text and not text.endswith("\n\n") and not text.startswith((" ", "\n"))
            and not any(c in text for c in "\x85\u2028\u2029"))


class _Dumper(yaml.SafeDumper):
    """PyYAML's safe emitter with indented sequences and without anchors."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)  # "key:\n  - item", not "key:\n- item"

    def ignore_aliases(self, data: Any) -> bool:
        return True  # a value used twice is written twice: no &id001 / *id001


def _represent_str(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = None if PLAIN.fullmatch(text) else "|" if literal_ok(text) else '"'
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _represent_str)


def render_yaml(value: Any) -> str:
    """``value`` as one YAML document, ending with a newline."""
    return yaml.dump(value, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False,
                     width=float("inf"), indent=2)
