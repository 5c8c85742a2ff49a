"""A non-JSON toy format (tests/fixtures/kv_format.py) runs through generate, eval and report,
so the core's seams stay honest: nothing in them may assume JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from formtune.check import check
from formtune.dataset import build_dataset, read_rows
from formtune.evaluate import Variant, evaluate, load_examples
from formtune.plugins import build_registry
from formtune.report import write_report
from formtune.task import load_task

KV = Path(__file__).parent / "fixtures" / "kv_format.py"
TASK = """\
name: people-kv
format: kv
schema: {required: [name, age]}
instructions: Write the person as key-value lines.
templates:
  - name: intro
    text: "{{ pick('Hi', 'Hello') }}, I'm {{ output.name }} and I am {{ output.age }}."
  - name: card
    text: "Name - {{ output.name }} / Age - {{ output.age }}"
data: {train: 6, eval: 3, holdout_templates: [card]}
"""


@pytest.fixture
def kv_task(tmp_path):
    (tmp_path / "task.yaml").write_text(TASK)
    return load_task(tmp_path / "task.yaml", build_registry([KV]))


def test_the_format_checks_its_own_documents(kv_task):
    assert check("name: Ada\nage: 36\n", kv_task).valid
    assert [v.kind for v in check("name: Ada\n", kv_task).violations] == ["kv:required"]
    assert [v.kind for v in check('{"name": "Ada"}', kv_task).violations] == ["parse"]


def test_generate_eval_and_report_through_the_core(kv_task, tiny_model, tmp_path):
    data = tmp_path / "data"
    summary = build_dataset(kv_task, data, progress=False)
    assert summary.accepted == {"eval": 3, "train": 6}
    row = read_rows(data / "train.jsonl")[0]
    assert row["messages"][2]["content"] == f"name: {row['output']['name']}\nage: {row['output']['age']}\n"

    run = tmp_path / "run"
    variants = [Variant("base", str(tiny_model), prompt="full"),
                Variant("base+constrained", str(tiny_model), prompt="full", constrained=True)]
    report = evaluate(kv_task, load_examples(data / "eval.jsonl", kv_task), variants, run, batch_size=3,
                      progress=False)
    assert list(report["variants"]) == ["base"]  # the format offers no constraint
    assert "unconstrained only" in report["notes"]["base+constrained"]
    assert report["variants"]["base"]["n"] == 3 and report["variants"]["base"]["parse_rate"] == 0.0
    [prediction] = read_rows(run / "predictions" / "base.jsonl")[:1]
    assert prediction["expected_text"] == kv_task.format.render(prediction["expected"])
    base_prompt = kv_task.format.prompt(kv_task)
    assert "key: value" in base_prompt and "name, age" in base_prompt and "JSON" not in base_prompt

    page = write_report(run).read_text()
    assert "unconstrained only" in page and "name: " in page
    assert json.loads((run / "metrics.json").read_text())["metrics"]["field_f1"]["higher_is_better"] is True
