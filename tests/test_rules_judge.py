"""Judging answers: the validator names the rule an answer breaks and the facts behind it, style
rules are checked, and the per-task metrics score adherence per rule, per branch and overall."""

from __future__ import annotations

import json

import pytest
from conftest import ROOT

from formtune.check import check
from formtune.dataset import build_dataset
from formtune.evaluate import _score, load_examples, task_metrics
from formtune.plugins import build_registry
from formtune.report import breakdowns, write_report
from formtune.task import load_task
from formtune_rules.facts import facts_from_json
from formtune_rules.judge import judge
from formtune_rules.ruleset import rule_set
from formtune_rules.spec import StyleSpec
from formtune_rules.style import style_problems
from rules_fixtures import RULES, write_task

FACTS = {"amount": 80.0, "vip": True, "today": "2025-06-01", "ordered": "2025-05-30"}  # big + vip


@pytest.fixture
def task(tmp_path):
    return load_task(write_task(tmp_path))


def answer(route="manager", priority="high", reply="Thanks, routed to manager."):
    return json.dumps({"route": route, "priority": priority, "reply": reply})


def test_a_right_answer_is_valid(task):
    assert check(answer(), task, meta={"facts": FACTS}).valid


def test_a_wrong_decision_names_the_rule_and_its_facts(task):
    checked = check(answer(route="auto"), task, meta={"facts": FACTS})
    assert [v.to_dict() for v in checked.violations] == [{
        "path": "/route", "kind": "rule:big",
        "message": "rule 'big' decides route = 'manager' (amount = 80.0); the answer says 'auto'"}]


def test_applying_a_rule_that_does_not_hold_says_so(task):
    facts = {**FACTS, "amount": 20.0, "vip": False}  # default branch
    checked = check(answer(route="manager", priority="normal"), task, meta={"facts": facts})
    assert checked.violations[0].kind == "rule:default"
    assert checked.violations[0].message == (
        "no rule decides route, so it is the default 'auto'; the answer says 'manager'; that is rule 'big''s "
        "answer, but it does not apply (amount = 20.0)")


def test_relative_dates_are_explained_in_days(task):
    facts = {**FACTS, "vip": False, "amount": 10.0, "ordered": "2025-05-22"}  # stale: 10 days
    checked = check(answer(route="auto", priority="normal"), task, meta={"facts": facts})
    assert "ordered = 2025-05-22 (10 days before today), today = 2025-06-01" in checked.violations[0].message


def test_without_facts_only_style_is_judged(task):
    checked = check(answer(route="auto", reply="Routed 🙂"), task)
    assert [v.kind for v in checked.violations] == ["style:polite", "style:no-emoji"]


@pytest.mark.parametrize(("spec", "text", "problems"), [
    ({"length": {"min": 10, "max": 20}}, "short", ["5 characters, fewer than 10"]),
    ({"words": {"max": 2}}, "one two three", ["3 words, more than 2"]),
    ({"required": ["thank you"]}, "Thank You kindly", []),
    ({"required": ["thank you"]}, "thanks", ["missing 'thank you'"]),
    ({"forbidden": ["cool"]}, "a cooling fan", []),
    ({"forbidden": ["cool"]}, "That is Cool.", ["says 'cool'"]),
    ({"tone": "formal"}, "We can't do that, gonna check!", ["not formal: \"can't\", 'gonna', '!'"]),
    ({"tone": "formal"}, "We cannot refund the customer's order.", []),
    ({"tone": "casual"}, "We regret to inform you that it broke", ["not casual: 'we regret to inform you'"]),
    ({"language": "en"}, "Vielen Dank für Ihre Nachricht, wir melden uns bald.", ["written in de, not en"]),
    ({"language": "en"}, "Thank you for your message, we will be in touch soon.", []),
    ({"emoji": False}, "Done 👍", ["has emoji '👍'"]),
    ({"emoji": False}, "Done: 100% — ok", []),
])
def test_style_checks(spec, text, problems):
    assert style_problems(StyleSpec(id="s", **spec), text) == problems


def test_metrics_score_rules_branches_and_style(tmp_path):
    registry = build_registry()
    task = load_task(write_task(tmp_path), registry)
    build_dataset(task, tmp_path / "data", progress=False)
    examples = load_examples(tmp_path / "data" / "eval.jsonl", task)
    metrics = task_metrics(task)
    assert {"rules:adherence", "rules:rule/big", "rules:rule/default", "rules:branch/big + vip",
            "rules:style/polite"} <= set(metrics)
    assert metrics["rules:rule/big"].group == "rules: adherence per rule"
    # An answer that always routes to manager: right exactly where 'big' decides the route.
    outputs = [{"completion": json.dumps({**e.expected, "route": "manager"}), "prompt_tokens": 1, "latency_s": 0.1}
               for e in examples]
    run = tmp_path / "run"
    (run / "predictions").mkdir(parents=True)
    scores = _score(task, examples, outputs, metrics, run / "predictions" / "manager.jsonl")
    right = [e.expected["route"] == "manager" for e in examples]
    assert scores["rules:adherence"] == pytest.approx(sum(right) / len(right))
    assert scores["rules:rule/big"] == 1.0
    assert scores["rules:branch/big + vip"] == 1.0 and scores["rules:branch/default"] == 0.0
    # stale decides the route (auto) only where big does not hold: wrong there, right elsewhere
    assert scores["rules:branch/stale"] == 0.0 and scores["rules:branch/big + stale"] == 1.0
    assert 0.0 < scores["rules:rule/stale"] < 1.0
    assert scores["rules:style"] == 1.0
    metrics_json = {"variants": {"manager": scores}, "metrics": {
        n: {"description": m.description, "higher_is_better": m.higher_is_better, "group": m.group}
        for n, m in metrics.items()}}
    (run / "metrics.json").write_text(json.dumps(metrics_json))
    groups = breakdowns(run, metrics_json)
    assert [r["metric"] for r in groups["rules: adherence per branch"]] == [
        f"rules:branch/{b}" for b in ("big", "big + stale", "big + vip", "stale", "vip", "default")]
    page = write_report(run).read_text()
    assert "<h2>rules: adherence per rule</h2>" in page and "rules:rule/stale" in page


def test_a_plugin_engine_and_extractor(tmp_path):
    registry = build_registry([ROOT / "tests" / "fixtures" / "rules_plugin.py"])
    rules = RULES.replace("when: amount > 50", "when: {'>': [{var: amount}, 50]}")
    rules = rules.replace("rules:\n  facts:", "rules:\n  engine: logic\n  extractor: tiny-facts\n  facts:", 1)
    rules = rules.replace("when: today - ordered >= 10", "when: {'>=': [{'-': [{var: today}, {var: ordered}]}, 10]}")
    rules = rules.replace("when: vip\n", "when: {var: vip}\n")
    task = load_task(write_task(tmp_path, rules), registry)
    text = "Order of 80.0 EUR, placed 12 days ago (today 2025-06-01)."
    checked = check(answer(route="manager", priority="normal"), task, input=text)
    assert [v.kind for v in checked.violations] == ["rule:stale"]  # facts read by the extractor, rules by the engine
    assert "ordered = 2025-05-20 (12 days before today)" in checked.violations[0].message


def test_a_conditional_style_rule_checks_the_answers_its_condition_holds_for(tmp_path):
    said = '    - {id: manager-said, field: /reply, when: route == "manager", required: [manager]}\n'
    rules = RULES.replace("    - {id: no-emoji, field: /reply, emoji: false}\n",
                          "    - {id: no-emoji, field: /reply, emoji: false}\n" + said)
    task = load_task(write_task(tmp_path, rules))
    ruleset = rule_set(task)
    facts = facts_from_json(ruleset.facts, FACTS)  # 'big': the route is the manager's

    def problems(route, reply):
        value = {"route": route, "priority": "high", "reply": reply}
        return judge(ruleset, value, json.dumps(value), facts).style["manager-said"]

    assert problems("manager", "Thanks, a manager will call.") == []
    assert problems("manager", "Thanks, routed.") == ["missing 'manager'"]
    # The condition reads the answer's own route: an answer routed 'auto' is not checked on it
    # (its wrong route is the logic rule's to score), and the metric's description says so.
    assert problems("auto", "Thanks, routed.") is None
    described = task_metrics(task)["rules:style/manager-said"].description
    assert "among answers for which 'route == \"manager\"' holds on their own fields" in described
