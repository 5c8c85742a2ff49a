"""The ``xml-sampler`` generator: valid documents from an XSD, or from a JSON Schema via the mapping.

From an XSD, a document is drawn top-down over xmlschema's components: sequences in order, one
branch of each choice, ``all`` groups in declared order, a count within minOccurs/maxOccurs for
every particle (at most two past the minimum, fewer optional parts deeper down, the minimum past
``MAX_DEPTH`` so recursive types end), attributes required or by chance (fixed values kept,
defaults sometimes written), texts from :mod:`formtune_xml.xsd_values`. IDs are unique and
IDREFs point at an ID of the same document. Every document is validated against the XSD before it
is returned; a failed one is redrawn from a seed derived from the caller's, and the same
(seed, index) always gives the same document.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import TYPE_CHECKING, Any

from formtune.errors import SamplingError

from formtune_xml.validate import xsd_violations
from formtune_xml.value import element_value
from formtune_xml.xsd_values import IDREF_MARK, SimpleValues, Unsatisfiable

if TYPE_CHECKING:
    from formtune_xml.schema import XmlSchema

MAX_DEPTH = 5  # levels with optional parts; deeper, only what is required
RECURSION_LIMIT = 24  # levels at which a required recursion counts as endless
RETRIES = 12  # whole-document attempts
PREFIX = "t"  # prefix of the target namespace when local elements are unqualified
XML_NS = "{http://www.w3.org/XML/1998/namespace}"


def namespace_mode(xsd: Any) -> str | None:
    """How documents declare the target namespace: ``None`` (there is none), ``"default"``
    (``xmlns="…"``, every element qualified) or ``"prefix"`` (``xmlns:t="…"`` on qualified ones)."""
    if not xsd.target_namespace:
        return None
    return "default" if xsd.element_form_default == "qualified" else "prefix"


def element_name(el: Any, mode: str | None) -> str:
    """An element's name as formtune writes it."""
    qualified = el.qualified or el.is_global() or el.ref is not None
    return f"{PREFIX}:{el.local_name}" if mode == "prefix" and qualified and el.target_namespace else el.local_name


def root_element(xsd: Any, root: str | None) -> Any:
    """The global element documents start with: ``xml.root``, else the first non-abstract one."""
    candidates = [el for el in xsd.elements.values() if not el.abstract]
    for el in candidates:
        if root is None or el.local_name == root:
            return el
    raise SamplingError(f"no global element {root!r} to start a document with", keyword="root", path="/")


def _nesting(particle: Any) -> tuple[int, bool]:
    """Sort key of choice branches when deep: optional ones, then simple-typed elements, first."""
    kind = getattr(particle, "type", None)
    return particle.min_occurs, not (kind is not None and kind.is_simple())


class XsdInstances:
    """Seeded sampler of valid instance documents of one XSD."""

    def __init__(self, schema: XmlSchema, root: str | None = None, realistic: bool = True) -> None:
        self.schema = schema
        self.xsd = schema.xsd
        self.root = root_element(self.xsd, root)
        self.mode = namespace_mode(self.xsd)
        self.fake = None
        if realistic:
            from faker import Faker  # slow to import, only needed here

            self.fake = Faker("en_US")

    def sample(self, seed: int) -> dict[str, Any]:
        """One valid document, the same for the same seed."""
        failures: Counter[str] = Counter()
        for attempt in range(RETRIES):
            rng = random.Random(seed if attempt == 0 else f"{seed}/{attempt}")
            if self.fake is not None:
                self.fake.seed_instance(rng.getrandbits(64))
            try:
                value = _Draw(self, rng).document()
            except (Unsatisfiable, RecursionError) as exc:
                failures[str(exc)[:200]] += 1
                continue
            errors = xsd_violations(self.schema, value)
            if not errors:
                return value
            failures[f"{errors[0].kind} at {errors[0].path}: {errors[0].message}"] += 1
        reason, _ = failures.most_common(1)[0]
        raise SamplingError(f"cannot generate a valid document for {self.schema.source}: {reason}",
                            keyword="xsd", path="/")


class _Draw:
    """One attempt at one document."""

    def __init__(self, sampler: XsdInstances, rng: random.Random) -> None:
        self.s, self.rng = sampler, rng
        self.values = SimpleValues(rng, sampler.fake)

    def document(self) -> dict[str, Any]:
        root = self.s.root
        content = self.content(root, 0)
        if self.s.mode is not None:
            key = "@xmlns" if self.s.mode == "default" else f"@xmlns:{PREFIX}"
            declaration = {key: self.s.xsd.target_namespace}
            content = {**declaration, **content} if isinstance(content, dict) else \
                {**declaration, "#text": content} if content else declaration
        value = {element_name(root, self.s.mode): content}
        return self.link_ids(value)

    def content(self, el: Any, depth: int) -> Any:
        if depth > RECURSION_LIMIT:
            raise Unsatisfiable(f"<{el.local_name}> recurses without end")
        kind = el.type
        hint = el.local_name
        if kind.is_simple():
            return el.fixed if el.fixed is not None else self.values.text(kind, hint)
        attrs = self.attributes(kind, depth)
        if kind.has_simple_content():
            text = el.fixed if el.fixed is not None else self.values.text(kind.content, hint)
            return element_value(attrs, [(None, text)])
        if kind.is_empty() or kind.content is None:
            return element_value(attrs, [])
        return element_value(attrs, self.group(kind.content, depth))

    def attributes(self, kind: Any, depth: int) -> dict[str, str]:
        attrs: dict[str, str] = {}
        for key, attr in kind.attributes.items():
            if key is None or attr.use == "prohibited":
                continue  # None: the attribute wildcard
            required = attr.use == "required"
            if not required and self.rng.random() >= self.chance(depth):
                continue
            name = attr.name or ""
            if name.startswith(XML_NS):
                name = "xml:" + attr.local_name
            elif name.startswith("{"):
                if required:
                    raise Unsatisfiable(f"required attribute {name} of another namespace")
                continue
            if attr.fixed is not None:
                attrs[f"@{name}"] = attr.fixed
            elif attr.default is not None and self.rng.random() < 0.3:
                attrs[f"@{name}"] = attr.default
            else:
                attrs[f"@{name}"] = self.values.text(attr.type, attr.local_name)
        return attrs

    def chance(self, depth: int) -> float:
        return 0.0 if depth >= MAX_DEPTH else 0.7 * (1 - depth / MAX_DEPTH)

    def count(self, low: int, high: int | None, depth: int) -> int:
        if depth >= MAX_DEPTH:
            return low
        top = low + 2 if high is None else min(high, low + 2)
        if low == 0 and top >= 1 and self.rng.random() >= self.chance(depth):
            return 0
        return self.rng.randint(max(low, 1), max(low, 1, top))

    def group(self, group: Any, depth: int) -> list[tuple[str, Any]]:
        from xmlschema.validators import XsdAnyElement, XsdGroup

        children: list[tuple[str, Any]] = []
        for _ in range(self.count(group.min_occurs, group.max_occurs, depth)):
            particles = list(group)
            if group.model == "choice" and particles:
                if depth >= MAX_DEPTH:  # deep: the branch least likely to nest further
                    particles = [min(particles, key=_nesting)]
                else:
                    particles = [self.rng.choice(particles)]
            for particle in particles:
                if isinstance(particle, XsdGroup):
                    children += self.group(particle, depth)
                elif isinstance(particle, XsdAnyElement):
                    if particle.min_occurs:
                        raise Unsatisfiable("a required xs:any wildcard is not generated")
                else:
                    el = self.substitute(particle)
                    for _ in range(self.count(particle.min_occurs, particle.max_occurs, depth)):
                        children.append((element_name(el, self.s.mode), self.content(el, depth + 1)))
        return children

    def substitute(self, el: Any) -> Any:
        if not el.abstract:
            return el
        members = [m for m in self.s.xsd.substitution_groups.get(el.name, []) if not m.abstract]
        if not members:
            raise Unsatisfiable(f"abstract element <{el.local_name}> has no substitute")
        return self.rng.choice(members)

    def link_ids(self, value: Any) -> Any:
        """Point each IDREF at an ID of the document."""
        ids = self.values.ids

        def fix(node: Any) -> Any:
            if isinstance(node, dict):
                return {k: fix(v) for k, v in node.items()}
            if isinstance(node, list):
                return [fix(v) for v in node]
            if node == IDREF_MARK:
                if not ids:
                    raise Unsatisfiable("an IDREF needs an ID in the document, and there is none")
                return self.rng.choice(ids)
            return node

        return fix(value)
