"""Turn a JSON Schema into a validator that never touches the network.

The schema's ``$schema`` picks the draft (2020-12, 2019-09, 7, 6, 4; 2020-12 when absent);
``format`` is asserted for the formats jsonschema knows and ignored for the rest. Local ``$ref``
and ``$defs`` work as usual; a remote ``$ref`` is served from a local file (relative to the
schema's folder, or a ``file:`` URI) or from ``extra`` — never fetched.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urldefrag, urlparse

import jsonschema
import referencing
import referencing.exceptions
from jsonschema.protocols import Validator
from referencing.jsonschema import specification_with

from formtune.errors import SchemaError
from formtune.schema.load import load_schema_file
from formtune.violations import Violation

DEFAULT_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def compile_schema(
    schema: Mapping[str, Any] | bool,
    *,
    base_dir: Path | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Validator:
    """A jsonschema validator for ``schema``; raises :class:`SchemaError` when it is unusable.

    ``base_dir`` is where relative remote references are looked up; ``extra`` maps URIs to schemas
    for references that have no file (a registry of your own).
    """
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        where = "/" + "/".join(str(p) for p in exc.absolute_path)
        raise SchemaError(f"invalid schema at {where}: {exc.message}") from None
    dialect = schema.get("$schema", DEFAULT_DIALECT) if isinstance(schema, Mapping) else DEFAULT_DIALECT
    spec = specification_with(dialect, default=referencing.jsonschema.DRAFT202012)

    def retrieve(uri: str) -> referencing.Resource:
        if extra is not None and uri in extra:
            return spec.create_resource(extra[uri])
        parsed = urlparse(uri)
        if parsed.scheme in ("", "file") and base_dir is not None or parsed.scheme == "file":
            target = Path(unquote(parsed.path))
            if not target.is_absolute():
                target = (base_dir or Path.cwd()) / target
            if target.is_file():
                return spec.create_resource(load_schema_file(target))
        raise referencing.exceptions.NoSuchResource(ref=uri)

    registry: referencing.Registry = referencing.Registry(retrieve=retrieve)  # type: ignore[call-arg]
    validator = cls(schema, registry=registry, format_checker=cls.FORMAT_CHECKER)
    _check_refs(validator, schema)
    return validator


def _refs(node: Any, pointer: str = "") -> Iterator[tuple[str, str]]:
    """Yield (pointer, reference) for every ``$ref`` in a schema."""
    if isinstance(node, Mapping):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield pointer, ref
        for key, child in node.items():
            if key not in ("enum", "const", "examples", "default"):
                yield from _refs(child, f"{pointer}/{key}")
    elif isinstance(node, list):
        for i, child in enumerate(node):
            yield from _refs(child, f"{pointer}/{i}")


def _check_refs(validator: Validator, schema: Any) -> None:
    """Resolve every remote ``$ref`` now, so a missing one is a clear error before any work."""
    resolver = validator._resolver  # type: ignore[attr-defined]
    for pointer, ref in _refs(schema):
        uri, _ = urldefrag(ref)
        if not uri:
            continue  # local reference: resolved against the document itself
        try:
            resolver.lookup(ref)
        except referencing.exceptions.Unresolvable:
            raise SchemaError(
                f"$ref {ref!r} at {pointer or '/'} cannot be resolved offline: save that schema "
                "next to this one and refer to it by relative path"
            ) from None


def violations(validator: Validator, instance: Any) -> list[Violation]:
    """Every schema violation of ``instance`` as values, ordered by location."""
    found = []
    for error in validator.iter_errors(instance):
        path = "".join(f"/{str(p).replace('~', '~0').replace('/', '~1')}" for p in error.absolute_path)
        found.append(Violation(path=path, message=error.message, kind=f"schema:{error.validator}"))
    return sorted(found, key=lambda v: v.path)
