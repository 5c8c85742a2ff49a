"""Loading an XML task's schema: an XSD, offline, or a JSON Schema read through the XML mapping.

An XSD is read with xmlschema in its ``sandbox`` mode: imports, includes and redefinitions are
resolved only from files in the schema's own folder (or below it), the standard namespaces (xml,
xsi, xlink) from xmlschema's bundled copies, and nothing from the network. An import that cannot be
resolved that way is a :class:`SchemaError` naming the location, never a silent gap.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from formtune.errors import SchemaError

if TYPE_CHECKING:
    from formtune.task import Task
    from xmlschema import XMLSchemaBase

    from formtune_xml.options import XmlOptions


@dataclass
class XmlSchema:
    """An XML task's schema: either ``xsd`` (a built xmlschema schema) or ``json`` (a JSON Schema
    whose instances are written as XML by :mod:`formtune_xml.mapping`)."""

    source: str  # what the task named: a path, or "inline"
    xsd: XMLSchemaBase | None = None
    json: dict[str, Any] | bool | None = None
    text: str = ""  # the schema's text, for prompts
    options: XmlOptions | None = field(default=None, repr=False)


def load_xsd(source: str | Path, version: str = "1.0", base_dir: Path | None = None) -> XMLSchemaBase:
    """Build an XSD from a file (or XSD text) offline; a broken schema is one SchemaError line."""
    import xmlschema

    cls = xmlschema.XMLSchema11 if version == "1.1" else xmlschema.XMLSchema10
    where = str(source) if isinstance(source, Path) else "inline XSD"
    # base_url is the sandbox: the schema's folder (xmlschema needs it set for component checks).
    folder = source.resolve().parent if isinstance(source, Path) else (base_dir or Path.cwd())
    kwargs: dict[str, Any] = {"allow": "sandbox", "defuse": "always", "base_url": str(folder)}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            schema = cls(str(source) if isinstance(source, Path) else source, **kwargs)
        except xmlschema.XMLSchemaException as exc:
            raise SchemaError(f"{where}: not a usable XSD: {_one_line(exc)}") from None
        except (OSError, ValueError) as exc:
            raise SchemaError(f"{where}: cannot read XSD: {_one_line(exc)}") from None
    for warning in caught:
        if issubclass(warning.category, xmlschema.XMLSchemaImportWarning):
            raise SchemaError(f"{where}: {_one_line(warning.message)}; save that schema next to this one and "
                              "refer to it by relative path (schemas are never fetched)")
    return schema


def _one_line(message: object) -> str:
    text = str(message).strip()
    first = text.splitlines()[0] if text else type(message).__name__
    return re.sub(r"\s+", " ", getattr(message, "message", None) or first)[:300]


def load_schema(ref: str | dict[str, Any] | bool, task: Task) -> XmlSchema:
    """The XML task's schema from ``schema:``: an ``.xsd`` file or inline XSD text, otherwise a
    JSON Schema (file, inline or pydantic model) written as XML through the mapping."""
    options = task.options("xml")
    if isinstance(ref, str) and (ref.lstrip().startswith("<") or ref.lower().endswith(".xsd")):
        if ref.lstrip().startswith("<"):
            xsd, text, source = load_xsd(ref, options.xsd_version, task.base_dir), ref, "inline"
        else:
            path = task.base_dir / ref
            if not path.is_file():
                raise SchemaError(f"{path} does not exist; give an XSD file relative to the task file")
            xsd = load_xsd(path, options.xsd_version)
            text, source = path.read_text(encoding="utf-8", errors="replace"), str(path)
        if not xsd.elements:
            raise SchemaError(f"{source}: the XSD declares no global element, so no document can match it")
        if options.root is not None and options.root not in [e.local_name for e in xsd.elements.values()]:
            raise SchemaError(f"{source}: xml.root {options.root!r} is not a global element of the XSD "
                              f"({', '.join(e.local_name for e in xsd.elements.values())})")
        return XmlSchema(source=source, xsd=xsd, text=compact_xsd(text), options=options)
    from formtune.contrib import Format

    schema = Format.load_schema(task.format, ref, task)
    return XmlSchema(source=ref if isinstance(ref, str) else "inline", json=schema, options=options)


def compact_xsd(text: str) -> str:
    """The XSD as shown to a model: comments, annotations and blank lines removed."""
    text = re.sub(r"<!--.*?-->", "", text, flags=re.DOTALL)
    text = re.sub(r"<(\w+:)?annotation\b.*?</(\w+:)?annotation>", "", text, flags=re.DOTALL)
    text = re.sub(r"<\?xml[^>]*\?>", "", text)
    return "\n".join(line.rstrip() for line in text.splitlines() if line.strip())
