"""``rules.state_rules``: the answer states whether each rule holds before it decides, and the
judge tells the three steps apart: are the checks the true ones, those of the facts the answer
states, and does the decision follow from them by priority?"""

from __future__ import annotations

import json

import pytest

from formtune.dataset import build_dataset, read_rows
from formtune.errors import TaskError
from formtune.evaluate import _score, load_examples, task_metrics
from formtune.task import load_task
from formtune_rules.facts import facts_from_json
from formtune_rules.judge import judge
from formtune_rules.ruleset import rule_set
from rules_fixtures import RULES, SCHEMA, write_task

STATED = {"type": "object", "properties": {"amount": {"type": "number"}, "vip": {"type": "boolean"},
                                           "ordered_days_before_today": {"type": "integer"}}}
CHECKS = {"type": "object", "properties": {r: {"type": "boolean"} for r in ("big", "stale", "vip")}}
# amount 80: 'big' holds; ordered 2 days before today: 'stale' does not; no vip
FACTS = {"amount": 80.0, "vip": False, "today": "2025-06-01", "ordered": "2025-05-30"}


def checked_task(folder, state=True):
    """The fixture task with ``rules.state_rules: checks`` (and ``state: facts``), its schema with both."""
    options = "  state_rules: checks\n" + ("  state: facts\n" if state else "")
    path = write_task(folder, RULES + options)
    stated = {"facts": STATED} if state else {}
    schema = {**SCHEMA, "required": [*stated, "checks", *SCHEMA["required"]],
              "properties": {**stated, "checks": CHECKS, **SCHEMA["properties"]}}
    (folder / "schema.json").write_text(json.dumps(schema))
    return load_task(path)


def test_answers_state_which_rules_hold_between_the_facts_and_the_decision(tmp_path):
    task = checked_task(tmp_path)
    build_dataset(task, tmp_path / "data", progress=False)
    rows = read_rows(tmp_path / "data" / "train.jsonl")
    seen = set()
    for row in rows:
        facts = facts_from_json(rule_set(task).facts, row["provenance"]["facts"])
        assert list(row["output"]) == ["facts", "checks", "route", "priority", "reply"]
        checks = {"big": facts["amount"] > 50, "stale": (facts["today"] - facts["ordered"]).days >= 10,
                  "vip": facts["vip"]}
        assert row["output"]["checks"] == checks
        seen.add(tuple(checks.values()))
    assert len(seen) >= 6  # the rules hold in many combinations, conflicts among them
    examples = load_examples(tmp_path / "data" / "eval.jsonl", task)
    outputs = [{"completion": json.dumps(e.expected), "prompt_tokens": 1, "latency_s": 0.1} for e in examples]
    (tmp_path / "predictions").mkdir()
    scores = _score(task, examples, outputs, task_metrics(task), tmp_path / "predictions" / "right.jsonl")
    assert scores["rules:holds_right"] == scores["rules:holds_follow_own_facts"] == 1.0
    assert scores["rules:follows_own_holds"] == scores["rules:adherence"] == 1.0


def verdict(task, checks, route="manager", priority="normal", days=2):
    ruleset = rule_set(task)
    value = {"facts": {"amount": 80.0, "vip": False, "ordered_days_before_today": days}, "checks": checks,
             "route": route, "priority": priority, "reply": "Thanks, routed."}
    return judge(ruleset, value, json.dumps(value), facts_from_json(ruleset.facts, FACTS))


def steps(v):
    return v.holds_right, v.holds_follow_facts, v.follows_own_holds, v.adherent


def test_checks_are_judged_against_the_truth_the_stated_facts_and_the_decision(tmp_path):
    task = checked_task(tmp_path)
    right = {"big": True, "stale": False, "vip": False}
    assert steps(verdict(task, right)) == (True, True, True, True)
    # Misread as 12 days: 'stale' then holds and takes the priority; every step follows the misreading.
    stale = {**right, "stale": True}
    assert steps(verdict(task, stale, priority="high", days=12)) == (False, True, True, False)
    # Read right, checked wrong, decided from the wrong checks.
    assert steps(verdict(task, stale, priority="high")) == (False, False, True, False)
    # Checked right, decided against the checks: 'big' holds, so the route is the manager's.
    assert steps(verdict(task, right, route="auto")) == (True, True, False, False)
    # Checks in another order, one missing, or not true/false: not checks at all.
    for broken in ({"stale": False, "big": True, "vip": False}, {"big": True, "stale": False},
                   {**right, "vip": "false"}, None):
        assert steps(verdict(task, broken)) == (False, False, False, True)
    ruleset = rule_set(task)
    unparsed = judge(ruleset, None, "{", facts_from_json(ruleset.facts, FACTS))
    assert steps(unparsed) == (False, False, False, False)


def test_the_check_metrics_come_with_the_option(tmp_path):
    (tmp_path / "alone").mkdir()
    alone = task_metrics(checked_task(tmp_path / "alone", state=False))
    assert {"rules:holds_right", "rules:follows_own_holds"} <= set(alone)
    assert "rules:holds_follow_own_facts" not in alone  # no stated facts to follow
    (tmp_path / "plain").mkdir()
    assert not any("holds" in name for name in task_metrics(load_task(write_task(tmp_path / "plain"))))


@pytest.mark.parametrize("field, message", [
    ("verdicts", r"'verdicts' is not a field of the task's schema"),
    ("facts", r"'facts' already holds the facts, a decided field or a templated one"),
    ("route", r"'route' already holds"),
])
def test_state_rules_needs_a_field_of_its_own(tmp_path, field, message):
    task = checked_task(tmp_path)
    text = task.source.read_text().replace("state_rules: checks", f"state_rules: {field}")
    task.source.write_text(text)
    with pytest.raises(TaskError, match=r"task.yaml:\d+: " + message):
        rule_set(load_task(task.source))
