"""The ``xml-schema`` validator: an XML value against the task's XSD, or its JSON Schema.

The validator receives the parsed value, not the text. Because :func:`render_value` gives back the
same document for every value :func:`parse_xml` makes (see :mod:`formtune_xml.value`), the XSD
sees exactly what the model wrote, up to what XSD ignores (comments, PIs, formatting). So the
check renders the value and lets xmlschema validate that text: one source of truth for XSD
semantics, and no second, hand-written validator. The instance's ``xsi:schemaLocation`` hints
are never followed and the text is read by xmlschema's defused parser with no resource access.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from formtune.errors import first_line
from formtune.violations import Violation

from formtune_xml.mapping import from_xml, root_name
from formtune_xml.value import CONTENT, NotAnXmlValue, render_value, root_of

if TYPE_CHECKING:
    from formtune.task import Task

    from formtune_xml.schema import XmlSchema


def _kind(error: Any) -> str:
    """A short class for an xmlschema error: ``xsd:content``, ``xsd:enumeration``, ``xsd:type`` …"""
    import xmlschema
    from xmlschema.validators import XsdAttributeGroup, XsdFacet

    if isinstance(error, xmlschema.XMLSchemaChildrenValidationError):
        return "xsd:content"
    validator = error.validator
    if isinstance(validator, XsdFacet):  # XsdMaxInclusiveFacet -> maxInclusive
        name = re.sub(r"^Xsd|Facets?$", "", type(validator).__name__)
        return "xsd:" + name[:1].lower() + name[1:]
    if isinstance(validator, XsdAttributeGroup) or (error.reason or "").startswith("attribute"):
        return "xsd:attribute"
    if isinstance(error, xmlschema.XMLSchemaDecodeError):
        return "xsd:type"
    return "xsd:invalid"


def xsd_violations(schema: XmlSchema, value: Any) -> list[Violation]:
    """The XSD's verdict on ``value``; paths are XPath-like (``/invoice/line[2]``)."""
    from elementpath import ElementPathError
    from xmlschema import XMLResource, XMLSchemaException

    assert schema.xsd is not None
    name, _ = root_of(value)
    wanted = schema.options.root if schema.options is not None else None
    if wanted is not None and name.rpartition(":")[2] != wanted:
        return [Violation(f"/{name}", f"the root element must be <{wanted}>, not <{name}>", "xsd:root")]
    try:
        resource = XMLResource(render_value(value), allow="none", defuse="always")
        errors = list(schema.xsd.iter_errors(resource))
    except (XMLSchemaException, ElementPathError, ArithmeticError, ValueError, TypeError) as exc:
        # XSD 1.1 assertions and type alternatives are XPath programs; one that fails on this
        # document (a division by zero, a bad cast) makes the document not valid, never a crash.
        return [Violation(f"/{name}", f"cannot be validated: {first_line(exc)}", "xsd:invalid")]
    return [Violation(_path(error, name), _message(error), _kind(error)) for error in errors]


def _path(error: Any, root: str) -> str:
    """xmlschema's XPath of the element, with ``/@name`` when the error is about an attribute."""
    path = error.path or f"/{root}"
    attribute = re.match(r"attribute ([\w:.-]+)=", error.reason or "")
    return f"{path}/@{attribute[1]}" if attribute else path


def _message(error: Any) -> str:
    """The first line of the error's reason, or "invalid" when it has none (blank counts as none)."""
    lines = (error.reason or error.message or "").strip().splitlines()
    return (lines[0].strip() if lines else "invalid")[:300]


def json_violations(schema: XmlSchema, value: Any, task: Task) -> list[Violation]:
    """The JSON Schema's verdict on the JSON value that ``value`` stands for (see mapping)."""
    from formtune.schema.compile import compile_schema, violations

    name, _ = root_of(value)
    expected = root_name(schema.json, schema.options.root if schema.options else None)
    if name != expected:
        return [Violation(f"/{name}", f"the root element must be <{expected}>, not <{name}>", "xml:root")]
    validator = task.memo("xml-json-schema", lambda: compile_schema(schema.json, base_dir=task.base_dir))
    found = violations(validator, from_xml(value, schema.json))
    return [Violation(_xpath(name, v.path), v.message, v.kind) for v in found]


def _xpath(root: str, pointer: str) -> str:
    """``/items/1/sku`` → ``/order/items[2]/sku``: a JSON pointer read as the element path."""
    path = f"/{root}"
    for part in pointer.split("/")[1:]:
        part = part.replace("~1", "/").replace("~0", "~")
        path += f"[{int(part) + 1}]" if part.isdigit() and not path.endswith("]") else f"/{part}"
    return path


XINCLUDE = ("http://www.w3.org/2001/XInclude", "http://www.w3.org/2003/XInclude")


def _xinclude(path: str, content: Any) -> str | None:
    """The path of the first element that declares the XInclude namespace, if any."""
    items = content if isinstance(content, list) else [content]
    for item in items:
        if not isinstance(item, dict):
            continue
        if any(k.startswith("@xmlns") and v in XINCLUDE for k, v in item.items()):
            return path
        children = [root_of(c) for c in item.get(CONTENT, []) if isinstance(c, dict)]
        children += [(k, v) for k, v in item.items() if k[:1] not in ("@", "#")]
        for name, child in children:
            found = _xinclude(f"{path}/{name}", child)
            if found is not None:
                return found
    return None


class XmlSchemaValidator:
    """Checks an XML value against the task's XSD, or against its JSON Schema through the mapping."""

    name = "xml-schema"
    formats: tuple[str, ...] = ("xml",)

    def validate(self, value: Any, task: Task) -> list[Violation]:
        schema: XmlSchema = task.schema
        try:
            name, content = root_of(value)
            where = _xinclude(f"/{name}", content)
            if where is not None:
                return [Violation(where, "XInclude is never processed: write the content itself, not "
                                  "xi:include", "xml:xinclude")]
            if schema.xsd is not None:
                return xsd_violations(schema, value)
            return json_violations(schema, value, task)
        except NotAnXmlValue as exc:
            return [Violation("", str(exc), "xml:value")]
