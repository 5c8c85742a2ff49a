"""Rule sets: per-field priority, the branches of the example task, and one-line errors naming the
file, the line and the rule for every mistake (a bad condition, an unknown fact or field, an
unreachable rule)."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import ROOT

from formtune.errors import TaskError
from formtune.task import load_task
from formtune_rules.ruleset import rule_set
from rules_fixtures import RULES, write_task


def load(tmp_path, rules=RULES):
    return rule_set(load_task(write_task(tmp_path, rules)))


def facts(amount=10.0, vip=False, days=0):
    today = dt.date(2025, 6, 1)
    return {"amount": amount, "vip": vip, "today": today, "ordered": today - dt.timedelta(days=days)}


def test_each_field_takes_the_highest_rule_that_sets_it(tmp_path):
    rules = load(tmp_path)
    decision = rules.decide(facts(amount=80, vip=True, days=12))
    # big sets route; stale (higher than vip) sets priority and would set route, but big is higher
    assert decision.answer == {"route": "manager", "priority": "high"}
    assert decision.deciders == {"route": "big", "priority": "stale"}
    assert decision.fired == ["big", "stale", "vip"] and decision.overridden == ["vip"]
    assert decision.branch == "big + stale"
    assert rules.decide(facts()).branch == "default"
    assert rules.decide(facts(days=10)).answer == {"route": "auto", "priority": "high"}  # on the day
    assert rules.decide(facts(days=9)).answer == {"route": "auto", "priority": "normal"}


def test_every_branch_is_found(tmp_path):
    assert load(tmp_path).branches == ["big", "big + stale", "big + vip", "stale", "vip", "default"]


def test_the_example_task_has_eleven_branches():
    rules = rule_set(load_task(ROOT / "examples" / "refund-rules" / "task.yaml"))
    assert len(rules.branches) == 11
    assert set(rules.spec.holdout_branches) <= set(rules.branches)
    assert "fraud-review" in rules.branches and "return-window + damaged-goods" not in rules.branches


def test_a_rule_file_works_like_an_inline_section(tmp_path):
    (tmp_path / "routing.rules.yaml").write_text(RULES.replace("rules:\n", "", 1).replace("\n  ", "\n"))
    rules = load(tmp_path, "rules: {file: routing.rules.yaml}\n")
    assert rules.branches == ["big", "big + stale", "big + vip", "stale", "vip", "default"]
    line = line_of((tmp_path / "routing.rules.yaml").read_text(), "when: today - ordered")
    assert rules.where("rules", 1, "when") == f"{tmp_path / 'routing.rules.yaml'}:{line}"


def line_of(text, needle):
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


@pytest.mark.parametrize(("old", "new", "message"), [
    ("when: amount > 50", "when: amout > 50", "rule 'big': condition 'amout > 50', column 1: unknown fact 'amout'"),
    ("when: amount > 50", "when: amount >> 50", "rule 'big': condition 'amount >> 50', column 9: cannot parse"),
    ("then: {route: manager}", "then: {rout: manager}", "rule 'big' sets rout, which the default does not give"),
    ("then: {route: manager}", "then: {route: boss}", "rule 'big' sets route to 'boss', which the schema does not allow"),
    ("default: {route: auto, priority: normal}", "default: {route: auto, priority: normal, colour: red}",
     "'colour' is not a field of the task's schema"),
    ("when: vip\n", "when: vip and amount > 200\n", "rule 'vip' is unreachable: its condition 'vip and amount > 200' "
     "holds for no value"),
    ("when: vip\n", "when: today - ordered >= 15\n", "rule 'vip' is unreachable: whenever it holds, higher rules "
     "(stale) already decide every field it sets"),
    ("relative_to: today", "relative_to: tomorrow", "fact 'ordered' counts days from 'tomorrow'"),
])
def test_mistakes_name_file_line_and_rule(tmp_path, old, new, message):
    rules_text = RULES.replace(old, new, 1)
    assert rules_text != RULES
    with pytest.raises(TaskError) as err:
        load(tmp_path, rules_text)
    text = (tmp_path / "task.yaml").read_text()
    line = line_of(text, new.split("\n")[0].strip()) if "unreachable" not in message or "vip" not in new else \
        line_of(text, new.strip())
    assert str(err.value).startswith(f"{tmp_path / 'task.yaml'}:{line}: ")
    assert message in str(err.value)


def test_an_enum_value_that_does_not_exist(tmp_path):
    text = RULES.replace("vip: {type: boolean}", "vip: {type: boolean}\n    tier: {type: enum, values: [gold, silver]}")
    text = text.replace("when: vip\n", 'when: vip or tier == "golf"\n')
    with pytest.raises(TaskError, match=r"task.yaml:\d+: rule 'vip': tier is compared with 'golf', which is not one "
                                        r"of its values \(gold, silver\)"):
        load(tmp_path, text)


def test_held_out_branch_must_exist(tmp_path):
    with pytest.raises(TaskError, match=r"no reachable branch is named 'big \+ vip \+ stale' \(branches: big; "):
        load(tmp_path, RULES + '  holdout_branches: ["big + vip + stale"]\n')


def test_pydantic_mistakes_in_the_section_name_the_line(tmp_path):
    with pytest.raises(TaskError) as err:
        load(tmp_path, RULES.replace("type: boolean", "type: bool"))
    assert f"task.yaml:{line_of((tmp_path / 'task.yaml').read_text(), 'type: bool}')}: field 'rules.facts.vip.type'" \
        in str(err.value)
