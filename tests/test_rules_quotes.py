"""``rules.state_quotes``: where a template marks the words that give a fact (``said``), the answer
quotes them just before stating the fact; the quotes help the model find the fact and are never
judged, so held-out inputs (which mark nothing) are scored as before."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from formtune.dataset import build_dataset, read_rows
from formtune.errors import TaskError
from formtune.evaluate import task_metrics
from formtune.task import load_task
from formtune_rules.facts import facts_from_json
from formtune_rules.judge import judge
from formtune_rules.ruleset import rule_set
from rules_fixtures import RULES, SCHEMA, TASK, write_task

# 'plain' marks the amount and the order's day count; 'other' (held out) marks nothing.
SAID = TASK.replace("Order of {{ facts.amount }} EUR",
                    "Order of {{ said('amount', facts.amount ~ ' EUR') }}").replace(
    "placed {{ (facts.today - facts.ordered).days }} days ago",
    "placed {{ said('ordered', (facts.today - facts.ordered).days ~ ' days ago') }}")
STATED = {"type": "object", "properties": {
    "amount_quote": {"type": "string"}, "amount": {"type": "number"}, "vip": {"type": "boolean"},
    "ordered_quote": {"type": "string"}, "ordered_days_before_today": {"type": "integer"}}}


def quoting_task(folder, options="  state: facts\n  state_quotes: true\n", task=SAID):
    path = write_task(folder, RULES + options, task)
    schema = {**SCHEMA, "required": ["facts", *SCHEMA["required"]],
              "properties": {"facts": STATED, **SCHEMA["properties"]}}
    (folder / "schema.json").write_text(json.dumps(schema))
    return load_task(path)


def test_the_answer_quotes_the_marked_words_before_each_fact_and_the_rows_are_otherwise_the_same(tmp_path):
    built = {}
    for name, options in (("quoted", "  state: facts\n  state_quotes: true\n"), ("plain", "  state: facts\n")):
        (tmp_path / name).mkdir()
        build_dataset(quoting_task(tmp_path / name, options), tmp_path / name / "data", progress=False)
        built[name] = {split: read_rows(tmp_path / name / "data" / f"{split}.jsonl") for split in ("train", "eval")}
    for split in ("train", "eval"):
        rows, plain = built["quoted"][split], built["plain"][split]
        assert [r["input"] for r in rows] == [r["input"] for r in plain]  # said() draws nothing
        for row, without in zip(rows, plain):
            stated = row["output"]["facts"]
            assert {k: v for k, v in row["output"].items() if k != "facts"} == {
                k: v for k, v in without["output"].items() if k != "facts"}
            if split == "eval":  # the held-out template marks nothing
                assert stated == without["output"]["facts"]
                continue
            facts = row["provenance"]["facts"]
            days = (dt.date.fromisoformat(facts["today"]) - dt.date.fromisoformat(facts["ordered"])).days
            assert list(stated) == ["amount_quote", "amount", "vip", "ordered_quote", "ordered_days_before_today"]
            assert stated["amount_quote"] == f"{facts['amount']} EUR" and stated["ordered_quote"] == f"{days} days ago"
            assert stated["amount_quote"] in row["input"] and stated["ordered_quote"] in row["input"]
            assert {k: v for k, v in stated.items() if not k.endswith("_quote")} == without["output"]["facts"]


def test_quotes_are_not_judged_the_facts_are(tmp_path):
    task = quoting_task(tmp_path)
    ruleset = rule_set(task)
    truth = facts_from_json(ruleset.facts, {"amount": 80.0, "vip": False, "today": "2025-06-01",
                                            "ordered": "2025-05-30"})
    facts = {"amount": 80.0, "vip": False, "ordered_days_before_today": 2}

    def judged(stated):
        value = {"facts": stated, "route": "manager", "priority": "normal", "reply": "Thanks."}
        return judge(ruleset, value, json.dumps(value), truth)

    for stated in (facts, {"amount_quote": "80.0 EUR", **facts}, {"amount_quote": "some other words", **facts}):
        verdict = judged(stated)
        assert (verdict.read_right, verdict.follows_own_facts, not verdict.violations) == (True, True, True)
    misread = judged({"amount_quote": "80.0 EUR", **facts, "amount": 30.0})
    assert (misread.read_right, misread.read["amount"], misread.follows_own_facts) == (False, False, False)
    assert not any("quote" in name for name in task_metrics(task))


def test_a_template_that_marks_no_fact_names_its_line(tmp_path):
    task = quoting_task(tmp_path, task=SAID.replace("said('amount'", "said('total'"))
    with pytest.raises(TaskError, match=r"plain.*said\('total', \.\.\.\): no such fact; the facts are amount, vip"):
        build_dataset(task, tmp_path / "data", progress=False)


def test_state_quotes_needs_the_field_that_states_the_facts(tmp_path):
    with pytest.raises(TaskError, match=r"task.yaml:\d+.*'state_quotes' says how the facts are stated; it needs"):
        rule_set(load_task(write_task(tmp_path, RULES + "  state_quotes: true\n", SAID)))
