"""The evaluator on a tiny random model (fast, CPU only): prompts, token counts, constrained
decoding, and the eval command. Scores on known completions are in test_metrics.py, the report
in test_report.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_formtune
from formtune.dataset import build_dataset, chat_messages, read_rows
from formtune.errors import UsageError
from formtune.evaluate import EvalExample, Variant, evaluate, load_examples, standard_variants
from formtune.task import load_task

DATA = Path(__file__).parent / "data"

# Every document this schema admits is short: strings are at most 8 characters, the rest enums.
BOUNDED_TASK = """\
name: badge
schema:
  type: object
  properties:
    name: {type: string, minLength: 1, maxLength: 8}
    role: {enum: [admin, user, guest]}
    active: {type: boolean}
  required: [name, role]
  additionalProperties: false
instructions: Write the badge as JSON.
templates: [{name: t, text: "{{ output.name }} is {{ output.role }}"}]
"""


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
                                             {"role": "assistant", "content": '{"name": "Bo"}'}]}) + "\n" +
                    json.dumps({"input": "no reference"}) + "\n")
    assert load_examples(path, task) == [EvalExample("I'm Ada", {"name": "Ada", "email": "a@b.org"}),
                                         EvalExample("Bo", {"name": "Bo"}), EvalExample("no reference")]
    path.write_text(json.dumps({"input": "x"}) + "\n" + '{"question": 1}\n')
    with pytest.raises(UsageError, match=r"gold.jsonl:2: expected"):
        load_examples(path, task)
    path.write_text(json.dumps({"messages": [{"role": "assistant", "content": "{}"}]}) + "\n")
    with pytest.raises(UsageError, match=r"gold.jsonl:1: a chat row needs a user message"):
        load_examples(path, task)
    path.write_text("")
    with pytest.raises(UsageError, match=r"gold.jsonl: no examples"):
        load_examples(path, task)
    with pytest.raises(UsageError, match=r"missing.jsonl: no such file"):
        load_examples(tmp_path / "missing.jsonl", task)


def test_standard_variants_add_the_tuned_ones_with_an_adapter(tmp_path):
    assert [(v.name, v.prompt, v.constrained, v.adapter) for v in standard_variants("m", None)] == [
        ("base", "full", False, None), ("base+constrained", "full", True, None)]
    tuned = standard_variants("m", tmp_path)
    assert [(v.name, v.prompt, v.constrained, v.adapter) for v in tuned[2:]] == [
        ("tuned", "short", False, tmp_path), ("tuned+constrained", "short", True, tmp_path)]
    assert {v.model for v in tuned} == {"m"}


def test_base_variant_counts_prompt_tokens_and_writes_every_output(tiny_model, person_data, tmp_path):
    from transformers import AutoTokenizer

    task = load_task(DATA / "person.task.yaml")
    examples = load_examples(person_data / "eval.jsonl", task)[:4]
    report = evaluate(task, examples, [Variant("base", str(tiny_model), prompt="full")], tmp_path,
                      batch_size=3, progress=False)
    assert json.loads((tmp_path / "metrics.json").read_text()) == report
    base = report["variants"]["base"]
    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    prompts = [tokenizer.apply_chat_template(chat_messages(task.format.prompt(task), e.input), tokenize=False,
                                             add_generation_prompt=True) for e in examples]
    lengths = [len(tokenizer(p, add_special_tokens=False)["input_ids"]) for p in prompts]
    assert base["n"] == 4 and base["prompt_tokens"] == sum(lengths) / 4 and base["latency_s"] > 0
    # A random model does not write a JSON document by itself.
    assert base["parse_rate"] == 0.0 and base["schema_valid"] == 0.0 and base["field_f1"] == 0.0
    rows = read_rows(tmp_path / "predictions" / "base.jsonl")
    assert [r["input"] for r in rows] == [e.input for e in examples]
    assert [r["expected"] for r in rows] == [e.expected for e in examples]
    assert all(not r["valid"] and r["violations"][0]["kind"] == "parse" for r in rows)


def test_constrained_decoding_only_emits_valid_documents(tiny_model, tmp_path):
    (tmp_path / "task.yaml").write_text(BOUNDED_TASK)
    task = load_task(tmp_path / "task.yaml")
    # One reference is long, so the token limit (room for the longest reference) is far above the
    # longest document the schema admits: no completion can be cut, so every one must be valid.
    examples = [EvalExample(f"person {i}", {"name": f"p{i}", "role": "user"}) for i in range(3)]
    examples.append(EvalExample("long", {"name": "z" * 300, "role": "admin"}))
    report = evaluate(task, examples, [Variant("base+constrained", str(tiny_model), prompt="full", constrained=True)],
                      tmp_path / "run", batch_size=2, progress=False)
    rows = read_rows(tmp_path / "run" / "predictions" / "base+constrained.jsonl")
    assert len(rows) == 4
    for row in rows:
        assert row["valid"] and row["violations"] == [], row["completion"]
        value = json.loads(row["completion"])
        assert set(value) <= {"name", "role", "active"} and value["role"] in ("admin", "user", "guest")
    scores = report["variants"]["base+constrained"]
    assert scores["parse_rate"] == scores["schema_valid"] == scores["lenient_valid"] == 1.0


def test_report_cli_json_and_missing_metrics(tmp_path):
    (tmp_path / "metrics.json").write_text(json.dumps({"variants": {"tuned": {"schema_valid": 1.0}}}))
    result = run_formtune("report", "--json", str(tmp_path))
    assert result.returncode == 0 and json.loads(result.stdout)["variants"]["tuned"]["schema_valid"] == 1.0
    missing = run_formtune("report", str(tmp_path / "nope"))
    assert missing.returncode == 2
    assert missing.stderr == f"ERROR: {tmp_path / 'nope' / 'metrics.json'} does not exist; " \
                             f"run `formtune eval {tmp_path / 'nope'}` first\n"


def test_eval_any_model_on_a_user_gold_set_without_a_run(tiny_model, tmp_path):
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"input": "I'm Ada, ada@example.org", "output": {"name": "Ada", "email": "ada@example.org"}}) + "\n")
    result = run_formtune("eval", "--task", str(DATA / "person.task.yaml"), "--model", str(tiny_model),
                          "--data", str(gold), "--variant", "base", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    [run] = (tmp_path / "runs").iterdir()
    assert run.name.startswith("person-eval-")
    assert result.stdout.strip().endswith(f"next: formtune report {Path('runs') / run.name}")
    metrics = json.loads((run / "metrics.json").read_text())
    assert list(metrics["variants"]) == ["base"] and metrics["variants"]["base"]["n"] == 1
    info = json.loads((run / "run.json").read_text())
    assert info["model"] == str(tiny_model) and info["adapter"] is None and info["data"] is None
    unknown = run_formtune("eval", str(run), "--variant", "tuned", cwd=tmp_path)
    assert unknown.returncode == 2
    assert unknown.stderr == ("ERROR: unknown variant(s) ['tuned']; this run has: ['base', 'base+constrained']\n")
    both = run_formtune("eval", str(run), "--task", str(DATA / "person.task.yaml"), cwd=tmp_path)
    assert both.returncode == 2 and "not both" in both.stderr
    neither = run_formtune("eval", cwd=tmp_path)
    assert neither.returncode == 2 and "--task" in neither.stderr
