"""Inputs written from the schema alone: key-value lists, tables and prose, with no template.

A task's templates are its author's few wordings; a model trained only on them learns them. Layouts
add wordings nobody had to write, built from what the schema says about each field: its property
name (``order_id`` → "Order ID", "order number"), ``title`` and ``description``, its type and
format (dates and numbers are spelled by :mod:`formtune.formatters`, enum values through the task's
``phrases:``). Field order is shuffled, nested objects become sections or prefixed labels, arrays
become bullets, numbered lines or tables, and optional fields that the answer leaves out are now
and then written as "n/a", so a model learns to leave them out too. A task with one template, or
none, still gets varied inputs (``data.layouts``).

:class:`SchemaView` reads the JSON Schema (local ``$ref``, ``allOf``; the properties of
``anyOf``/``oneOf`` branches are merged): layouts need JSON-Schema-described, JSON-like values.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

from formtune.formatters import Formatters

KINDS = ("kv", "table", "prose")
#: Chance that an optional field the answer leaves out is written as absent ("Order ID: n/a").
ABSENT_SHOWN = 0.35
ABSENT_WORDS = ("n/a", "none", "-", "not given", "unknown", "(none)", "N/A", "—", "no")
#: Other words for common last parts of property names, so "order_id" is also an "order number".
SYNONYMS = {
    "id": ("ID", "number", "no.", "#", "reference"), "code": ("code", "ref"), "email": ("e-mail", "email address", "mail"),
    "phone": ("phone", "tel.", "phone number"), "name": ("name", "full name"), "qty": ("quantity", "qty"),
    "quantity": ("quantity", "qty", "count"), "date": ("date", "day"), "sku": ("SKU", "item code", "product code"),
    "number": ("number", "no.", "#"), "company": ("company", "organisation"), "organization": ("organization", "company"),
}


class SchemaView:
    """The parts of a JSON Schema that layouts need: properties, required names, items."""

    def __init__(self, schema: Any) -> None:
        self.root = schema if isinstance(schema, dict) else {}

    def resolve(self, node: Any, depth: int = 0) -> dict[str, Any]:
        """``node`` with local ``$ref`` followed and ``allOf``/``anyOf``/``oneOf`` merged (shallowly)."""
        if not isinstance(node, dict) or depth > 16:
            return {}
        if isinstance(node.get("$ref"), str) and node["$ref"].startswith("#"):
            target: Any = self.root
            for token in node["$ref"].lstrip("#").split("/")[1:]:
                token = token.replace("~1", "/").replace("~0", "~")
                target = target.get(token, {}) if isinstance(target, dict) else {}
            node = {**self.resolve(target, depth + 1), **{k: v for k, v in node.items() if k != "$ref"}}
        merged = dict(node)
        for keyword in ("allOf", "anyOf", "oneOf"):
            for branch in node.get(keyword, []) if isinstance(node.get(keyword), list) else []:
                part = self.resolve(branch, depth + 1)
                merged["properties"] = {**part.get("properties", {}), **merged.get("properties", {})}
                if keyword == "allOf":
                    merged["required"] = [*merged.get("required", []), *part.get("required", [])]
                for key in ("type", "enum", "format", "items", "title", "description"):
                    if key in part:
                        merged.setdefault(key, part[key])
        return merged

    def properties(self, node: dict[str, Any]) -> dict[str, dict[str, Any]]:
        props = node.get("properties", {})
        return {k: self.resolve(v) for k, v in props.items()} if isinstance(props, dict) else {}

    def items(self, node: dict[str, Any]) -> dict[str, Any]:
        items = node.get("items", {})
        return self.resolve(items if isinstance(items, dict) else {})


@dataclass(frozen=True)
class Absent:
    """An optional property that the answer leaves out, where its parent object is present."""

    pointer: str
    name: str
    schema: dict[str, Any]


def absent_fields(output: Any, view: SchemaView) -> list[Absent]:
    """The optional properties missing from ``output``, in schema order."""
    found: list[Absent] = []

    def walk(value: Any, node: dict[str, Any], pointer: str) -> None:
        if isinstance(value, dict):
            for name, sub in view.properties(node).items():
                if name in value:
                    walk(value[name], sub, f"{pointer}/{name}")
                elif name not in node.get("required", []):
                    found.append(Absent(f"{pointer}/{name}", name, sub))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, view.items(node), f"{pointer}/{i}")

    walk(output, view.resolve(view.root), "")
    return found


def drop_optional(output: Any, view: SchemaView, rng: random.Random, chance: float) -> tuple[Any, list[str]]:
    """A copy of ``output`` with each optional property removed with probability ``chance`` (the
    task's validators check the result: a schema whose other keywords need the property rejects
    it), and the pointers removed."""
    dropped: list[str] = []

    def walk(value: Any, node: dict[str, Any], pointer: str) -> Any:
        if isinstance(value, dict):
            props, required = view.properties(node), set(node.get("required", []))
            kept = {}
            for name, item in value.items():
                if name in props and name not in required and rng.random() < chance:
                    dropped.append(f"{pointer}/{name}")
                    continue
                kept[name] = walk(item, props.get(name, {}), f"{pointer}/{name}")
            return kept
        if isinstance(value, list):
            return [walk(item, view.items(node), f"{pointer}/{i}") for i, item in enumerate(value)]
        return value

    return walk(output, view.resolve(view.root), ""), dropped


def labels(name: str, node: dict[str, Any]) -> list[str]:
    """Ways to call a property: its title, its name in words, and synonyms of its last word."""
    words = [w for w in re.split(r"[_\-\s]+|(?<=[a-z])(?=[A-Z])", name) if w]
    plain = " ".join(w.lower() for w in words) or name
    found = [plain, plain.capitalize(), name]
    if isinstance(node.get("title"), str) and node["title"].strip():
        found += [node["title"].strip()] * 2
    last = words[-1].lower() if words else ""
    for other in SYNONYMS.get(last, ()):
        head = " ".join(w.lower() for w in words[:-1])
        found.append(f"{head} {other}".strip())
    return list(dict.fromkeys(found))


class Layout:
    """Writes one answer as an input text in one layout, drawing every choice from ``rng``."""

    def __init__(self, view: SchemaView, rng: random.Random, phrases: dict[str, dict[str, list[str]]] | None = None):
        self.view, self.rng = view, rng
        self.fmt = Formatters(rng, phrases or {})
        self.phrases = phrases or {}

    def render(self, kind: str, output: Any) -> str:
        if kind not in KINDS:
            raise ValueError(f"unknown layout {kind!r} (layouts: {', '.join(KINDS)})")
        node = self.view.resolve(self.view.root)
        if not isinstance(output, dict):
            return self.spell("value", node, output)
        return {"kv": self._kv, "table": self._table, "prose": self._prose}[kind](output, node)

    # -- pieces ------------------------------------------------------------------------------

    def label(self, name: str, node: dict[str, Any], parent: str = "") -> str:
        text = self.rng.choice(labels(name, node))
        return f"{parent} {text}".strip() if parent and self.rng.random() < 0.7 else text

    def spell(self, name: str, node: dict[str, Any], value: Any) -> str:
        """A scalar as an input would write it; arrays of scalars as a list."""
        rng, fmt = self.rng, self.fmt
        if isinstance(value, list):
            return fmt.listing([self.spell(name, self.view.items(node), v) for v in value],
                               rng.choice(["commas", "and"]))
        key = str(value).lower() if isinstance(value, bool) else str(value)
        if name in self.phrases and key in self.phrases[name] and rng.random() < 0.7:
            return fmt.say(name, value)
        if isinstance(value, bool):
            return rng.choice([("yes", "no"), ("Yes", "No"), ("true", "false"), ("y", "n")])[0 if value else 1]
        if isinstance(value, int) and not isinstance(value, bool):
            return fmt.number(value)
        if isinstance(value, str) and node.get("format") == "date" and _iso_date(value) and rng.random() < 0.7:
            return fmt.date(value)
        if isinstance(value, str) and "enum" in node and "_" in value and rng.random() < 0.5:
            return value.replace("_", " ")
        return str(value)

    def _fields(self, output: dict[str, Any], node: dict[str, Any]) -> list[tuple[str, dict[str, Any], Any]]:
        """``(name, schema, value)`` for present properties and, sometimes, absent ones (value
        ``None``: written as absent), in a shuffled order."""
        props = self.view.properties(node)
        present = [(name, props.get(name, {}), value) for name, value in output.items()]
        shown_absent = [(name, sub, None) for name, sub in props.items()
                        if name not in output and name not in node.get("required", [])
                        and sub.get("type") != "array" and self.rng.random() < ABSENT_SHOWN]
        fields = present + shown_absent
        self.rng.shuffle(fields)
        return fields

    # -- layouts -----------------------------------------------------------------------------

    def _kv(self, output: dict[str, Any], node: dict[str, Any], parent: str = "", indent: str = "") -> str:
        sep = self.rng.choice([": ", ": ", " - ", " = ", ":\t"])
        lines = []
        for name, sub, value in self._fields(output, node):
            if value is None:
                lines.append(f"{indent}{self.label(name, sub, parent)}{sep}{self.rng.choice(ABSENT_WORDS)}")
            elif isinstance(value, dict):
                title = self.label(name, sub)
                if self.rng.random() < 0.5:
                    lines.append(f"{indent}{title}:")
                    lines.append(self._kv(value, sub, "", indent + self.rng.choice(["  ", "    ", "\t"])))
                else:
                    lines.append(self._kv(value, sub, title, indent))
            elif isinstance(value, list) and any(isinstance(v, dict) for v in value):
                lines.append(f"{indent}{self.label(name, sub, parent)}:")
                lines += [f"{indent}{self._bullet(i)}{self._inline(v, self.view.items(sub))}" for i, v in enumerate(value)]
            else:
                lines.append(f"{indent}{self.label(name, sub, parent)}{sep}{self.spell(name, sub, value)}")
        return "\n".join(lines)

    def _bullet(self, i: int) -> str:
        return self.rng.choice(["- ", "* ", f"{i + 1}. ", f"{i + 1}) ", "• "])

    def _inline(self, value: Any, node: dict[str, Any], joiner: str | None = None) -> str:
        """An array item or an object on one line: ``sku ABC-1234, quantity 2``."""
        if not isinstance(value, dict):
            return self.spell("item", node, value)
        joiner = joiner or self.rng.choice([", ", "; ", " | "])
        parts = []
        for name, sub, item in self._fields(value, node):
            if item is None:
                continue
            if isinstance(item, (dict, list)) and not _scalars(item):
                parts.append(f"{self.label(name, sub)}: {self._inline(item, sub)}")
            else:
                parts.append(f"{self.label(name, sub)}{self.rng.choice([' ', ': ', '='])}{self.spell(name, sub, item)}")
        return joiner.join(parts)

    def _table(self, output: dict[str, Any], node: dict[str, Any]) -> str:
        """Scalars as a two-column table; each array of objects as a table of its own."""
        props = self.view.properties(node)
        scalars = {k: v for k, v in output.items() if not (isinstance(v, list) and any(isinstance(i, dict) for i in v))}
        tables = {k: v for k, v in output.items() if k not in scalars}
        bar = self.rng.random() < 0.5
        rows = []
        for name, sub, value in self._fields(scalars, node):
            text = self.rng.choice(ABSENT_WORDS) if value is None else (
                self._inline(value, sub) if isinstance(value, dict) else self.spell(name, sub, value))
            rows.append([self.label(name, sub), text])
        parts = [_grid(["field", "value"] if self.rng.random() < 0.5 else None, rows, bar)]
        for name, items in tables.items():
            sub = props.get(name, {})
            item_node = self.view.items(sub)
            columns = list(dict.fromkeys(k for item in items for k in item))
            self.rng.shuffle(columns)
            item_props = self.view.properties(item_node)
            header = [self.label(c, item_props.get(c, {})) for c in columns]
            body = [[self.spell(c, item_props.get(c, {}), item[c]) if c in item else "" for c in columns] for item in items]
            parts.append(f"{self.label(name, sub)}:\n{_grid(header, body, bar)}")
        self.rng.shuffle(parts)
        return "\n\n".join(parts)

    def _prose(self, output: dict[str, Any], node: dict[str, Any], parent: str = "") -> str:
        sentences = []
        for name, sub, value in self._fields(output, node):
            label = self.label(name, sub, parent)
            if value is None:
                sentences.append(self.rng.choice([f"No {label.lower()}.", f"There is no {label.lower()}.",
                                                  f"{label.capitalize()}: {self.rng.choice(ABSENT_WORDS)}."]))
            elif isinstance(value, dict):
                sentences.append(self._prose(value, sub, self.label(name, sub)))
            elif isinstance(value, list) and any(isinstance(v, dict) for v in value):
                items = [self._inline(v, self.view.items(sub), ", ") for v in value]  # items apart with ";"
                sentences.append(f"{label.capitalize()}: {'; '.join(items)}.")
            else:
                text = self.spell(name, sub, value)
                sentences.append(self.rng.choice([f"The {label.lower()} is {text}.", f"{label.capitalize()} is {text}.",
                                                  f"{label.capitalize()}: {text}.", f"{label.capitalize()} {text}."]))
        return " ".join(sentences)


def _grid(header: list[str] | None, rows: list[list[str]], bar: bool) -> str:
    """A plain-text table: markdown-style with bars, or columns aligned with spaces."""
    table = ([header] if header else []) + rows
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))] if table else []
    if bar:
        lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in table]
        if header:
            lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
        return "\n".join(lines)
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in table)


def _scalars(value: Any) -> bool:
    return isinstance(value, list) and not any(isinstance(v, (dict, list)) for v in value)


def _iso_date(text: str) -> bool:
    return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", text))
