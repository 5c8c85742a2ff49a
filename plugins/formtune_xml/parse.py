"""Hardened parsing of a completion into an XML value (see :mod:`formtune_xml.value` for the shape).

The parser is defusedxml's expat reader with every DTD forbidden: no ``<!DOCTYPE``, hence no
entity declarations (billion laughs, quadratic blowup, parameter entities), no external entities
(local files or URLs) and no DTD retrieval. Nothing is ever fetched or read besides the text
itself; XInclude and XSLT are never processed (an ``xi:include`` is an ordinary element, which a
schema then rejects). On top of that the work is bounded: the text's size, the nesting depth, the
number of elements and the number of attributes of one element. A UTF-8 byte order mark is legal
XML and is accepted (the core reads files as UTF-8 text, where it arrives as U+FEFF).
"""

from __future__ import annotations

import io
from typing import Any
from xml.sax import SAXException, SAXParseException
from xml.sax.handler import ContentHandler
from xml.sax.xmlreader import InputSource

from defusedxml import DefusedXmlException
from defusedxml.expatreader import create_parser

from formtune_xml.value import element_value

MAX_CHARS = 5_000_000  # characters of one document
MAX_DEPTH = 256  # nesting of elements
MAX_ELEMENTS = 200_000  # elements of one document
MAX_ATTRIBUTES = 1_000  # attributes of one element


class NotXml(ValueError):
    """The text is not one well-formed, acceptable XML document; the message says why."""


class _Builder(ContentHandler):
    """Builds the value while expat reads, so the bounds stop the work early."""

    def __init__(self) -> None:
        super().__init__()
        # Each frame: [name, attributes, children [(name or None for text, value)], text parts]
        self.stack: list[list[Any]] = [["", {}, [], []]]
        self.elements = 0

    def startElement(self, name: str, attrs: Any) -> None:  # noqa: N802 - the SAX API
        self.elements += 1
        if len(self.stack) > MAX_DEPTH:
            raise NotXml(f"elements nested deeper than {MAX_DEPTH} levels")
        if self.elements > MAX_ELEMENTS:
            raise NotXml(f"more than {MAX_ELEMENTS} elements")
        if len(attrs) > MAX_ATTRIBUTES:
            raise NotXml(f"element <{name}> has {len(attrs)} attributes (at most {MAX_ATTRIBUTES})")
        parent = self.stack[-1]
        if parent[3]:  # text before this child: keep its place, in case the content is mixed
            parent[2].append((None, "".join(parent[3])))
            parent[3] = []
        self.stack.append([name, {f"@{k}": v for k, v in attrs.items()}, [], []])

    def characters(self, content: str) -> None:
        self.stack[-1][3].append(content)

    def endElement(self, name: str) -> None:  # noqa: N802 - the SAX API
        _, attrs, children, text = self.stack.pop()
        if text:
            children.append((None, "".join(text)))
        self.stack[-1][2].append((name, element_value(attrs, children)))


def parse_xml(text: str) -> Any:
    """The value of the single XML document ``text``, or :class:`NotXml` saying what is wrong."""
    if len(text) > MAX_CHARS:
        raise NotXml(f"document of {len(text)} characters (at most {MAX_CHARS})")
    builder = _Builder()
    reader = create_parser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    reader.setContentHandler(builder)
    source = InputSource()
    source.setCharacterStream(io.StringIO(text))
    try:
        reader.parse(source)
    except NotXml:
        raise
    except DefusedXmlException as exc:
        raise NotXml(_defused_message(exc)) from None
    except SAXParseException as exc:
        raise NotXml(f"line {exc.getLineNumber()}, column {exc.getColumnNumber() + 1}: "
                     f"{exc.getMessage()}") from None
    except (SAXException, UnicodeError, ValueError, RecursionError, MemoryError) as exc:
        raise NotXml(f"not readable as XML: {exc}") from None
    roots = [(n, v) for n, v in builder.stack[0][2] if n is not None]
    if not roots:
        raise NotXml("no root element")
    return {roots[0][0]: roots[0][1]}


def _defused_message(exc: DefusedXmlException) -> str:
    kind = type(exc).__name__
    if kind == "DTDForbidden":
        return "a DOCTYPE (DTD) is not allowed: remove it (entities and DTDs are never processed)"
    if kind == "EntitiesForbidden":
        return "entity declarations are not allowed: remove them"
    return f"external references are not allowed: {kind}"
