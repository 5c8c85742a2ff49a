"""Turn a JSON Schema into a validator that never touches the network and never hangs on a pattern.

The schema's ``$schema`` picks the draft (2020-12, 2019-09, 7, 6, 4; 2020-12 when absent);
``format`` is asserted for the formats jsonschema knows and ignored for the rest. Local ``$ref``
and ``$defs`` work as usual; a remote ``$ref`` is served from a local file (relative to the
schema's folder, or a ``file:`` URI) or from ``extra`` — never fetched. A reference under the
schema's own ``$id`` (``https://example.com/s/root.json`` referring to ``item.json``) is looked
up at the same relative place in the schema's folder (``item.json`` next to it). Every ``$ref`` is
resolved when the schema is compiled, each in the scope of its nearest ``$id``: a missing file, or
a pointer or anchor to nothing, is a :class:`SchemaError` before any work, not a crash later.

``pattern`` and ``patternProperties`` are matched with the ``regex`` module (the syntax of
Python's ``re``, which jsonschema uses) under a time limit: a pattern that backtracks
catastrophically on a string, such as ``^(a+)+$``, is a violation, not a hang.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin, urlparse

import jsonschema
import referencing
import referencing.exceptions
import regex
from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator
from referencing.jsonschema import specification_with

from formtune.errors import SchemaError
from formtune.schema.load import load_schema_file
from formtune.violations import Violation

DEFAULT_DIALECT = "https://json-schema.org/draft/2020-12/schema"
#: Seconds one ``pattern`` may take on one string before the string is reported instead.
PATTERN_TIMEOUT = 0.5
#: Violation messages quote the instance; longer ones are cut to this many characters.
MAX_MESSAGE = 300


class _PatternTimeout(Exception):
    pass


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> tuple[Any, bool]:
    """The compiled pattern and whether it runs under a timeout (``regex``); a pattern only
    Python's ``re`` understands still works, unbounded (the per-file time limit remains)."""
    try:
        return regex.compile(pattern), True
    except regex.error:
        return re.compile(pattern), False


def _search(pattern: str, text: str) -> bool:
    compiled, bounded = _compiled(pattern)
    try:
        found = compiled.search(text, timeout=PATTERN_TIMEOUT) if bounded else compiled.search(text)
    except TimeoutError:
        raise _PatternTimeout from None
    return found is not None


def _timeout_error(pattern: str) -> ValidationError:
    return ValidationError(f"matching {pattern!r} took over {PATTERN_TIMEOUT} s on this string (the pattern "
                           "backtracks catastrophically); the value is rejected")


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string"):
        try:
            if not _search(pattern, instance):
                yield ValidationError(f"{instance!r} does not match {pattern!r}")
        except _PatternTimeout:
            yield _timeout_error(pattern)


def _pattern_properties(validator: Any, patterns: Mapping[str, Any], instance: Any,
                        schema: Any) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            try:
                matched = _search(pattern, key)
            except _PatternTimeout:
                yield _timeout_error(pattern)
                continue
            if matched:
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


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
    return _compile(schema, base_dir, extra, [])


def schema_files(schema: Mapping[str, Any] | bool, base_dir: Path | None = None) -> list[Path]:
    """The local files that ``schema``'s remote ``$ref`` resolve to (they shape validation too)."""
    files: list[Path] = []
    _compile(schema, base_dir, None, files)
    return sorted(set(files))


def _compile(schema: Mapping[str, Any] | bool, base_dir: Path | None, extra: Mapping[str, Any] | None,
             files: list[Path]) -> Validator:
    base = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    try:
        base.check_schema(schema)
    except jsonschema.SchemaError as exc:
        where = "/" + "/".join(str(p) for p in exc.absolute_path)
        raise SchemaError(f"invalid schema at {where}: {exc.message}") from None
    except RecursionError:
        raise SchemaError("the schema is nested too deeply to check") from None
    cls = jsonschema.validators.extend(base, {"pattern": _pattern, "patternProperties": _pattern_properties})
    dialect = schema.get("$schema", DEFAULT_DIALECT) if isinstance(schema, Mapping) else DEFAULT_DIALECT
    spec = specification_with(dialect, default=referencing.jsonschema.DRAFT202012)
    root_id = _id_of(schema, spec)
    failures: dict[str, str] = {}

    def retrieve(uri: str) -> referencing.Resource:
        if extra is not None and uri in extra:
            return spec.create_resource(extra[uri])
        target = _local_file(uri, base_dir, root_id)
        if target is None:
            failures[uri] = ("cannot be resolved offline (formtune never fetches schemas): save that schema as "
                             "a file next to this one and refer to it by relative path")
        elif not target.is_file():
            failures[uri] = f"has no file: {target} does not exist; save that schema there"
        else:
            try:
                resource = spec.create_resource(load_schema_file(target))
            except SchemaError as exc:
                failures[uri] = f"is not a usable schema file: {exc}"
            else:
                files.append(target)
                return resource
        raise referencing.exceptions.NoSuchResource(ref=uri)

    registry: referencing.Registry = referencing.Registry(retrieve=retrieve)  # type: ignore[call-arg]
    validator = cls(schema, registry=registry, format_checker=cls.FORMAT_CHECKER)
    _check_refs(validator, schema, spec, failures)
    return validator


def _local_file(uri: str, base_dir: Path | None, root_id: str | None) -> Path | None:
    """Where the schema ``uri`` is found on disk, or ``None`` when it is only on the network."""
    parsed = urlparse(uri)
    if parsed.scheme == "file" or (parsed.scheme == "" and base_dir is not None):
        return (base_dir or Path.cwd()) / unquote(parsed.path)  # an absolute path stays itself
    if root_id and base_dir is not None:
        folder = root_id.rsplit("/", 1)[0] + "/"
        if "/" in root_id and uri.startswith(folder) and ".." not in uri[len(folder):].split("/"):
            return base_dir / unquote(uri[len(folder):])
    return None


def _refs(node: Any, resolver: Any, base: str, spec: Any, pointer: str = "") -> Iterator[tuple[str, str, Any, str]]:
    """Yield (pointer, reference, resolver, base URI) for every ``$ref`` in a schema, with the
    resolver and base of its scope: a subschema with its own ``$id`` is the base of those inside it."""
    if isinstance(node, Mapping):
        own = _id_of(node, spec)
        if own is not None:  # (at the root, the scope the resolver is in already)
            resolver, base = resolver.in_subresource(spec.create_resource(node)), urljoin(base, own)
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield pointer, ref, resolver, base
        for key, child in node.items():
            if key not in ("enum", "const", "examples", "default"):
                yield from _refs(child, resolver, base, spec, f"{pointer}/{key}")
    elif isinstance(node, list):
        for i, child in enumerate(node):
            yield from _refs(child, resolver, base, spec, f"{pointer}/{i}")


def _id_of(node: Any, spec: Any) -> str | None:
    """The base URI a (sub)schema sets, or ``None``; a boolean schema, or a property named ``id``
    or ``$id`` (its value a schema, not a string), sets none."""
    try:
        found = spec.id_of(node)
    except (AttributeError, TypeError):  # draft 4's "id" holding a schema, in a "properties" map; or a boolean
        return None
    return found if isinstance(found, str) else None


def _check_refs(validator: Validator, schema: Any, spec: Any, failures: dict[str, str]) -> None:
    """Resolve every ``$ref`` now, so a missing file or a pointer to nothing is a clear error
    before any work (jsonschema would only fail on it while validating, with a traceback)."""
    try:
        # The walk starts with no base: the root's own $id, if any, becomes it at the root.
        refs = list(_refs(schema, validator._resolver, "", spec))  # type: ignore[attr-defined]
    except RecursionError:
        raise SchemaError("the schema is nested too deeply to check") from None
    for pointer, ref, resolver, base in refs:
        uri, fragment = urldefrag(ref)
        absolute = urljoin(base, uri)
        shown = f" (that is {absolute})" if absolute != uri else ""
        where = repr(uri) if uri else "this schema"
        try:
            resolver.lookup(ref)
        except referencing.exceptions.PointerToNowhere:
            why = f"points to nothing: there is no {fragment} in {where}"
        except referencing.exceptions.NoSuchAnchor as exc:
            why = f"points to nothing: there is no anchor {exc.anchor!r} in {where}"
        except referencing.exceptions.Unresolvable:
            why = failures.get(absolute, "cannot be resolved")  # retrieve() says why, unless it was not asked
        else:
            continue
        raise SchemaError(f"$ref {ref!r} at {pointer or '/'}{shown} {why}") from None


def violations(validator: Validator, instance: Any) -> list[Violation]:
    """Every schema violation of ``instance`` as values, ordered by location. A document nested
    too deeply to validate is one violation of kind ``limit:depth``."""
    found = []
    try:
        for error in validator.iter_errors(instance):
            path = "".join(f"/{str(p).replace('~', '~0').replace('/', '~1')}" for p in error.absolute_path)
            message = error.message if len(error.message) <= MAX_MESSAGE else error.message[:MAX_MESSAGE] + "…"
            found.append(Violation(path=path, message=message, kind=f"schema:{error.validator}"))
    except RecursionError:
        return [Violation(path="", message="nested too deeply to validate", kind="limit:depth")]
    return sorted(found, key=lambda v: v.path)
