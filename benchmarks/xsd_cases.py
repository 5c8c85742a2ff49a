"""How often formtune's XML plugin agrees with the labelled XSD cases of xmlschema's test suite.

Reads ``../shared/corpora/xsd_xmlschema/index.jsonl`` (135 labelled tests, see its README). A
*schema* case agrees when the XSD loads as a task schema exactly when it is labelled valid; an
*instance* case agrees when ``check`` (hardened parse + XSD validation, what ``formtune validate
--format xml`` runs) finds it valid exactly when it is labelled valid. Everything goes through the
plugin's public path (``Task`` + ``check``), with the case's XSD version as the task's
``xml.xsd_version``. Prints agreement per kind and label, then every disagreement with its reason.

    .venv/bin/python benchmarks/xsd_cases.py [--corpus DIR]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

from formtune.check import check
from formtune.errors import FormtuneError
from formtune.task import Task, TaskSpec

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpora" / "xsd_xmlschema"


def xml_task(schema: Path, version: str) -> Task:
    """A task around ``schema`` with its XSD version (``Task.from_schema`` takes no plugin options)."""
    spec = TaskSpec.model_validate({"name": "case", "format": "xml", "schema": str(schema.resolve()),
                                    "instructions": "", "xml": {"xsd_version": version}})
    return Task(spec, base_dir=schema.resolve().parent, source=schema).check()


def run_case(case: dict[str, Any], corpus: Path) -> tuple[bool, str]:
    """(what formtune says: valid or not, the reason when not)."""
    target = corpus / case["file"]
    if case["kind"] == "schema":
        try:
            xml_task(target, case["xsd_version"])
        except FormtuneError as exc:
            return False, str(exc)
        return True, ""
    schema = corpus / case["schema_locations"][0]["schema"]
    try:
        task = xml_task(schema, case["xsd_version"])
    except FormtuneError as exc:
        return False, f"schema not loaded: {exc}"
    try:
        text = target.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return False, f"not UTF-8 text ({exc.reason})"
    checked = check(text, task)
    first = checked.violations[0] if checked.violations else None
    return checked.valid, "" if first is None else f"{first.kind} at {first.path or '/'}: {first.message}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args()
    cases = [json.loads(line) for line in (args.corpus / "index.jsonl").read_text().splitlines() if line.strip()]
    totals: Counter[tuple[str, bool]] = Counter()
    agree: Counter[tuple[str, bool]] = Counter()
    disagreements = []
    began = time.perf_counter()
    for case in cases:
        valid, reason = run_case(case, args.corpus)
        key = (case["kind"], case["expected_valid"])
        totals[key] += 1
        if valid == case["expected_valid"]:
            agree[key] += 1
        else:
            disagreements.append((case, valid, reason))
    seconds = time.perf_counter() - began
    print(f"{len(cases)} labelled cases in {seconds:.1f} s; agreement {sum(agree.values())}/{len(cases)} "
          f"({100 * sum(agree.values()) / len(cases):.1f}%)")
    print("| kind | label | agree | cases |\n|---|---|---|---|")
    for kind, label in sorted(totals):
        n, ok = totals[kind, label], agree[kind, label]
        print(f"| {kind} | {'valid' if label else 'invalid'} | {ok} ({100 * ok / n:.0f}%) | {n} |")
    print("\nDisagreements:")
    for case, valid, reason in disagreements:
        said = "valid" if valid else "invalid"
        reason = reason.rpartition(": schema: ")[2].replace(f"{args.corpus}/", "")
        print(f"- {case['file']} ({case['kind']}, XSD {case['xsd_version']}, labelled "
              f"{'valid' if case['expected_valid'] else 'invalid'}, formtune: {said}) {reason[:240]}")


if __name__ == "__main__":
    main()
