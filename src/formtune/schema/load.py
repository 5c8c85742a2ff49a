"""Reading a JSON Schema from what a task file says: a file, an inline schema, or a pydantic model.

JSON Schema is formtune's default schema language: the JSON and YAML formats use it, and so do
tool parameters and the facts of rule sets. A format with another schema language (XML with XSD)
loads its schemas itself (``Format.load_schema``).
"""

from __future__ import annotations

import importlib
import json
import re
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from formtune.errors import SchemaError

_MODEL_REF = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


def load_json_schema(ref: str | dict[str, Any] | bool, base_dir: Path) -> dict[str, Any] | bool:
    """The schema ``ref`` names: a JSON/YAML file relative to ``base_dir``, an inline schema, or a
    pydantic model as ``"package.module:Class"`` (importable from ``base_dir``)."""
    if not isinstance(ref, str):
        return ref
    path = base_dir / ref
    if path.is_file():
        return load_schema_file(path)
    if _MODEL_REF.match(ref):
        return _pydantic_schema(ref, base_dir)
    if path.exists():
        raise SchemaError(f"{path} is not a regular file; give a JSON Schema file")
    raise SchemaError(f"{path} does not exist; give a JSON Schema file relative to the task file, "
                      "an inline schema, or a pydantic model as 'module:Class'")


def load_schema_file(path: Path) -> dict[str, Any]:
    """Read a JSON (or YAML) schema file, with an error that names the file. Parse errors give
    the place, never the file's content (a ``$ref`` may point at any local file)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SchemaError(f"{path}: cannot read schema ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise SchemaError(f"{path}: not UTF-8 text (byte {exc.start}); save the schema as UTF-8") from None
    try:
        if path.suffix in {".yaml", ".yml"}:
            import yaml

            try:
                schema = yaml.safe_load(text)
            except yaml.MarkedYAMLError as exc:
                mark = exc.problem_mark
                where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
                raise ValueError(f"{exc.problem or exc.context}{where}") from None
        else:
            schema = json.loads(text)
    except Exception as exc:  # json.JSONDecodeError, yaml.YAMLError, RecursionError (deep nesting)
        raise SchemaError(f"{path}: not valid JSON/YAML: {exc}") from None
    if not isinstance(schema, (dict, bool)):
        raise SchemaError(f"{path}: a schema must be an object or a boolean")
    return schema


def _pydantic_schema(ref: str, base_dir: Path) -> dict[str, Any]:
    module_name, _, attr = ref.partition(":")
    # The task's folder is importable, so a model can live next to the task file.
    if str(base_dir) not in sys.path:
        sys.path.insert(0, str(base_dir))
    try:
        model = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise SchemaError(f"cannot import pydantic model {ref!r}: {exc}") from None
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise SchemaError(f"{ref!r} is not a pydantic model class")
    return model.model_json_schema()
