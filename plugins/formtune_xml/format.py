"""XML as an output format: one well-formed document, read by a hardened parser.

Values are described in :mod:`formtune_xml.value`; parsing in :mod:`formtune_xml.parse`; schemas
(an XSD, or a JSON Schema written as XML) in :mod:`formtune_xml.schema` and
:mod:`formtune_xml.mapping`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from formtune.contrib import NOT_FOUND, DecodingConstraint, Format, parse_document
from formtune.violations import Checked

from formtune_xml.parse import NotXml, parse_xml
from formtune_xml.value import NotAnXmlValue, leaves, render_value

if TYPE_CHECKING:
    from formtune.task import Task

_FENCE = re.compile(r"```(?:xml|XML)?\s*\n?(.*?)```", re.DOTALL)
_ROOT = re.compile(r"<([A-Za-z_][\w.:-]*)[\s/>]")


class XmlFormat(Format):
    """The whole completion must be exactly one XML document (surrounding whitespace aside)."""

    name = "xml"
    label = "XML"
    schema_language = "XML Schema (XSD)"
    default_validators = ("xml-schema",)
    default_generator = "xml-sampler"

    def parse(self, text: str, *, lenient: bool = False) -> Checked:
        return parse_document(text, lenient=lenient, read=parse_xml, rejected=NotXml,
                              what="well-formed XML document", extract=_extract)

    def render(self, value: Any) -> str:
        return render_value(value)

    def load_schema(self, ref: str | dict[str, Any] | bool, task: Task) -> Any:
        from formtune_xml.schema import load_schema

        return load_schema(ref, task)

    def describe_schema(self, task: Task) -> str:
        schema = task.schema
        if schema.xsd is not None:
            return schema.text
        from formtune_xml.mapping import root_name

        options = task.options("xml")
        attributes = f"; these properties are attributes: {', '.join(options.attributes)}" \
            if options.attributes else ""
        return (f"the JSON Schema below, written as XML: root element <{root_name(schema.json, options.root)}>, "
                f"each property a child element in this order{attributes}, each array item a repeated "
                f"element of the array's name, null and empty arrays left out\n"
                f"{Format.describe_schema(self, _JsonView(task))}")

    def prompt(self, task: Task) -> str:
        language = self.schema_language if task.schema.xsd is not None else "description"
        return (f"{task.spec.instructions}\n\nAnswer with exactly one XML document that matches this "
                f"{language}, with no XML declaration and no whitespace between elements, and nothing "
                f"else (no code fences, no explanations):\n{self.describe_schema(task)}")

    def canonical(self, value: Any) -> Any:
        """The value as parsing its rendering gives it: strings everywhere, element order kept,
        attribute order ignored (dicts compare without order)."""
        try:
            return parse_xml(render_value(value))
        except (NotXml, NotAnXmlValue):
            return value

    def fields(self, value: Any) -> set[tuple[str, str]]:
        """Element and attribute paths with their texts: ``/invoice/line[2]/@sku``."""
        try:
            return leaves(self.canonical(value))
        except NotAnXmlValue:
            return set()

    def constraint(self, task: Task) -> DecodingConstraint | None:
        from formtune_xml.constraint import regex_for

        pattern = regex_for(task)
        if pattern is None:
            return None
        from outlines.types import Regex

        return DecodingConstraint(Regex(pattern))


class _JsonView:
    """A stand-in task whose ``schema`` is the JSON Schema, for the default description."""

    def __init__(self, task: Task) -> None:
        self.schema = task.schema.json


def _extract(text: str) -> Any:
    """The first XML document inside code fences or prose, or ``NOT_FOUND``."""
    for block in _FENCE.findall(text):
        try:
            return parse_xml(block.strip())
        except NotXml:
            pass
    for match in _ROOT.finditer(text):
        name = match[1]
        end = text.rfind(f"</{name}>")
        candidates = [text[match.start():end + len(name) + 3]] if end > match.start() else []
        closing = text.find("/>", match.start())
        if closing != -1:
            candidates.append(text[match.start():closing + 2])
        for candidate in candidates:
            try:
                return parse_xml(candidate)
            except NotXml:
                continue
    return NOT_FOUND
