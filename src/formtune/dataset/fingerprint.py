"""The fingerprint of a dataset: everything that shapes its rows, so a folder is only ever
continued by the task that started it.

Parts that shape the data: the format, the schema (with the local files its ``$ref`` reach), the
instructions (they are in every row), each template (with the files it imports) and their order,
the hand-written examples, the validators, the generator, the seed, the evaluation size (evaluation
rows decide which training inputs are duplicates), the held-out templates, the augmenters and
their rates, the layouts share, the chance of absent fields, and the versions of
formtune and of the plugins that contribute the format, validators and generator, the task's
``phrases`` and every plugin section of the task file. Not parts:
``data.train`` (the training stream is a prefix: more rows extend it, fewer trim it), ``lenient``
(stored outputs are always strict), ``training:`` and the task's name.

Small parts are stored as readable values, big ones as a short SHA-256, so that
:func:`describe_changes` can say "data.seed 0 → 1" or "template 'intro' changed".
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
from pathlib import Path
from typing import Any

from formtune.plugins import ENTRY_POINT_GROUP
from formtune.task import Task

DIGEST = "sha256:"


def _digest(*texts: str) -> str:
    h = hashlib.sha256()
    for text in texts:
        h.update(text.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return DIGEST + h.hexdigest()[:16]


def _plugin_version(task: Task, kind: str, name: str) -> str:
    """``name (distribution version)`` of the plugin that contributes ``name``; a local plugin file
    is identified by the digest of its content."""
    owner = task.registry.owners.get((kind, name), "?")
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP, name=owner):
        if ep.dist is not None:
            return f"{name} ({ep.dist.name} {ep.dist.version})"
    path = Path(owner)
    if path.is_file():
        return f"{name} ({path.name} {_digest(path.read_text(encoding='utf-8', errors='replace'))})"
    return f"{name} ({owner})"


def _schema_text(task: Task) -> list[str]:
    try:
        texts = [json.dumps(task.schema, sort_keys=True, ensure_ascii=False)]
    except (TypeError, ValueError):  # a format whose schemas are not JSON-like data (XSD)
        return [task.format.describe_schema(task)]
    if isinstance(task.schema, (dict, bool)):
        from formtune.schema.compile import schema_files

        texts += [path.read_text(encoding="utf-8") for path in schema_files(task.schema, task.base_dir)]
    return texts


def _template_text(task: Task, name: str) -> list[str]:
    from formtune.templates import imported_sources

    template = next(t for t in task.spec.templates if t.name == name)
    text = template.text if template.text is not None else (task.base_dir / (template.file or "")).read_text(
        encoding="utf-8")
    imported = imported_sources(text, task.base_dir)
    return [text, *(f"{n}\x00{source}" for n, source in imported.items())]


def fingerprint_parts(task: Task) -> dict[str, str]:
    """Each part that shapes the task's data, as a readable value or a digest."""
    spec, data = task.spec, task.spec.data
    parts = {
        "formtune": importlib.metadata.version("formtune"),
        "format": _plugin_version(task, "formats", spec.format),
        "schema": _digest(*_schema_text(task)),
        "instructions": _digest(task.format.instructions(task)),
        "templates": ", ".join(t.name for t in spec.templates) or "none",
        "examples": _digest(json.dumps([e.model_dump(mode="json") for e in spec.examples], sort_keys=True)),
        "validators": ", ".join(_plugin_version(task, "validators", v.name) for v in task.validators),
        "generator": _plugin_version(task, "generators", task.generator.name),
        "data.seed": str(data.seed),
        "data.eval": str(data.eval),
        "data.holdout_templates": ", ".join(data.holdout_templates) or "none",
    }
    if data.augment:  # only when used, so that folders made before these options stay valid
        parts["data.augment"] = ", ".join(f"{_plugin_version(task, 'augmenters', name)}: {rate}"
                                          for name, rate in data.augment.items())
    if data.layouts:
        parts["data.layouts"] = str(data.layouts)
    if data.absent:
        parts["data.absent"] = str(data.absent)
    for template in spec.templates:
        parts[f"template {template.name!r}"] = _digest(*_template_text(task, template.name))
    if spec.phrases:
        parts["phrases"] = _digest(json.dumps(spec.phrases, sort_keys=True))
    for section, value in sorted((spec.model_extra or {}).items()):  # plugins' own settings shape data too
        parts[f"section {section!r}"] = _digest(json.dumps(value, sort_keys=True, default=str))
    return parts


def fingerprint(parts: dict[str, str]) -> str:
    """One digest of all parts (stored in every row's provenance)."""
    return _digest(json.dumps(parts, sort_keys=True))[len(DIGEST):]


def describe_changes(old: dict[str, str], new: dict[str, str]) -> str:
    """What differs between two sets of parts, in words: ``"schema changed; data.seed 0 → 1"``."""
    changes = []
    for key in [*new, *(k for k in old if k not in new)]:
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        if before is None:
            changes.append(f"{key} added")
        elif after is None:
            changes.append(f"{key} removed")
        elif before.startswith(DIGEST):
            changes.append(f"{key} changed")
        else:
            changes.append(f"{key} {before} → {after}")
    return "; ".join(changes)


def read_manifest(path: Path) -> dict[str, Any] | None:
    """The stored fingerprint of a folder (``dataset.json``), or ``None`` when it has none."""
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}
