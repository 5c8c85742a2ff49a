"""The evaluator and the report, on a tiny random model (fast, CPU only)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_formtune
from formtune.dataset import build_dataset
from formtune.evaluate import EvalExample, Variant, evaluate, load_examples
from formtune.report import write_report
from formtune.task import load_task

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def person_data(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("person-data")
    build_dataset(load_task(DATA / "person.task.yaml"), folder, progress=False)
    return folder


def test_full_prompt_carries_the_schema():
    task = load_task(DATA / "person.task.yaml")
    prompt = task.format.prompt(task)
    assert prompt.startswith(task.spec.instructions) and '"required": ["name", "email"]' in prompt


def test_load_examples_accepts_input_output_and_chat_rows(tmp_path):
    task = load_task(DATA / "person.task.yaml")
    path = tmp_path / "gold.jsonl"
    path.write_text(json.dumps({"input": "I'm Ada", "output": {"name": "Ada", "email": "a@b.org"}}) + "\n" +
                    json.dumps({"messages": [{"role": "user", "content": "Bo"},
                                             {"role": "assistant", "content": '{"name": "Bo"}'}]}) + "\n")
    assert load_examples(path, task) == [EvalExample("I'm Ada", {"name": "Ada", "email": "a@b.org"}),
                                         EvalExample("Bo", {"name": "Bo"})]
    path.write_text('{"question": 1}\n')
    with pytest.raises(Exception, match=r"gold.jsonl:1: expected"):
        load_examples(path, task)


def test_evaluate_writes_metrics_predictions_and_report(tiny_model, person_data, tmp_path):
    task = load_task(DATA / "person.task.yaml")
    examples = load_examples(person_data / "eval.jsonl", task)[:4]
    variants = [Variant("base", str(tiny_model), prompt="full"),
                Variant("base+constrained", str(tiny_model), prompt="full", constrained=True)]
    report = evaluate(task, examples, variants, tmp_path, batch_size=3, progress=False)

    written = json.loads((tmp_path / "metrics.json").read_text())
    assert written == report and set(written["variants"]) == {"base", "base+constrained"}
    for scores in written["variants"].values():
        assert {"parse_rate", "schema_valid", "field_f1", "prompt_tokens", "latency_s"} <= set(scores)
        assert scores["n"] == 4 and scores["prompt_tokens"] > 50
    # A random model never writes JSON by itself; constrained decoding always parses, unless it is
    # cut off by the token limit.
    assert written["variants"]["base"]["parse_rate"] == 0.0
    rows = [json.loads(line) for line in (tmp_path / "predictions" / "base+constrained.jsonl").read_text().splitlines()]
    assert len(rows) == 4 and all(r["completion"].startswith("{") for r in rows)

    page = write_report(tmp_path).read_text()
    assert page.count("<img") == 2 and "Worst failures" in page and "base+constrained" in page


def test_report_cli_json_and_missing_metrics(tmp_path):
    (tmp_path / "metrics.json").write_text(json.dumps({"variants": {"tuned": {"schema_valid": 1.0}}}))
    result = run_formtune("report", "--json", str(tmp_path))
    assert result.returncode == 0 and json.loads(result.stdout)["variants"]["tuned"]["schema_valid"] == 1.0
    missing = run_formtune("report", str(tmp_path / "nope"))
    assert missing.returncode == 2 and "formtune eval" in missing.stderr


def test_eval_any_model_on_a_user_gold_set_without_a_run(tiny_model, tmp_path):
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"input": "I'm Ada, ada@example.org", "output": {"name": "Ada", "email": "ada@example.org"}}) + "\n")
    result = run_formtune("eval", "--task", str(DATA / "person.task.yaml"), "--model", str(tiny_model),
                          "--data", str(gold), "--variant", "base", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    [run] = (tmp_path / "runs").iterdir()
    metrics = json.loads((run / "metrics.json").read_text())
    assert list(metrics["variants"]) == ["base"] and metrics["variants"]["base"]["n"] == 1
    unknown = run_formtune("eval", str(run), "--variant", "tuned", cwd=tmp_path)
    assert unknown.returncode == 2 and "unknown variant" in unknown.stderr
