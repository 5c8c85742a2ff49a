"""A regular expression for constrained decoding, in exactly the style :func:`render_value` writes.

Supported subset (anything else gives ``None``: the task is then "unconstrained only"):

- From an XSD: elements of simple type or simple content; attributes (required, optional, in
  declared order, as the generator writes them); sequences, choices, and ``all`` groups (in
  declared order); minOccurs/maxOccurs (counts above 8 read as unbounded); nested complex types
  up to 8 levels; texts from enumerations, XSD patterns that translate to plain regexes, length
  facets, and the lexical forms of the common built-in types (numbers, boolean, dates, times,
  strings). Not supported: mixed content, wildcards (``xs:any``), recursion deeper than 8 levels.
- From a JSON Schema, through the mapping: objects (properties in schema order, attributes as
  configured, optional and null properties optional), arrays as repeated elements, scalars with
  ``enum``/``const``, string lengths, and numbers, integers and booleans. Not supported:
  ``anyOf``/``oneOf`` between objects, additional properties, recursion deeper than 8 levels.

The regex decides structure, enumerations, lexical forms and integer ranges up to 200 wide. Wider
numeric ranges, decimal bounds and patterns that do not translate are left to the validator, which
still judges every output.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

from formtune_xml.value import escape_attr, escape_text

if TYPE_CHECKING:
    from formtune.task import Task

MAX_DEPTH = 8
MAX_COUNT = 8  # maxOccurs above this is written as unbounded: large counts blow up the automaton
SMALL_RANGE = 200  # integer ranges up to this wide are spelled out: the regex then enforces the bounds
TEXT_CHAR = r"([^<&>\r]|&(amp|lt|gt|#13);)"
ATTR_CHAR = r"([^<&>\"\r\n\t]|&(amp|lt|gt|quot|#10|#9|#13);)"
_ZONE = r"(Z|[+-][0-9]{2}:[0-9]{2})?"
_TIME = r"[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
_LEXICAL = {
    "boolean": "(true|false)",
    "float": r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?", "double": r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?",
    "date": r"[0-9]{4}-[0-9]{2}-[0-9]{2}" + _ZONE, "time": _TIME + _ZONE,
    "dateTime": r"[0-9]{4}-[0-9]{2}-[0-9]{2}T" + _TIME + _ZONE,
    "gYear": "[0-9]{4}", "gYearMonth": "[0-9]{4}-[0-9]{2}", "duration": r"-?P[0-9A-Z.]+",
}
_UNSIGNED = {"nonNegativeInteger", "positiveInteger", "unsignedLong", "unsignedInt", "unsignedShort",
             "unsignedByte"}


class Unsupported(Exception):
    """The schema uses something outside the supported subset."""


def regex_for(task: Task) -> str | None:
    """The decoding regex of ``task``'s documents, or None outside the supported subset."""
    schema = task.schema
    options = task.options("xml")
    try:
        if schema.xsd is not None:
            return task.memo("xml-regex", lambda: _XsdRegex(schema.xsd, options.root).document())
        from formtune_xml.mapping import SchemaView, root_name

        view = SchemaView(schema.json)
        return task.memo("xml-regex", lambda: _JsonRegex(view, set(options.attributes)).document(
            root_name(schema.json, options.root)))
    except (Unsupported, RecursionError):
        return None


def _repeat(pattern: str, low: int, high: int | None) -> str:
    if high is not None and high > MAX_COUNT:
        high = None
    if (low, high) == (1, 1):
        return pattern
    if (low, high) == (0, 1):
        return f"({pattern})?"
    return f"({pattern}){{{low},{'' if high is None else high}}}"


def _element(name: str, attrs: str, inner: str, can_be_empty: bool) -> str:
    """An element as render writes it: ``<n a="…"/>`` when empty, else ``<n a="…">…</n>``."""
    name = re.escape(name)
    full = f"<{name}{attrs}>{inner}</{name}>"
    return f"(<{name}{attrs}/>|{full})" if can_be_empty else full


def _alternatives(numbers: Any) -> str:
    return "(" + "|".join(str(n) for n in numbers) + ")"


def _text(low: int, high: int | None, attr: bool) -> str:
    char = ATTR_CHAR if attr else TEXT_CHAR
    return f"{char}{{{low},{'' if high is None else high}}}"


class _XsdRegex:
    def __init__(self, xsd: Any, root: str | None) -> None:
        from formtune_xml.generate import namespace_mode, root_element

        self.xsd, self.mode = xsd, namespace_mode(xsd)
        self.root = root_element(xsd, root)

    def document(self) -> str:
        declaration = ""
        if self.mode is not None:
            from formtune_xml.generate import PREFIX

            key = "xmlns" if self.mode == "default" else f"xmlns:{PREFIX}"
            declaration = f' {key}="{re.escape(escape_attr(self.xsd.target_namespace))}"'
        return self.element(self.root, 0, declaration)

    def element(self, el: Any, depth: int, declaration: str = "") -> str:
        from formtune_xml.generate import element_name

        if depth > MAX_DEPTH or el.abstract:
            raise Unsupported(el.local_name)
        name, kind = element_name(el, self.mode), el.type
        if kind.is_simple():
            inner, empty = self.simple(kind, attr=False, fixed=el.fixed)
            return _element(name, declaration, inner, empty)
        if kind.mixed or kind.open_content is not None and kind.open_content.mode != "none":
            raise Unsupported("mixed or open content")
        attrs = declaration + self.attributes(kind)
        if kind.has_simple_content():
            inner, empty = self.simple(kind.content, attr=False, fixed=el.fixed)
            return _element(name, attrs, inner, empty)
        if kind.is_empty() or kind.content is None:
            return f"<{re.escape(name)}{attrs}/>"
        inner = self.group(kind.content, depth)
        return _element(name, attrs, inner, kind.content.is_emptiable())

    def attributes(self, kind: Any) -> str:
        parts = []
        for key, attr in kind.attributes.items():
            if key is None:
                raise Unsupported("attribute wildcard")
            if attr.use == "prohibited":
                continue
            if (attr.name or "").startswith("{"):
                raise Unsupported("namespaced attribute")
            value, _ = self.simple(attr.type, attr=True, fixed=attr.fixed)
            part = f' {re.escape(attr.local_name)}="{value}"'
            parts.append(part if attr.use == "required" else f"({part})?")
        return "".join(parts)

    def group(self, group: Any, depth: int) -> str:
        from xmlschema.validators import XsdAnyElement, XsdGroup

        items = []
        for particle in group:
            if isinstance(particle, XsdAnyElement):
                raise Unsupported("xs:any")
            if isinstance(particle, XsdGroup):
                items.append(self.group(particle, depth))
            else:
                items.append(_repeat(self.element(particle, depth + 1), particle.min_occurs, particle.max_occurs))
        body = f"({'|'.join(items)})" if group.model == "choice" else "".join(items)
        return _repeat(body, group.min_occurs, group.max_occurs)

    def simple(self, simple: Any, attr: bool, fixed: str | None = None) -> tuple[str, bool]:
        """The regex of a non-empty text of ``simple``, and whether the text may be empty."""
        from formtune_xml.xsd_values import INTEGERS, builtin, facet, user_patterns

        escape = escape_attr if attr else escape_text
        if fixed is not None:
            return re.escape(escape(fixed)), fixed == ""
        if simple.is_list() or simple.is_union():
            if simple.is_union():
                options = [self.simple(member, attr) for member in simple.member_types]
                return "(" + "|".join(o for o, _ in options) + ")", any(e for _, e in options)
            item, _ = self.simple(simple.item_type if hasattr(simple, "item_type") else simple.base_type.item_type, attr)
            return f"{item}( {item})*", False
        if simple.enumeration:
            values = [v if isinstance(v, str) else str(v).lower() if isinstance(v, bool) else str(v)
                      for v in simple.enumeration]
            nonempty = [re.escape(escape(v)) for v in values if v != ""]
            return f"({'|'.join(nonempty)})", "" in values
        patterns = user_patterns(simple)
        if len(patterns) == 1:
            translated = _plain(patterns[0].pattern)
            if translated is not None:
                return f"({translated})", simple.is_valid("")
        kind = builtin(simple)
        if kind in _LEXICAL:
            return _LEXICAL[kind], False
        if kind in INTEGERS:
            low, high = simple.min_value, simple.max_value
            if low is not None and high is not None and high - low <= SMALL_RANGE:
                return _alternatives(n for n in range(int(low), int(high) + 1) if simple.is_valid(str(n))), False
            digits = facet(simple, "totalDigits")
            sign = "" if kind in _UNSIGNED else "-?"
            return f"{sign}[0-9]{{1,{digits or ''}}}", False
        if kind == "decimal":
            fraction = facet(simple, "fractionDigits")
            tail = "" if fraction == 0 else rf"(\.[0-9]{{1,{fraction or ''}}})?"
            return f"-?[0-9]+{tail}", False
        low = simple.min_length or 0
        return _text(max(low, 1), simple.max_length, attr), low == 0


def _plain(pattern: str) -> str | None:
    """The body of an xmlschema-compiled pattern when it is a plain regex outlines can use."""
    if not (pattern.startswith("^(?:") and pattern.endswith(")$(?!\\n\\Z)")):
        return None
    body = pattern[4:-len(")$(?!\\n\\Z)")]
    if re.search(r"\(\?[=!<]|\\[1-9]|[<&\"]", body) or len(body) > 500:
        return None  # lookarounds, backreferences, characters render escapes, huge Unicode classes
    return body


class _JsonRegex:
    def __init__(self, view: Any, attributes: set[str]) -> None:
        self.view, self.attributes = view, attributes

    def document(self, root: str) -> str:
        return self.wrap(root, self.view.root, 0)

    def wrap(self, name: str, schema: Any, depth: int) -> str:
        if depth > MAX_DEPTH:
            raise Unsupported("too deep")
        types = self.view.types(schema)
        if "object" in types:
            if len(types - {"null"}) > 1:
                raise Unsupported("object or something else")
            attrs, inner, empty = self.object(schema, depth)
            return _element(name, attrs, inner, empty) if inner else f"<{re.escape(name)}{attrs}/>"
        inner, empty = self.content(schema, depth)
        return _element(name, "", inner, empty)

    def object(self, schema: Any, depth: int) -> tuple[str, str, bool]:
        props: dict[str, Any] = {}
        for part in self.view.parts(schema):
            for key, sub in (part.get("properties") or {}).items():
                props.setdefault(key, sub)
            if part.get("patternProperties"):
                raise Unsupported("patternProperties")
        required = set(self.view.required(schema))
        attrs, children, empty = "", "", True
        for key, sub in props.items():
            types = self.view.types(sub)
            optional = key not in required or "null" in types
            if key in self.attributes and not types & {"object", "array"}:
                value, _ = self.scalar(sub, attr=True)
                part = f' {re.escape(key)}="{value}"'
                attrs += f"({part})?" if optional else part
                continue
            if "array" in types:
                low = 0 if optional else max(self.minimum(sub, "minItems"), 0)
                item = self.wrap(key, self.view.items(sub), depth + 1)
                children += _repeat(item, low, self.maximum(sub, "maxItems"))
                empty = empty and low == 0
            else:
                element = self.wrap(key, sub, depth + 1)
                children += f"({element})?" if optional else element
                empty = empty and optional
        return attrs, children, empty

    def minimum(self, schema: Any, key: str) -> int:
        return max([p[key] for p in self.view.parts(schema) if isinstance(p.get(key), int)] or [0])

    def maximum(self, schema: Any, key: str) -> int | None:
        values = [p[key] for p in self.view.parts(schema) if isinstance(p.get(key), int)]
        return min(values) if values else None

    def bound(self, schema: Any, key: str, pick: Any) -> float | None:
        values = [p[key] for p in self.view.parts(schema)
                  if isinstance(p.get(key), (int, float)) and not isinstance(p.get(key), bool)]
        return pick(values) if values else None

    def content(self, schema: Any, depth: int) -> tuple[str, bool]:
        types = self.view.types(schema)
        if "array" in types:
            raise Unsupported("array of arrays")
        return self.scalar(schema, attr=False)

    def scalar(self, schema: Any, attr: bool) -> tuple[str, bool]:
        from formtune_xml.mapping import json_text

        escape = escape_attr if attr else escape_text
        constants = self.view.constants(schema)
        if constants:
            texts = {json_text(c) for c in constants if not isinstance(c, (dict, list))}
            nonempty = sorted(re.escape(escape(t)) for t in texts if t)
            return f"({'|'.join(nonempty)})", "" in texts
        types = self.view.types(schema) - {"null"}
        options, empty = [], False
        for kind in sorted(types) or ["string"]:
            if kind == "string":
                low = self.minimum(schema, "minLength")
                options.append(_text(max(low, 1), self.maximum(schema, "maxLength"), attr))
                empty = empty or low == 0
            elif kind == "integer":
                low, high = self.bound(schema, "minimum", max), self.bound(schema, "maximum", min)
                small = low is not None and high is not None and high - low <= SMALL_RANGE
                options.append(_alternatives(range(math.ceil(low), math.floor(high) + 1)) if small else "-?[0-9]+")
            elif kind == "number":
                options.append(_LEXICAL["float"])
            elif kind == "boolean":
                options.append("(true|false)")
            else:
                raise Unsupported(kind)
        return f"({'|'.join(options)})", empty
