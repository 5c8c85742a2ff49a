"""Where a field lives in a schema, and which JSON types the schema allows there.

Caller hints name fields (a property name, or a pointer into the instance such as
``/customer/name``). To reject a misspelled field or a hint of the wrong type when the sampler is
built, rather than on first use, this module reads the schema statically: it follows ``$ref``,
``allOf``/``anyOf``/``oneOf``/``if``/``then``/``else`` and dependent schemas, and walks
``properties``, ``patternProperties``, ``additionalProperties`` and the array keywords along a
pointer. It over-approximates (anything a branch might allow counts as allowed): a hint it lets
through is still validated value by value when sampling.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import referencing.exceptions

from formtune.schema.sampler.keywords import ALL_TYPES, Part
from formtune.schema.sampler.values import json_type, search

Types = frozenset[str] | None  # None: the schema does not restrict the type
REFS = ("$ref", "$dynamicRef", "$recursiveRef")
DATA = {"enum", "const", "examples", "default"}  # values, not schemas: never walked
NAMED = {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas", "dependencies"}
BRANCHES = ("allOf", "anyOf", "oneOf", "then", "else")
MAX_DEPTH = 32  # nested references followed when computing types: recursive schemas end here


class Reader:
    """Reads one compiled schema: resolves references, finds fields, computes types."""

    def __init__(self, root: Part, enter: Any) -> None:
        self.root = root
        self.enter = enter  # (schema, resolver) -> the resolver inside that schema

    def deref(self, schema: dict, res: Any) -> Iterator[Part]:
        for keyword in REFS:
            if isinstance(schema.get(keyword), str):
                target = "#" if keyword == "$recursiveRef" else schema[keyword]
                try:
                    resolved = res.lookup(target)
                except referencing.exceptions.Unresolvable:
                    continue
                yield resolved.contents, resolved.resolver

    def applying(self, parts: list[Part]) -> list[Part]:
        """Every subschema that may apply where ``parts`` apply: references and branches too."""
        out: list[Part] = []
        seen: set[int] = set()
        stack = list(parts)
        while stack:
            schema, res = stack.pop()
            if not isinstance(schema, dict) or id(schema) in seen:
                continue
            seen.add(id(schema))
            res = self.enter(schema, res)
            out.append((schema, res))
            stack.extend(self.deref(schema, res))
            for keyword in BRANCHES:
                value = schema.get(keyword)
                stack.extend((sub, res) for sub in (value if isinstance(value, list) else [value]))
            for keyword in ("dependentSchemas", "dependencies"):
                if isinstance(schema.get(keyword), dict):
                    stack.extend((sub, res) for sub in schema[keyword].values())
        return out

    def child(self, parts: list[Part], token: str) -> list[Part]:
        """The subschemas of key or index ``token`` (``*``: any) under the location of ``parts``."""
        out: list[Part] = []
        for schema, res in self.applying(parts):
            props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
            patterns = schema.get("patternProperties") if isinstance(schema.get("patternProperties"), dict) else {}
            matched = [sub for name, sub in props.items() if token in ("*", name)]
            matched += [sub for pattern, sub in patterns.items() if token == "*" or search(pattern, token)]
            extra = schema.get("additionalProperties")
            if isinstance(extra, dict) and (token == "*" or not matched):
                matched.append(extra)
            if token == "*" or token.isdigit():
                matched += self.items(schema, None if token == "*" else int(token))
            out += [(sub, res) for sub in matched]
        return out

    @staticmethod
    def items(schema: dict, index: int | None) -> list[Any]:
        """The item schemas of an array schema: at ``index``, or at any index when None."""
        prefix = schema.get("prefixItems", schema.get("items") if isinstance(schema.get("items"), list) else [])
        rest = [schema.get(k) for k in ("items", "additionalItems", "contains")]
        rest = [sub for sub in rest if isinstance(sub, dict)]
        if index is None:
            return [sub for sub in prefix if isinstance(sub, dict)] + rest
        return [prefix[index]] if index < len(prefix) and isinstance(prefix[index], dict) else rest

    def named(self, name: str) -> list[Part]:
        """The subschemas of every property called ``name``, anywhere in the schema."""
        out: list[Part] = []
        for schema, res in self.everywhere():
            props = schema.get("properties")
            if isinstance(props, dict) and name in props:
                out.append((props[name], res))
            patterns = schema.get("patternProperties")
            if isinstance(patterns, dict):
                out += [(sub, res) for pattern, sub in patterns.items() if search(pattern, name)]
        return out

    def everywhere(self) -> Iterator[Part]:
        """Every schema object reachable from the root, through references too."""
        seen: set[int] = set()
        stack = [self.root]
        while stack:
            node, res = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            if isinstance(node, list):
                stack.extend((sub, res) for sub in node if isinstance(sub, (dict, list)))
                continue
            res = self.enter(node, res)
            yield node, res
            stack.extend(self.deref(node, res))
            for key, value in node.items():
                if key in NAMED and isinstance(value, dict):
                    stack.extend((sub, res) for sub in value.values() if isinstance(sub, dict))
                elif key not in DATA and isinstance(value, (dict, list)):
                    stack.append((value, res))

    def types(self, parts: list[Part]) -> Types:
        """The JSON types any of ``parts`` allows (``integer`` counts as allowed under ``number``)."""
        found: set[str] = set()
        for schema, res in parts:
            allowed = self.allowed(schema, res, 0)
            if allowed is None:
                return None
            found |= allowed
        return frozenset(found)

    def allowed(self, schema: Any, res: Any, depth: int) -> Types:
        if schema is False:
            return frozenset()
        if not isinstance(schema, dict) or depth > MAX_DEPTH:
            return None
        res = self.enter(schema, res)
        result: Types = None
        kind = schema.get("type")
        if isinstance(kind, (str, list)):
            result = _meet(result, _widen({kind} if isinstance(kind, str) else set(kind)))
        if isinstance(schema.get("enum"), list) or "const" in schema:
            values = schema["enum"] if isinstance(schema.get("enum"), list) else [schema["const"]]
            result = _meet(result, _widen({json_type(v) for v in values}))
        for target, inner in self.deref(schema, res):
            result = _meet(result, self.allowed(target, inner, depth + 1))
        for sub in schema.get("allOf", []) if isinstance(schema.get("allOf"), list) else []:
            result = _meet(result, self.allowed(sub, res, depth + 1))
        for keyword in ("anyOf", "oneOf"):
            if isinstance(schema.get(keyword), list):
                options = [self.allowed(sub, res, depth + 1) for sub in schema[keyword]]
                union = None if None in options else frozenset().union(*options)
                result = _meet(result, union)
        return result


def _widen(types: set[str]) -> frozenset[str]:
    """``number`` allows integers too; unknown names are ignored."""
    if "number" in types:
        types = types | {"integer"}
    return frozenset(t for t in types if t in ALL_TYPES)


def _meet(a: Types, b: Types) -> Types:
    return b if a is None else a if b is None else a & b
