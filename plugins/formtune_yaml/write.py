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

# Printable Unicode beyond ASCII, without NEL (a line break in YAML 1.1), LS, PS and the BOM.
UNICODE = "\u00a0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff"
_ASCII = "".join(map(chr, range(0x21, 0x7F)))  # printable ASCII without space


def char_class(ascii_chars: str, unicode: str = UNICODE) -> str:
    """A ``[...]`` class of ``ascii_chars`` (runs written as ranges, punctuation escaped so that
    both Python's and outlines' (Rust) regular expressions read it alike) and ``unicode`` ranges."""
    codes, runs = sorted(set(map(ord, ascii_chars))), []
    for code in codes:
        if runs and runs[-1][1] == code - 1:
            runs[-1][1] = code
        else:
            runs.append([code, code])
    esc = lambda c: chr(c) if chr(c).isalnum() else "\\" + chr(c)  # noqa: E731
    body = "".join(esc(a) if a == b else f"{esc(a)}{esc(b)}" if b == a + 1 else f"{esc(a)}-{esc(b)}" for a, b in runs)
    return f"[{body}{unicode}]"


# A plain string starts with a letter (or a digit, see PLAIN) and continues with printable
# characters except ':' and '#' (": " starts a value, " #" a comment); it ends without a space.
LETTERS = "".join(c for c in _ASCII if c.isalpha())
LAST_CHARS = "".join(c for c in _ASCII if c not in ":#")
FIRST_UNICODE = "\u00c0" + UNICODE[UNICODE.index("-"):]  # no symbols of Latin-1 (¡, ©, «…) first
FIRST = char_class(LETTERS, FIRST_UNICODE)
LAST = char_class(LAST_CHARS)
REST = char_class(" " + LAST_CHARS)

#: A string written plain: it starts with a letter and is not a reserved word, or it starts with
#: a digit and has a space (no number, date or time of YAML 1.1 or 1.2 has one without a ':').
#: It never ends with a space. Everything else is quoted.
PLAIN = re.compile(rf"(?!(?:{'|'.join(RESERVED)})\Z){FIRST}(?:{REST}*{LAST})?|[0-9]{REST}* {REST}*{LAST}")


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
