"""The arms of benchmarks/RESULTS.md that change the refund-rules example ship as patches
(``benchmarks/refund_*.patch``, rerun with ``git apply``): each must still apply to the example and
give rows that its patched schema and rules accept, or a rerun of that arm fails where it starts."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from conftest import ROOT
from formtune.dataset import build_dataset, read_rows
from formtune.task import load_task

# Each patch and what only its arm's rows hold: an answer key, or a training wording.
ADDS = {"refund_checks": "rules_hold", "refund_noisy": '"template": "case-record"', "refund_quotes": "amount_quote",
        "refund_windows": "delivered_plus_30"}


def test_every_patch_is_checked():
    assert sorted(p.stem for p in (ROOT / "benchmarks").glob("refund_*.patch")) == sorted(ADDS)


@pytest.mark.skipif(shutil.which("git") is None, reason="applies the patch with git apply")
@pytest.mark.parametrize("name", sorted(ADDS))
def test_a_benchmark_patch_applies_to_the_example_and_its_rows_are_accepted(tmp_path, name):
    shutil.copytree(ROOT / "examples" / "refund-rules", tmp_path / "examples" / "refund-rules")
    patch = ROOT / "benchmarks" / f"{name}.patch"
    applied = subprocess.run(["git", "apply", str(patch)], cwd=tmp_path, capture_output=True, text=True)
    assert applied.returncode == 0, applied.stderr
    task_file = tmp_path / "examples" / "refund-rules" / "task.yaml"
    text = task_file.read_text()
    smaller = text.replace("  train: 1200\n", "  train: 60\n").replace("  eval: 300\n", "  eval: 15\n")
    assert smaller.count("\n") == text.count("\n") and smaller != text
    task_file.write_text(smaller)
    summary = build_dataset(load_task(task_file), tmp_path / "data", progress=False)
    assert not summary.rejected
    rows = read_rows(tmp_path / "data" / "train.jsonl")
    assert len(rows) == 60 and any(ADDS[name] in json.dumps(row) for row in rows)
