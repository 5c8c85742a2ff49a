"""The XML rendering of a JSON Schema's instances, for users who only have a JSON Schema.

A JSON value becomes an XML value (:mod:`formtune_xml.value`) like this:

- the root element is ``xml.root``, else the schema's ``title`` when it is an XML name, else ``root``;
- an object's properties become child elements in the object's order (the sampler keeps the
  schema's order), except the names listed in ``xml.attributes``, which become attributes of the
  parent when their value is a scalar;
- an array property repeats its element once per item (``"tags": ["a", "b"]`` is
  ``<tags>a</tags><tags>b</tags>``); an empty array and a ``null`` write nothing; an item that
  is itself an array is wrapped in ``<item>`` elements, and so are the items of a root array;
- a string is the element's text, a number its JSON spelling, a boolean ``true``/``false``.

Reading back (:func:`from_xml`) is guided by the schema: a property whose schema allows an array
is always a list, texts become numbers, booleans or null where the schema allows them (first the
``enum``/``const`` value that is spelled the same), and a missing required property that may be an
empty array or null reads as ``[]`` or ``null``. Types are found through local ``$ref``, ``allOf``,
``anyOf`` and ``oneOf``; the JSON Schema validator then judges the JSON value as usual.
"""

from __future__ import annotations

import json
import re
from typing import Any

from formtune_xml.value import CONTENT, TEXT, scalar

_NAME = re.compile(r"^[A-Za-z_][\w.-]*$")
_INTEGER = re.compile(r"^-?\d+$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?([eE][+-]?\d+)?$")
ITEM = "item"


def root_name(schema: Any, configured: str | None) -> str:
    """The root element name of documents written for ``schema``."""
    if configured:
        return configured
    title = schema.get("title") if isinstance(schema, dict) else None
    return title if isinstance(title, str) and _NAME.match(title) and not title.lower().startswith("xml") else "root"


def json_text(value: Any) -> str:
    """The text of a JSON scalar in an element or attribute."""
    return value if isinstance(value, str) else scalar(value) if isinstance(value, bool) or value is None \
        else json.dumps(value)


def to_xml(value: Any, root: str, attributes: set[str]) -> dict[str, Any]:
    """The XML value of the JSON ``value``."""
    return {root: _content(value, attributes)}


def _content(value: Any, attributes: set[str]) -> Any:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key in attributes and not isinstance(item, (dict, list)) and item is not None:
                out[f"@{key}"] = json_text(item)
        for key, item in value.items():
            if item is None or f"@{key}" in out:
                continue
            items = [_content(i, attributes) for i in item if i is not None] if isinstance(item, list) \
                else [_content(item, attributes)]
            if items:
                out[key] = items[0] if len(items) == 1 else items
        return out
    if isinstance(value, list):
        items = [_content(i, attributes) for i in value if i is not None]
        return {ITEM: items[0] if len(items) == 1 else items} if items else ""
    return json_text(value)


class SchemaView:
    """Local ``$ref``, ``allOf``, ``anyOf`` and ``oneOf`` flattened, enough to read XML back."""

    def __init__(self, root: Any) -> None:
        self.root = root

    def parts(self, schema: Any, depth: int = 0) -> list[dict[str, Any]]:
        """Every subschema that may apply at a location (branches of anyOf/oneOf included)."""
        if not isinstance(schema, dict) or depth > 32:
            return []
        found = [schema]
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#"):
            target: Any = self.root
            for part in ref[1:].split("/")[1:]:
                part = part.replace("~1", "/").replace("~0", "~")
                target = target.get(part) if isinstance(target, dict) else None
            found += self.parts(target, depth + 1)
        for key in ("allOf", "anyOf", "oneOf"):
            for sub in schema.get(key, []) if isinstance(schema.get(key), list) else []:
                found += self.parts(sub, depth + 1)
        return found

    def types(self, schema: Any) -> set[str]:
        types: set[str] = set()
        for part in self.parts(schema):
            kind = part.get("type")
            types |= {kind} if isinstance(kind, str) else set(kind) if isinstance(kind, list) else set()
            if "properties" in part or "required" in part:
                types.add("object")
            if "items" in part or "prefixItems" in part:
                types.add("array")
        return types

    def prop(self, schema: Any, name: str) -> Any:
        for part in self.parts(schema):
            props = part.get("properties")
            if isinstance(props, dict) and name in props:
                return props[name]
        for part in self.parts(schema):
            for pattern, sub in (part.get("patternProperties") or {}).items():
                if re.search(pattern, name):
                    return sub
            if isinstance(part.get("additionalProperties"), dict):
                return part["additionalProperties"]
        return {}

    def items(self, schema: Any) -> Any:
        for part in self.parts(schema):
            if isinstance(part.get("items"), dict):
                return part["items"]
        return {}

    def required(self, schema: Any) -> list[str]:
        return [name for part in self.parts(schema) for name in part.get("required", [])
                if isinstance(part.get("required"), list)]

    def constants(self, schema: Any) -> list[Any]:
        return [v for part in self.parts(schema) for v in
                (part["enum"] if isinstance(part.get("enum"), list) else [])
                + ([part["const"]] if "const" in part else [])]


def from_xml(value: dict[str, Any], schema: Any) -> Any:
    """The JSON value an XML value stands for, read with the help of ``schema``."""
    [(_, content)] = value.items()
    return _read(content, schema, SchemaView(schema))


def _read(content: Any, schema: Any, view: SchemaView) -> Any:
    types = view.types(schema)
    if isinstance(content, list):
        return [_read(c, schema, view) for c in content]
    if not isinstance(content, dict):
        return _read_text(content, schema, types, view)
    if "object" not in types and "array" in types:
        items = content.get(ITEM, [])
        return [_read(i, view.items(schema), view) for i in (items if isinstance(items, list) else [items])]
    out: dict[str, Any] = {}
    for key, item in content.items():
        if key in (TEXT, CONTENT):
            continue
        name = key[1:] if key.startswith("@") else key
        sub = view.prop(schema, name)
        if "array" in view.types(sub) and not key.startswith("@"):
            out[name] = [_read(i, view.items(sub), view) for i in (item if isinstance(item, list) else [item])]
        else:
            out[name] = _read(item, sub, view)
    for name in view.required(schema):
        if name not in out:
            sub_types = view.types(view.prop(schema, name))
            if "array" in sub_types:
                out[name] = []
            elif "null" in sub_types:
                out[name] = None
    return out


def _read_text(text: str, schema: Any, types: set[str], view: SchemaView) -> Any:
    for constant in view.constants(schema):
        if json_text(constant) == text:
            return constant
    if "integer" in types and _INTEGER.match(text):
        return int(text)
    if "number" in types and _NUMBER.match(text):
        number = float(text)
        return int(number) if number.is_integer() and _INTEGER.match(text) else number
    if "boolean" in types and text in ("true", "false"):
        return text == "true"
    if "string" in types or not types:
        return text
    if text == "":
        for kind, empty in (("null", None), ("object", {}), ("array", [])):
            if kind in types:
                return empty
    return text
