"""XML values: how an XML document is held as JSON-serialisable data, written back, and compared.

A document is ``{root_name: content}``. The content of an element is

- a **string** when it has neither attributes nor child elements (its text; ``""`` when empty);
- otherwise a **dict**: ``"@name"`` for each attribute, ``"#text"`` for its text (when it has
  some), and one key per child element name, in document order, whose value is the child's
  content, or a **list** of contents when that name repeats.

Names are kept as written, prefixes included (``"col:item"``), and namespace declarations are
attributes like any other (``"@xmlns:col"``), so rendering gives back the same document. All
leaves are strings: XML has no numbers, and the schema decides what a text means.

Two shapes cannot be held by that dict: mixed content (text between child elements) and children
whose names interleave (``<a/><b/><a/>``, where grouping would reorder them). For such an element
the dict holds its attributes and ``"#content"``: the exact sequence of children, each a string
(text) or a one-key dict ``{name: content}``. So ``render(parse(text))`` is always the same
document up to comments, processing instructions, the XML declaration, whitespace between
elements, CDATA sections (kept as escaped text) and attribute quoting: nothing an XSD looks at.

Templates reach values as ``output.invoice['@number']``, ``output.invoice.customer.name`` and
``output.invoice.line[0].qty``.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

TEXT = "#text"
CONTENT = "#content"


class NotAnXmlValue(ValueError):
    """A value that has not the shape described in this module."""


def element_value(attrs: dict[str, str], children: list[tuple[str | None, Any]]) -> Any:
    """The content of one element from its attributes (``{"@name": text}``) and its children in
    document order, ``(name, content)`` or ``(None, text)``: the shapes described above."""
    elements = [(n, v) for n, v in children if n is not None]
    texts = [v for n, v in children if n is None]
    if not elements:
        text = "".join(texts)
        if not attrs:
            return text
        return {**attrs, TEXT: text} if text else dict(attrs)
    mixed = any(t.strip() for t in texts)
    names = [n for n, _ in elements]
    grouped = all(names[i] == names[i - 1] or names[i] not in names[:i] for i in range(1, len(names)))
    if mixed or not grouped:  # order or text between children matters: keep the exact sequence
        content = [{n: v} if n is not None else v for n, v in children if n is not None or v.strip()]
        return {**attrs, CONTENT: content}
    groups: dict[str, list[Any]] = {}
    for n, v in elements:
        groups.setdefault(n, []).append(v)
    return {**attrs, **{n: vs[0] if len(vs) == 1 else vs for n, vs in groups.items()}}


def root_of(value: Any) -> tuple[str, Any]:
    """The root element's name and content."""
    if not (isinstance(value, dict) and len(value) == 1):
        raise NotAnXmlValue("an XML value is one {root_element_name: content} pair")
    [(name, content)] = value.items()
    return str(name), content


def scalar(value: Any) -> str:
    """The text of a leaf: strings as they are, booleans as ``true``/``false``, None as empty."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def escape_attr(text: str) -> str:
    return (escape_text(text).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;"))


def render_value(value: Any) -> str:
    """The compact XML text of ``value``: no declaration, no whitespace between elements,
    attributes in the value's order with double quotes, ``<a/>`` for an empty element."""
    return _element(*root_of(value))


def _element(name: str, content: Any) -> str:
    if isinstance(content, list):
        return "".join(_element(name, item) for item in content)
    if not isinstance(content, dict):
        text = escape_text(scalar(content))
        return f"<{name}>{text}</{name}>" if text else f"<{name}/>"
    attrs = "".join(f' {key[1:]}="{escape_attr(scalar(item))}"'
                    for key, item in content.items() if key.startswith("@"))
    if CONTENT in content:
        inner = "".join(escape_text(item) if isinstance(item, str) else _element(*root_of(item))
                        for item in content[CONTENT])
    else:
        inner = escape_text(scalar(content.get(TEXT))) + "".join(
            _element(key, item) for key, item in content.items() if key[:1] not in ("@", "#"))
    return f"<{name}{attrs}>{inner}</{name}>" if inner else f"<{name}{attrs}/>"


def leaves(value: Any) -> set[tuple[str, str]]:
    """``(path, text)`` for every attribute and every text of ``value``, paths XPath-like:
    ``/invoice/@number``, ``/invoice/line/qty`` (the first ``line``), ``/invoice/line[2]/@sku``.
    Texts are compared without surrounding whitespace; an empty element is a leaf ``""``."""
    found: set[tuple[str, str]] = set()
    _walk(f"/{root_of(value)[0]}", root_of(value)[1], found)
    return found


def _walk(path: str, content: Any, found: set[tuple[str, str]]) -> None:
    if isinstance(content, list):
        for i, item in enumerate(content):
            _walk(path if i == 0 else f"{path}[{i + 1}]", item, found)
        return
    if not isinstance(content, dict):
        found.add((path, scalar(content).strip()))
        return
    for key, item in content.items():
        if key.startswith("@"):
            found.add((f"{path}/{key}", scalar(item).strip()))
    if content.get(TEXT) not in (None, ""):
        found.add((path, scalar(content[TEXT]).strip()))
    seen: Counter[str] = Counter()
    for item in content.get(CONTENT, []):
        key = "text()" if isinstance(item, str) else root_of(item)[0]
        seen[key] += 1
        where = f"{path}/{key}" + (f"[{seen[key]}]" if seen[key] > 1 else "")
        if isinstance(item, str):
            found.add((where, item.strip()))
        else:
            _walk(where, root_of(item)[1], found)
    children = [(k, v) for k, v in content.items() if k[:1] not in ("@", "#")]
    for key, item in children:
        _walk(f"{path}/{key}", item, found)
    if not content:
        found.add((path, ""))
