"""How often formtune's XML plugin agrees with the labelled XSD cases of xmlschema's test suite.

Reads ``../shared/corpora/xsd_xmlschema/index.jsonl`` (135 labelled tests, see its README). A
*schema* case agrees when the XSD loads as a task schema exactly when it is labelled valid; an
*instance* case agrees when ``check`` (hardened parse + XSD validation, what ``formtune validate
--format xml`` runs) finds it valid exactly when it is labelled valid. Everything goes through the
plugin's public path (``Task`` + ``check``), with the case's XSD version as the task's
``xml.xsd_version``. Prints agreement per kind and label, then every disagreement with its reason.

    .venv/bin/python benchmarks/xsd_cases.py [--corpus DIR]
    .venv/bin/python benchmarks/xsd_cases.py --w3c ../shared/corpora/xsd_w3c [--contributors sunMeta,saxonMeta]

``--w3c`` runs the W3C suite's groups instead (one schema document, accepted tests, the
contributors named; msMeta needs its tarball extracted first), summarised without the list.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

from formtune.check import check
from formtune.errors import FormtuneError
from formtune.task import Task, TaskSpec

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpora" / "xsd_xmlschema"


@cache
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


def _version(*versions: str | None) -> str | None:
    """The XSD version a W3C test applies to: "1.1" when only 1.1 is named, None when 1.0 is excluded."""
    tokens = {t for v in versions if v for t in v.split()}
    if "1.1" in tokens and "1.0" not in tokens:
        return "1.1"
    return "1.0"


def _validity(expected: list[dict[str, Any]], version: str) -> bool | None:
    for entry in expected:
        if entry.get("version") in (None, "") or version in (entry.get("version") or "").split():
            return entry["validity"] == "valid" if entry["validity"] in ("valid", "invalid") else None
    return None


def w3c_cases(root: Path, contributors: set[str]) -> list[dict[str, Any]]:
    """Cases in this script's shape from the W3C suite's index (see its README)."""
    cases = []
    for line in (root / "index.jsonl").read_text().splitlines():
        group = json.loads(line)
        schema = group.get("schema_test") or {}
        if group["testSet"].split("/")[0] not in contributors or len(schema.get("documents", [])) != 1:
            continue
        version = _version(group["version"].get("testSet"), group["version"].get("group"), schema.get("version"))
        label = _validity(schema.get("expected", []), version)
        if schema.get("status") in (None, "accepted") and label is not None:
            cases.append({"file": schema["documents"][0], "kind": "schema", "xsd_version": version,
                          "expected_valid": label})
        if not label:
            continue  # instances of an invalid schema have no verdict to compare
        for test in group.get("instance_tests", []):
            tv = _version(version if version == "1.1" else None, test.get("version"))
            label_i = _validity(test.get("expected", []), tv)
            if test.get("status") in (None, "accepted") and label_i is not None:
                cases.append({"file": test["document"], "kind": "instance", "xsd_version": tv,
                              "expected_valid": label_i,
                              "schema_locations": [{"schema": schema["documents"][0]}]})
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--w3c", type=Path, help="the W3C suite's folder (../shared/corpora/xsd_w3c)")
    parser.add_argument("--contributors", default="sunMeta,saxonMeta,ibmMeta,boeingMeta,oracleMeta,wgMeta")
    args = parser.parse_args()
    if args.w3c is not None:
        args.corpus = args.w3c
        cases = w3c_cases(args.w3c, set(args.contributors.split(",")))
    else:
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
    if args.w3c is not None:
        reasons = Counter(_reason_kind(reason) for _, _, reason in disagreements)
        print("\nDisagreements by reason:", ", ".join(f"{r}: {n}" for r, n in reasons.most_common(12)))
        return
    print("\nDisagreements:")
    for case, valid, reason in disagreements:
        said = "valid" if valid else "invalid"
        reason = reason.rpartition(": schema: ")[2].replace(f"{args.corpus}/", "")
        print(f"- {case['file']} ({case['kind']}, XSD {case['xsd_version']}, labelled "
              f"{'valid' if case['expected_valid'] else 'invalid'}, formtune: {said}) {reason[:240]}")


def _reason_kind(reason: str) -> str:
    """A short class of a disagreement, to summarise thousands of them."""
    reason = reason.rpartition(": schema: ")[2]
    for marker in ("no global element", "External references", "DOCTYPE", "sandbox", "never fetched",
                   "not a usable XSD", "schema not loaded", "not UTF-8"):
        if marker in reason:
            return marker
    return reason.split(" at ")[0].split(":")[0] or "said valid"


if __name__ == "__main__":
    main()
