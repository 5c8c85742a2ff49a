"""The tool-calls format in a task: the example task loads, values check and compare, the generator
covers every category with held-out wording, metrics score turns, and the whole loop runs on a
tiny model through the core (generate, eval with a decoding constraint, report)."""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter

import pytest

from conftest import ROOT, run_formtune, sized
from formtune.check import check
from formtune.contrib import Attempt, derive_seed
from formtune.dataset import DatasetBuilder, build_dataset, read_rows
from formtune.errors import TaskError
from formtune.evaluate import Variant, evaluate, load_examples
from formtune.report import write_report
from formtune.task import load_task
from formtune_tools.generate import split_of
from formtune_tools.metrics import category, tool_metrics
from formtune_tools.options import CATEGORIES

EXAMPLE = ROOT / "examples" / "shop-assistant"
BFCL = next((p / "shared/corpora/bfcl/data" for p in ROOT.parents if (p / "shared/corpora/bfcl/data").is_dir()),
            ROOT / "missing")
LOOKUP = {"name": "lookup_order", "arguments": {"order_id": "KL-20417"}}


@pytest.fixture
def shop(tmp_path):
    folder = tmp_path / "shop"
    shutil.copytree(EXAMPLE, folder)
    return folder


def task_with(folder, **tools):
    text = (folder / "task.yaml").read_text()
    if tools:
        text = re.sub(r"^  dialect: .*$", "\n".join(f"  {k}: {json.dumps(v)}" for k, v in tools.items()), text,
                      flags=re.MULTILINE)
    (folder / "task.yaml").write_text(text)
    return load_task(folder / "task.yaml").check()


def test_values_parse_render_and_check_in_the_tasks_dialect(shop):
    task = task_with(shop, dialect="python")
    fmt = task.format
    assert fmt.dialect.name == "python"
    text = fmt.render({"calls": [LOOKUP]})
    assert text == '[lookup_order(order_id="KL-20417")]'
    assert check(text, task).valid
    assert fmt.parse("Sorry, I can't.").value == {"answer": "Sorry, I can't."}
    assert fmt.parse("[]").value == {"calls": []}
    assert fmt.canonical({"answer": "a"}) == fmt.canonical({"calls": []}) == []
    two = [LOOKUP, {"name": "cancel_order", "arguments": {"order_id": "KL-20417"}}]
    assert fmt.canonical({"calls": two}) == fmt.canonical({"calls": two[::-1]})

    def kinds(text):
        return [v.kind for v in check(text, task).violations]

    assert kinds('[track_parcel(id="1")]') == ["tool:unknown-tool"]
    assert kinds("[lookup_order(include_items=True)]") == ["tool:missing-argument"]
    assert kinds('[lookup_order(order_id="KL-20417", gift=True)]') == ["tool:unexpected-argument"]
    assert kinds('[lookup_order(order_id="KL-20417", include_items="yes")]') == ["tool:wrong-type"]
    assert kinds('[check_stock(sku="JKT-104", size="XXL")]') == ["tool:not-in-enum"]
    assert kinds('[check_stock(sku="jacket")]') == ["tool:pattern"]
    assert kinds("[lookup_order(order_id=KL)]") == ["parse"]
    assert check('Sure: [lookup_order(order_id="KL-20417")]', task).valid  # text, not a call: an answer


def test_a_dialect_no_plugin_registers_is_a_task_error(shop):
    with pytest.raises(TaskError, match=r"tools.dialect: no dialect named 'klingon' \(available: hermes, json-list, native, python\)"):
        task_with(shop, dialect="klingon")


def test_bad_tools_section_names_file_line_and_key(shop):
    (shop / "task.yaml").write_text((shop / "task.yaml").read_text().replace("distractors: [1, 2]", "distractors: [3, 1]"))
    with pytest.raises(TaskError, match=r"task.yaml:\d+: field 'tools': .*least <= most"):
        load_task(shop / "task.yaml")


def test_the_split_is_read_from_the_seed_the_dataset_builder_gives():
    task = load_task(EXAMPLE / "task.yaml")
    seen = []

    class Spy:
        name = "spy"

        def draft(self, task, *, seed, index):
            seen.append(split_of(task, seed))
            return task.generator.draft(task, seed=seed, index=index)

    builder = DatasetBuilder(task, ROOT / "unused")
    builder.generator = Spy()
    builder._candidate("eval", 0), builder._candidate("train", 0)
    assert seen == ["eval", "train"]
    assert split_of(task, derive_seed(task.spec.data.seed, "eval")) == "eval"


def test_generated_conversations_cover_every_category_in_held_out_wording(shop, tmp_path):
    (shop / "task.yaml").write_text(sized((shop / "task.yaml").read_text(), train=36, eval=24))
    task = load_task(shop / "task.yaml")
    summary = build_dataset(task, tmp_path / "data", progress=False)
    assert summary.accepted == {"eval": 24, "train": 36} and not summary.rejected
    evals, trains = read_rows(tmp_path / "data/eval.jsonl"), read_rows(tmp_path / "data/train.jsonl")
    assert Counter(r["provenance"]["category"] for r in evals) == dict.fromkeys(CATEGORIES, 4)
    off_topic = set(task.options("tools").off_topic)
    for row in evals + trains:  # an off-topic request is no template's wording
        assert (row["provenance"]["template"] is None) == (row["messages"][-2]["content"] in off_topic)
    assert {r["provenance"]["template"] for r in evals} == {"voicemail", None}
    assert "voicemail" not in {r["provenance"]["template"] for r in trains}
    for row in evals + trains:
        system = row["input"][0]
        lines = system["content"].splitlines()
        assert system["role"] == "system" and lines[0] == "Tools you can call:"
        assert [line.split("(")[0] for line in lines[1:]] == [t["name"] for t in system["tools"]]  # signatures
        offered = len(system["tools"])
        assert category(row["input"], row["output"], offered) == row["provenance"]["category"]
        assert row["messages"][0]["content"].startswith(task.spec.instructions) and row["messages"][1]["role"] != "system"
        if row["provenance"]["category"] == "irrelevance":
            asked = re.findall(r"\b(?:KL|[A-Z]{2})-\d{5}\b", row["messages"][-2]["content"])
            assert "answer" in row["output"] and isinstance(asked, list)
    again = tmp_path / "again"
    build_dataset(load_task(shop / "task.yaml"), again, progress=False)
    assert (again / "train.jsonl").read_text() == (tmp_path / "data/train.jsonl").read_text()


def test_metrics_score_a_turn_by_category_with_one_error_class(shop):
    task = task_with(shop)
    metrics = {m.name: m for m in tool_metrics()}
    offered = [{"role": "system", "content": "", "tools": task.schema[:2]}]
    request = [*offered, {"role": "user", "content": "where is KL-20417"}]

    def scores(text, expected):
        attempt = Attempt(request, check(text, task), expected, task)
        return {name: m.score(attempt) for name, m in metrics.items() if m.score(attempt) is not None}

    right = scores(task.format.render({"calls": [LOOKUP]}), {"calls": [LOOKUP]})
    assert right["accuracy"] == right["accuracy_multiple"] == right["name_accuracy"] == 1.0
    assert right["argument_accuracy"] == 1.0 and right["error_wrong_value"] == 0.0 and "accuracy_simple" not in right
    wrong = scores(task.format.render({"calls": [{"name": "lookup_order", "arguments": {"order_id": "KL-20418"}}]}),
                   {"calls": [LOOKUP]})
    assert wrong["accuracy"] == 0.0 and wrong["name_accuracy"] == 1.0 and wrong["error_wrong_value"] == 1.0
    declined = scores("I can't help with that.", {"answer": "Sorry."})
    assert declined["accuracy_irrelevance"] == 1.0 and "argument_accuracy" not in declined
    called = scores(task.format.render({"calls": [LOOKUP]}), {"answer": "Sorry."})
    assert called["error_call_when_none_due"] == 1.0
    assert {m.higher_is_better for n, m in metrics.items() if n.startswith("error_")} == {False}


def test_an_answer_after_tool_results_must_report_them(shop):
    task = task_with(shop)
    metrics = {m.name: m for m in tool_metrics()}
    result = {"status": "shipped", "eta": "2026-12-01", "express": False, "note": None}
    history = [{"role": "system", "content": "", "tools": task.schema[:2]},
               {"role": "user", "content": "where is KL-20417"},
               {"role": "assistant", "content": task.format.render({"calls": [LOOKUP]})},
               {"role": "tool", "name": "lookup_order", "content": json.dumps(result)}]
    expected = {"answer": "Your order has shipped (status: Shipped), arriving 2026-12-01."}

    def score(answer):
        attempt = Attempt(history, check(answer, task), expected, task)
        return {name: m.score(attempt) for name, m in metrics.items() if m.score(attempt) is not None}

    assert score("It's SHIPPED and arrives on 2026-12-01.")["accuracy_multi_turn"] == 1.0
    vague = score("Sure, I looked it up for you!")  # no call, but none of what the results said
    assert vague["accuracy_multi_turn"] == 0.0 and vague["error_answer_misses_result"] == 1.0
    assert score("It arrives 2026-12-01.")["error_answer_misses_result"] == 1.0  # "shipped" is left out
    assert score(task.format.render({"calls": [LOOKUP]}))["error_call_when_none_due"] == 1.0


def test_the_loop_runs_through_the_core_on_a_tiny_model(shop, tmp_path, tiny_model):
    task_file = shop / "task.yaml"
    task_file.write_text(sized(task_file.read_text(), train=6, eval=3))
    task = load_task(task_file)
    build_dataset(task, tmp_path / "data", progress=False)
    variants = [Variant("base", str(tiny_model), prompt="full"),
                Variant("base+constrained", str(tiny_model), prompt="full", constrained=True)]
    report = evaluate(task, load_examples(tmp_path / "data/eval.jsonl", task), variants, tmp_path / "run",
                      batch_size=3, progress=False)
    constrained = report["variants"]["base+constrained"]
    assert constrained["n"] == 3 and constrained["parse_rate"] == 1.0  # the constraint admits calls or answers only
    assert "tools:accuracy" in constrained and "tools:error_malformed_call" in constrained
    prediction = read_rows(tmp_path / "run/predictions/base+constrained.jsonl")[0]
    assert isinstance(prediction["input"], list) and prediction["expected_text"] == task.format.render(prediction["expected"])
    assert "tools:accuracy" in write_report(tmp_path / "run").read_text()


@pytest.mark.skipif(not BFCL.is_dir(), reason="needs shared/corpora/bfcl")
def test_bfcl_command_runs_a_model_and_scores_it(tiny_model, tmp_path):
    answers = tmp_path / "answers.jsonl"
    result = run_formtune("tools", "bfcl", str(BFCL / "BFCL_v4_simple_python.json"), "--model",
                          str(tiny_model), "--limit", "4", "--answers", str(answers), "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["n"] == 4 and 0.0 <= summary["accuracy"] <= 1.0
    assert len(answers.read_text().splitlines()) == 4
    rescored = run_formtune("score-calls", "--bfcl", str(BFCL / "BFCL_v4_simple_python.json"),
                            "--answers", str(answers), "--json")
    assert json.loads(rescored.stdout)["accuracy"] * 400 == pytest.approx(summary["accuracy"] * 4)
    # The same suite through the core's `formtune eval --benchmark`: the same prompts, so the same answers.
    benchmarked = run_formtune("eval", "--benchmark", "bfcl", "--data", str(BFCL / "BFCL_v4_simple_python.json"),
                               "--model", str(tiny_model), "--limit", "4", cwd=tmp_path)
    assert benchmarked.returncode == 0, benchmarked.stderr
    saved = json.loads((tmp_path / benchmarked.stdout.splitlines()[-1].split()[1]).read_text())["variants"]["base"]
    assert (saved["score"], saved["n"], saved["errors"]) == (summary["accuracy"], 4, summary["errors"])
    assert [a["text"] for a in saved["answers"]] == [json.loads(line)["text"] for line in answers.read_text().splitlines()]


def test_contrast_twins_a_call_turn_with_its_tool_taken_away(shop):
    from formtune_tools.generate import ToolCallGenerator

    generator = ToolCallGenerator()
    plain, twinned = task_with(shop), task_with(shop, dialect="python", contrast=1.0)
    train, held_out = derive_seed(plain.spec.data.seed, "train"), derive_seed(plain.spec.data.seed, "eval")
    twins = [(i, d) for i in range(60) if (d := generator.draft(twinned, seed=train, index=i)).meta.get("twin_of") is not None]
    assert len(twins) >= 8
    for index, twin in twins:
        original = generator.draft(twinned, seed=train, index=twin.meta["twin_of"])
        assert original.meta["category"] in ("simple", "multiple") and twin.meta["category"] == "irrelevance"
        assert twin.input[1:] == original.input[1:]  # the same request, word for word
        called = {c["name"] for c in original.output["calls"]}
        assert called and not called & {t["name"] for t in twin.input[0]["tools"]}
        assert twin.output["answer"] in twinned.options("tools").declines
        assert generator.draft(plain, seed=train, index=index).meta.get("twin_of") is None
    for i in range(30):  # the held-out split is the same with or without twins
        assert generator.draft(twinned, seed=held_out, index=i).input == generator.draft(plain, seed=held_out, index=i).input


def test_optional_thins_the_optional_arguments_of_training_calls_only(shop):
    from formtune_tools.generate import ToolCallGenerator

    generator = ToolCallGenerator()
    plain, bare = task_with(shop), task_with(shop, dialect="python", optional=0.0)
    train, held_out = derive_seed(plain.spec.data.seed, "train"), derive_seed(plain.spec.data.seed, "eval")
    required = {t["name"]: set(t["parameters"].get("required", [])) for t in plain.schema}

    def extras(task, seed):  # optional arguments stated in 60 drafts' calls
        drafts = [generator.draft(task, seed=seed, index=i) for i in range(60)]
        return sum(len(set(c["arguments"]) - required[c["name"]]) for d in drafts for c in d.output.get("calls", []))

    assert extras(plain, train) >= 10 and extras(bare, train) == 0
    for i in range(30):  # the held-out split is the same with or without it
        held = generator.draft(bare, seed=held_out, index=i), generator.draft(plain, seed=held_out, index=i)
        assert held[0].output == held[1].output


def test_general_tools_mix_into_training_only(shop, tmp_path):
    general = [{"type": "function", "function": {"name": "get_weather", "description": "Gets the weather for a city.",
                                                 "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                                                                "required": ["city"]}}},
               {"name": "convert_units", "description": "Converts a length.", "inputSchema": {
                   "type": "object", "properties": {"meters": {"type": "number"}, "to": {"enum": ["ft", "in"]}},
                   "required": ["meters", "to"]}}]
    (shop / "general.json").write_text(json.dumps(general))
    text = sized((shop / "task.yaml").read_text(), train=40, eval=12)
    (shop / "task.yaml").write_text(text.replace("  max_parallel: 2", "  max_parallel: 2\n  general: {tools: general.json, share: 0.5}"))
    task = load_task(shop / "task.yaml")
    build_dataset(task, tmp_path / "data", progress=False)
    trains, evals = read_rows(tmp_path / "data/train.jsonl"), read_rows(tmp_path / "data/eval.jsonl")
    sources = Counter(r["provenance"]["tools"] for r in trains)
    assert 10 <= sources["general"] <= 30 and sources["task"] + sources["general"] == 40
    assert {r["provenance"]["tools"] for r in evals} == {"task"}
    general_rows = [r for r in trains if r["provenance"]["tools"] == "general"]
    assert all({t["name"] for t in r["input"][0]["tools"]} <= {"get_weather", "convert_units"} for r in general_rows)
    assert all(r["provenance"]["template"] is None for r in general_rows)  # generic wording, not the task's
    assert check('[get_weather(city="Oslo")]', task).valid  # the validator knows the general tools too
