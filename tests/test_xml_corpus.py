"""A fast sample of xmlschema's labelled XSD cases (``../shared/corpora/xsd_xmlschema``), run the
way ``benchmarks/xsd_cases.py`` runs all of them: formtune must agree with every label, except
the known, deliberate disagreements below, which must keep their reasons."""

from __future__ import annotations

import importlib.util
import json
from functools import cache

import pytest

from conftest import CORPORA, ROOT

CORPUS = CORPORA / "xsd_xmlschema"
# Deliberate: a task schema must declare a global element (no document could match otherwise),
# and XSDs are read by a defused parser that refuses external DTD references.
KNOWN = {
    "test_cases/features/derivations/complex11-restrictions.xsd": "no global element",
    "test_cases/features/models/billion_laughs_model.xsd": "no global element",
    "test_cases/features/namespaces/import-case3.xsd": "no global element",
    "test_cases/features/namespaces/include-case8.xsd": "no global element",
    "test_cases/features/namespaces/included8-redefine.xsd": "no global element",
    "test_cases/issues/issue_045/issue_045.xsd": "no global element",
    "test_cases/issues/issue_265/issue_265-1.xsd": "no global element",
    "test_cases/issues/issue_265/issue_265-2-override.xsd": "no global element",
    "test_cases/issues/issue_437/issue_437-1.xml": "External references are forbidden",
    "test_cases/issues/issue_437/issue_437-2.xml": "External references are forbidden",
}


@cache
def _benchmark():
    spec = importlib.util.spec_from_file_location("xsd_cases", ROOT / "benchmarks" / "xsd_cases.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _sample() -> list[dict]:
    if not (CORPUS / "index.jsonl").is_file():
        return []
    cases = [json.loads(line) for line in (CORPUS / "index.jsonl").read_text().splitlines() if line.strip()]
    return [c for i, c in enumerate(cases) if i % 10 == 0 or c["file"] in KNOWN]


@pytest.mark.skipif(not (CORPUS / "index.jsonl").is_file(), reason=f"{CORPUS} is missing (shared corpora)")
@pytest.mark.parametrize("case", _sample(), ids=lambda c: f"{c['kind']}-{c['xsd_version']}-{c['file']}")
def test_labelled_case(case):
    valid, reason = _benchmark().run_case(case, CORPUS)
    if case["file"] in KNOWN:
        assert valid != case["expected_valid"] and KNOWN[case["file"]] in reason
    else:
        assert valid == case["expected_valid"], reason
