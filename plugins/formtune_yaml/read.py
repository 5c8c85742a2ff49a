"""Reading one YAML document into JSON-like data, safely and with YAML 1.2 core-schema meaning.

PyYAML (libyaml when present) only tokenizes here: it yields parse events, and this module builds
the value from them itself, without PyYAML's constructors. That is what makes it safe:

- no tag beyond the core schema (``!!str``, ``!!int``, ``!!float``, ``!!bool``, ``!!null``,
  ``!!map``, ``!!seq``) is accepted, so ``!!python/object/apply:os.system`` is a violation and no
  Python object is ever built, and a local tag (``!Ref``, ``!include``) is a violation too;
- aliases are never copied: an alias reuses the anchored value and its expanded size is counted,
  so a "billion laughs" document is rejected after :data:`MAX_ALIAS_NODES` nodes, and an alias
  inside its own anchor (a cycle) is rejected;
- nesting (aliases included) stops at :data:`MAX_DEPTH`, the text at :data:`MAX_CHARS` characters
  and integers at :data:`MAX_INT_DIGITS` digits, before any work grows with them.

Plain scalars are resolved by the YAML 1.2 core schema, not PyYAML's YAML 1.1 one: only
``true``/``false`` are booleans (``yes``, ``no``, ``on``, ``off``, ``y`` and ``n`` are strings: no
"Norway problem"), ``010`` is the integer 10 (``0o10`` is 8, ``0x10`` is 16), ``1e3`` is a
number, and ``2024-01-01`` or ``12:30`` are strings (no timestamps, no base 60). ``<<`` is an
ordinary key: merge keys are a YAML 1.1 type that 1.2 dropped. A ``%YAML`` directive changes none
of this. ``.inf`` and ``.nan`` (and ``1e400``) are violations: JSON-like data has no such numbers.

A mapping key is the text it is written with (``200: OK`` gives the key ``"200"``, as JSON Schema
tooling for YAML reads it); a mapping or sequence as a key is a violation, and so is a key that
appears twice. A byte-order mark may start the stream or a line before the document's content
(YAML 1.2 allows one at the start of every document prefix); it is dropped there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.events import (AliasEvent, DocumentStartEvent, MappingEndEvent, MappingStartEvent, ScalarEvent,
                         SequenceEndEvent, SequenceStartEvent, StreamEndEvent)

MAX_CHARS = 1_000_000  # a completion, or a hand-written configuration file, is far smaller
MAX_DEPTH = 100  # nested collections; real documents stay under 20
MAX_ALIAS_NODES = 100_000  # nodes reached through aliases, all aliases together
MAX_INT_DIGITS = 4_300  # Python's own limit on converting decimal text to int

# libyaml is an order of magnitude faster; the pure-Python parser gives the same events.
_EVENTS_LOADER = getattr(yaml, "CBaseLoader", yaml.BaseLoader)

CORE = "tag:yaml.org,2002:"
_NULL = re.compile(r"~|null|Null|NULL|")
_BOOL = re.compile(r"true|True|TRUE|false|False|FALSE")
_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_NOT_A_NUMBER = re.compile(r"[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)")


class YamlRejected(ValueError):
    """Why a text is not one JSON-like YAML document: ``path`` is a JSON pointer ("" when
    unknown) and ``line`` the 1-based line where reading stopped (``None`` when unknown)."""

    def __init__(self, message: str, path: str = "", line: int | None = None) -> None:
        super().__init__(message)
        self.path, self.line = path, line


def read_yaml(text: str) -> Any:
    """The JSON-like value of ``text``, which must be exactly one YAML document; raises
    :class:`YamlRejected` for anything else, whatever the input."""
    if len(text) > MAX_CHARS:
        raise YamlRejected(f"the text is {len(text):,} characters long; the limit is {MAX_CHARS:,}")
    builder = _Builder()
    try:
        for event in yaml.parse(_drop_prefix_boms(text), Loader=_EVENTS_LOADER):
            builder.feed(event)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise YamlRejected(_describe(exc), line=mark.line + 1 if mark else None) from None
    except yaml.reader.ReaderError as exc:
        raise YamlRejected(f"character #x{exc.character:04x} at offset {exc.position} is not allowed in "
                           "YAML text (control characters must be escaped in a double-quoted string)") from None
    except yaml.YAMLError as exc:  # pragma: no cover - every other error carries a mark
        raise YamlRejected(str(exc).replace("\n", " ")) from None
    except YamlRejected:
        raise
    except UnicodeEncodeError as exc:  # lone surrogates cannot reach libyaml as UTF-8
        raise YamlRejected(f"character {exc.object[exc.start]!r} at offset {exc.start} is not valid "
                           "Unicode text") from None
    except (ValueError, OverflowError) as exc:  # PyYAML's scanner on an escape beyond Unicode
        raise YamlRejected(f"an escape sequence is not a Unicode character ({exc})") from None
    return builder.result()


def _drop_prefix_boms(text: str) -> str:
    """Remove a byte-order mark from the start of each line up to the document's first content
    line (YAML 1.2 allows one before every document); any other BOM is left to the parser."""
    if "\ufeff" not in text:
        return text
    lines = text.split("\n")
    for i, line in enumerate(lines):
        lines[i] = line = line.removeprefix("\ufeff")
        if line.strip() and not line.lstrip().startswith("#"):
            break
    return "\n".join(lines)


def _describe(exc: yaml.MarkedYAMLError) -> str:
    mark = exc.problem_mark or exc.context_mark
    what = "; ".join(part for part in (exc.context, exc.problem) if part)
    if "single document" in what or "document start" in what:
        what = "more than one YAML document (or text after the document); emit exactly one"
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
    return f"{what}{where}"


@dataclass
class _Anchored:
    value: Any
    text: str | None  # a scalar's source text, for use as a key; None for collections
    size: int  # nodes, counting what aliases inside it expand to
    height: int  # nesting levels below and including it


@dataclass
class _Open:
    """A collection whose end has not been seen yet."""

    value: dict[str, Any] | list[Any]
    anchor: str | None
    segment: str  # its own JSON-pointer segment in its parent ("" for the root)
    key: str | None = None  # a mapping's pending key
    size: int = 1
    height: int = 1


class _Builder:
    """Builds one JSON-like value from a stream of parse events."""

    def __init__(self) -> None:
        self.stack: list[_Open] = []
        self.anchors: dict[str, _Anchored | None] = {}  # None: anchored collection still open
        self.documents = 0
        self.alias_nodes = 0
        self.root: Any = None
        self.done = False

    def result(self) -> Any:
        if not self.done:
            raise YamlRejected("no YAML document: the text is empty or only comments")
        return self.root

    def feed(self, event: Any) -> None:
        if isinstance(event, DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                raise self._reject("more than one YAML document; emit exactly one", event)
        elif isinstance(event, ScalarEvent):
            value = self._scalar(event)
            self._add(value, event.value, 1, 0, event.anchor, event)
        elif isinstance(event, (SequenceStartEvent, MappingStartEvent)):
            self._open(event)
        elif isinstance(event, (SequenceEndEvent, MappingEndEvent)):
            node = self.stack.pop()
            self._add(node.value, None, node.size, node.height, node.anchor, event)
        elif isinstance(event, AliasEvent):
            self._alias(event)
        elif isinstance(event, StreamEndEvent):
            self.done = self.documents == 1

    # -- values ---------------------------------------------------------------------------

    def _segment(self) -> str | None:
        """The JSON-pointer segment of the next value in the innermost open collection."""
        top = self.stack[-1]
        return str(len(top.value)) if isinstance(top.value, list) else top.key

    def _pointer(self, key: str | None = None) -> str:
        """A JSON pointer to where the parser is now (to ``key`` of the innermost mapping if given)."""
        segments = [node.segment for node in self.stack[1:]]
        if self.stack:
            segments.append(key if key is not None else self._segment())
        return "".join("/" + s.replace("~", "~0").replace("/", "~1") for s in segments if s is not None)

    def _reject(self, message: str, event: Any, key: str | None = None, located: bool = True) -> YamlRejected:
        """A rejection at ``event``, with a JSON pointer to it when ``located``."""
        mark = event.start_mark
        return YamlRejected(f"{message} (line {mark.line + 1}, column {mark.column + 1})",
                            self._pointer(key) if located else "", mark.line + 1)

    def _scalar(self, event: ScalarEvent) -> Any:
        tag, text = event.tag, event.value
        if tag is None and event.implicit[0]:  # plain and untagged: the core schema decides
            if _NULL.fullmatch(text):
                return None
            if _BOOL.fullmatch(text):
                return text.lower() == "true"
            if _INT.fullmatch(text):
                return self._int(text, event)
            if _FLOAT.fullmatch(text):
                return self._float(text, event)
            if _NOT_A_NUMBER.fullmatch(text):
                raise self._reject(f"{text} is not a number JSON can hold; quote it if it is text", event)
            return text
        if tag in (None, "!", CORE + "str"):
            return text
        checks = {CORE + "null": (_NULL, lambda t, e: None), CORE + "bool": (_BOOL, lambda t, e: t.lower() == "true"),
                  CORE + "int": (_INT, self._int), CORE + "float": (_FLOAT, self._float)}
        if tag in checks:
            pattern, convert = checks[tag]
            if not pattern.fullmatch(text):
                raise self._reject(f"{text!r} is not a valid {_short(tag)}", event)
            return convert(text, event)
        raise self._reject(_bad_tag(tag), event)

    def _int(self, text: str, event: Any) -> int:
        if len(text) > MAX_INT_DIGITS:
            raise self._reject(f"an integer of {len(text):,} digits; the limit is {MAX_INT_DIGITS:,}", event)
        sign = -1 if text.startswith("-") else 1
        digits = text.lstrip("+-")
        base = {"0o": 8, "0x": 16}.get(digits[:2], 10)
        return sign * int(digits[2:] if base != 10 else digits, base)

    def _float(self, text: str, event: Any) -> float:
        value = float(text)
        if value in (float("inf"), float("-inf")):
            raise self._reject(f"number {text[:40]}{'…' if len(text) > 40 else ''} is too large for a double", event)
        return value

    # -- structure --------------------------------------------------------------------------

    def _open(self, event: Any) -> None:
        kind = "sequence" if isinstance(event, SequenceStartEvent) else "mapping"
        if event.tag not in (None, "!", CORE + ("seq" if kind == "sequence" else "map")):
            raise self._reject(_bad_tag(event.tag), event)
        if self.stack and self._expects_key():
            raise self._reject(f"a {kind} as a mapping key; keys must be text", event)
        if len(self.stack) + 1 > MAX_DEPTH:
            raise self._reject(f"nested more than {MAX_DEPTH} levels deep", event, located=False)
        segment = self._segment() if self.stack else ""
        if event.anchor is not None:
            self.anchors[event.anchor] = None  # open: an alias to it now would be a cycle
        self.stack.append(_Open({} if kind == "mapping" else [], event.anchor, segment))

    def _alias(self, event: AliasEvent) -> None:
        if event.anchor not in self.anchors:
            raise self._reject(f"alias *{event.anchor} refers to no anchor defined before it", event)
        anchored = self.anchors[event.anchor]
        if anchored is None:
            raise self._reject(f"alias *{event.anchor} is inside the node it refers to (a cycle)", event)
        self.alias_nodes += anchored.size
        if self.alias_nodes > MAX_ALIAS_NODES:
            raise self._reject(f"aliases expand to more than {MAX_ALIAS_NODES:,} nodes (the limit that stops "
                               "alias bombs)", event)
        if len(self.stack) + anchored.height > MAX_DEPTH:
            raise self._reject(f"alias *{event.anchor} nests more than {MAX_DEPTH} levels deep", event, located=False)
        self._add(anchored.value, anchored.text, anchored.size, anchored.height, None, event)

    def _expects_key(self) -> bool:
        top = self.stack[-1]
        return isinstance(top.value, dict) and top.key is None

    def _add(self, value: Any, text: str | None, size: int, height: int, anchor: str | None, event: Any) -> None:
        if anchor is not None:
            self.anchors[anchor] = _Anchored(value, text, size, height)
        if not self.stack:
            self.root = value
            return
        top = self.stack[-1]
        if isinstance(top.value, list):
            top.value.append(value)
        elif top.key is None:
            if text is None:  # an alias to a collection, used as a key
                raise self._reject("a mapping key must be text, not a collection", event)
            if text in top.value:
                raise self._reject(f"key {text!r} appears twice in one mapping; keep one", event, text)
            top.key = text
            return
        else:
            top.value[top.key] = value
            top.key = None
        top.size += size
        top.height = max(top.height, height + 1)


def _short(tag: str) -> str:
    return "!!" + tag[len(CORE):] if tag.startswith(CORE) else tag


def _bad_tag(tag: str) -> str:
    return (f"tag {_short(tag)} is not allowed: only plain data is read (mappings, sequences, strings, "
            "numbers, booleans, null) and no tag is ever executed")
