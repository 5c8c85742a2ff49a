"""formtune's YAML validation against SchemaStore's YAML test files, beside two reference setups.

For every YAML positive and negative instance in ``../shared/corpora/schemastore`` whose schema is
present and tested upstream: ``formtune validate --format yaml --schema S FILES`` through the
Python API (``validate_files``, one call per schema), and two references that load the YAML
themselves and call jsonschema directly, with the draft the schema declares (draft-07 when it
declares none, as upstream's Ajv), formats asserted, and SchemaStore URLs served from the local
files: PyYAML ``safe_load`` (YAML 1.1) and ruamel.yaml's safe loader (YAML 1.2).

Nine schemas refer to siblings (``base.json``) relative to their ``$id``
(``https://json.schemastore.org/…``); formtune resolves references offline only against the
schema's folder, so those schemas and their siblings are copied to a scratch folder without the
root ``$id`` first (upstream maps the same URLs to the same local files).

Prints the rates and every file where formtune disagrees with the upstream label, with the reason.

    PYTHONPATH=src:plugins python benchmarks/schemastore_yaml.py [--corpus ../shared/corpora/schemastore]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import Any, Callable

import jsonschema
import referencing
import referencing.exceptions
import yaml
from referencing.jsonschema import specification_with
from ruamel.yaml import YAML

CORPUS = Path(__file__).resolve().parents[1].parent / "shared/corpora/schemastore"  # set by --corpus
PREFIXES = ("https://json.schemastore.org/", "https://www.schemastore.org/", "http://json.schemastore.org/")


def yaml_cases() -> list[dict[str, Any]]:
    """One row per tested schema that has YAML instances: name, schema path, its YAML files."""
    rows = []
    for line in (CORPUS / "index.jsonl").read_text().splitlines():
        row = json.loads(line)
        files = [(label, CORPUS / p) for label in ("positive", "negative") for p in row[label]
                 if p.endswith((".yaml", ".yml"))]
        if files and row["schema_present"] and not row["skiptest_upstream"]:
            rows.append({"name": row["name"], "schema": CORPUS / row["schema"], "files": files,
                         "external": row["options_upstream"].get("externalSchema", [])})
    return rows


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def offline_schema(case: dict[str, Any], scratch: Path) -> tuple[Path, bool]:
    """The schema file to give formtune, and whether it had to be copied without its ``$id``."""
    schema = json.loads(case["schema"].read_text(encoding="utf-8"))
    if all(ref.startswith("#") for ref in _refs(schema)):
        return case["schema"], False
    folder = scratch / case["name"]
    folder.mkdir(parents=True, exist_ok=True)
    for name in [case["schema"].name, *case["external"]]:
        document = json.loads((case["schema"].parent / name).read_text(encoding="utf-8"))
        document.pop("$id", None)
        document.pop("id", None)
        (folder / name).write_text(json.dumps(document), encoding="utf-8")
    return folder / case["schema"].name, True


def formtune_verdicts(schema: Path, files: list[Path]) -> dict[Path, tuple[bool | None, str]]:
    """``(valid, reason)`` per file from ``formtune validate --format yaml``; ``None`` when the
    schema cannot be used."""
    from formtune.api import validate_files
    from formtune.errors import FormtuneError

    try:
        results = validate_files(schema, files, format="yaml")
    except FormtuneError as exc:
        return {f: (None, f"schema not usable: {exc}") for f in files}
    return {Path(r.file): (r.valid, "; ".join(f"{v.path or '/'}: {v.message}" for v in r.errors[:2]))
            for r in results}


def _local(uri: str) -> Path | None:
    schemas = CORPUS / "src/schemas/json"
    for prefix in PREFIXES:
        if uri.startswith(prefix):
            return schemas / uri[len(prefix):]
    return schemas / uri if uri and "/" not in uri and uri.endswith(".json") else None


def reference_validator(schema: dict[str, Any]) -> jsonschema.protocols.Validator:
    """jsonschema with the schema's draft (default draft-07), formats asserted, offline refs."""
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    dialect = schema.get("$schema", "http://json-schema.org/draft-07/schema#")
    spec = specification_with(dialect, default=referencing.jsonschema.DRAFT7)

    def retrieve(uri: str) -> referencing.Resource:
        path = _local(uri)
        if path is None or not path.is_file():
            raise referencing.exceptions.NoSuchResource(ref=uri)
        return spec.create_resource(json.loads(path.read_text(encoding="utf-8")))

    registry: referencing.Registry = referencing.Registry(retrieve=retrieve)  # type: ignore[call-arg]
    return cls(schema, registry=registry, format_checker=cls.FORMAT_CHECKER)


def reference_verdict(validator: Any, path: Path, load: Callable[[str], Any]) -> tuple[bool | None, str]:
    try:
        data = load(path.read_text(encoding="utf-8"))
    except Exception as exc:  # noqa: BLE001 - any loader failure means "not accepted"
        return False, f"load: {type(exc).__name__}: {str(exc)[:120]}"
    try:
        error = next(iter(validator.iter_errors(data)), None)
    except Exception as exc:  # noqa: BLE001 - e.g. an ECMA regex Python cannot compile
        return None, f"validator: {type(exc).__name__}: {str(exc)[:120]}"
    return error is None, "" if error is None else error.message[:160]


def main() -> None:
    global CORPUS
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="the schemastore corpus folder")
    CORPUS = parser.parse_args().corpus.resolve()
    warnings.simplefilter("ignore")
    ruamel = YAML(typ="safe", pure=True)
    loaders = {"PyYAML 1.1": yaml.safe_load, "ruamel 1.2": ruamel.load}
    tally: dict[str, Counter[str]] = {name: Counter() for name in ["formtune", *loaders]}
    disagreements, rewritten = [], 0
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        for case in yaml_cases():
            schema_path, copied = offline_schema(case, Path(scratch))
            rewritten += copied
            files = [f for _, f in case["files"]]
            ours = formtune_verdicts(schema_path, files)
            schema = json.loads(case["schema"].read_text(encoding="utf-8"))
            try:
                validator = reference_validator(schema)
            except Exception as exc:  # noqa: BLE001
                validator = exc
            for label, path in case["files"]:
                verdicts = {"formtune": ours[path]}
                for name, load in loaders.items():
                    verdicts[name] = ((None, f"schema: {validator}") if isinstance(validator, Exception)
                                      else reference_verdict(validator, path, load))
                for name, (valid, _) in verdicts.items():
                    outcome = "error" if valid is None else "right" if valid == (label == "positive") else "wrong"
                    tally[name][f"{label} {outcome}"] += 1
                if ours[path][0] != (label == "positive"):
                    disagreements.append((label, path.relative_to(CORPUS / "src"), verdicts))
    seconds = time.perf_counter() - start

    positives = sum(tally["formtune"][f"positive {o}"] for o in ("right", "wrong", "error"))
    negatives = sum(tally["formtune"][f"negative {o}"] for o in ("right", "wrong", "error"))
    print(f"{positives} positive and {negatives} negative YAML files of {len(yaml_cases())} schemas "
          f"({rewritten} schemas copied without their root $id); {seconds:.1f} s\n")
    print(f"{'validator':<12} {'positives accepted':>22} {'negatives rejected':>22} {'schema errors':>14}")
    for name, counts in tally.items():
        accepted, rejected = counts["positive right"], counts["negative right"]
        errors = counts["positive error"] + counts["negative error"]
        print(f"{name:<12} {accepted:>9} ({accepted / positives:6.1%})      {rejected:>9} ({rejected / negatives:6.1%})"
              f"      {errors:>9}")
    print(f"\n{len(disagreements)} files where formtune disagrees with the upstream label:")
    for label, path, verdicts in disagreements:
        valid, reason = verdicts["formtune"]
        others = ", ".join(f"{name}: {'-' if v is None else 'valid' if v else 'invalid'}"
                           for name, (v, _) in verdicts.items() if name != "formtune")
        shown = "schema error" if valid is None else "valid" if valid else "invalid"
        print(f"- [{label}] {path}: formtune says {shown} ({others})\n    {reason[:300]}")


if __name__ == "__main__":
    main()
