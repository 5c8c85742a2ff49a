"""The rules generator: right by construction, every branch in turn, boundaries included, held-out
branches never in training, held-out wordings only in evaluation, reproducible."""

from __future__ import annotations

import datetime as dt
import json
import random
from collections import Counter

import pytest
from conftest import ROOT

from formtune.dataset import build_dataset, read_rows
from formtune.task import load_task
from formtune_rules.facts import facts_from_json
from formtune_rules.ruleset import rule_set
from rules_fixtures import RULES, write_task


@pytest.fixture
def built(tmp_path):
    task = load_task(write_task(tmp_path, RULES + '  holdout_branches: ["big + vip"]\n'))
    build_dataset(task, tmp_path / "data", progress=False)
    return task, {s: read_rows(tmp_path / "data" / f"{s}.jsonl") for s in ("train", "eval")}


def test_answers_follow_the_rules_and_inputs_state_the_facts(built):
    task, rows = built
    rules = rule_set(task)
    for row in rows["train"] + rows["eval"]:
        facts = facts_from_json(rules.facts, row["provenance"]["facts"])
        decision = rules.decide(facts)
        assert {k: row["output"][k] for k in ("route", "priority")} == decision.answer
        assert row["output"]["reply"] == f"Thanks, routed to {decision.answer['route']}."
        assert row["provenance"]["branch"] == decision.branch
        assert f"{(facts['today'] - facts['ordered']).days} days" in row["input"]
        assert str(facts["amount"]) in row["input"]


def test_branches_are_balanced_and_held_out_ones_only_evaluate(built):
    _, rows = built
    train = Counter(r["provenance"]["branch"] for r in rows["train"])
    evaluation = Counter(r["provenance"]["branch"] for r in rows["eval"])
    assert "big + vip" not in train and set(train) == {"big", "big + stale", "stale", "vip", "default"}
    # 60 rows over 5 branches in turn; a rejected duplicate input shifts the turn by one
    assert max(train.values()) - min(train.values()) <= 2 and sum(train.values()) == 60
    assert set(evaluation) == {"big", "big + stale", "big + vip", "stale", "vip", "default"}
    assert max(evaluation.values()) - min(evaluation.values()) <= 2
    assert all(r["provenance"]["held_out_branch"] == (r["provenance"]["branch"] == "big + vip") for r in rows["eval"])


def test_templates_split_by_holdout(built):
    _, rows = built
    assert {r["provenance"]["template"] for r in rows["train"]} == {"plain"}
    assert {r["provenance"]["template"] for r in rows["eval"]} == {"other"}


def test_boundaries_are_drawn(built):
    _, rows = built
    amounts = Counter(r["provenance"]["facts"]["amount"] for r in rows["train"])
    days = Counter((dt.date.fromisoformat(r["provenance"]["facts"]["today"])
                    - dt.date.fromisoformat(r["provenance"]["facts"]["ordered"])).days for r in rows["train"])
    assert amounts[50.0] + amounts[50.01] + amounts[49.99] >= 3  # at the threshold, a cent either side
    assert days[10] + days[9] + days[11] >= 3  # on the day, a day either side
    assert any(r["provenance"]["boundary"] for r in rows["train"])


def test_only_boundary_values_repeat(built):
    """A boundary row keeps its boundary; its other facts vary, not the grid's few representatives
    (the reference date at its bounds or midway), which a model would learn by heart."""
    _, rows = built
    facts = [r["provenance"]["facts"] for r in rows["train"] + rows["eval"]]
    todays = Counter(f["today"] for f in facts)
    assert len(facts) == 84 and todays.most_common(1)[0][1] <= 3
    others = Counter(f["amount"] for f in facts if f["amount"] not in (49.99, 50.0, 50.01) and f["amount"] % 50)
    assert others.most_common(1)[0][1] <= 3  # (round amounts, multiples of 50, are drawn often on purpose)


def test_a_value_near_a_representative_stays_between_its_neighbours():
    """``Fact.near`` draws between the neighbours on the grid, in the fact's steps (cents), and
    keeps values that are not representatives and the values of enums."""
    task_rules = rule_set(load_task(ROOT / "examples" / "refund-rules" / "task.yaml"))
    amount, reason = task_rules.facts["amount"], task_rules.facts["reason"]
    values, _ = amount.candidates([20, 250])
    rng = random.Random(0)
    for value in values:
        at = values.index(value)
        first, last = values[at - 1] if at else 5, values[at + 1] if at + 1 < len(values) else 600
        near = {amount.near(value, values, rng) for _ in range(50)}
        assert all(first <= v <= last and round(v, 2) == v for v in near)
        assert len(near) > 1 or last - first < 0.03
    assert amount.near(123.45, values, rng) == 123.45  # not a representative: kept
    assert reason.near("damaged", reason.domain(), rng) == "damaged"


def test_a_rebuild_gives_the_same_rows(built, tmp_path):
    task, rows = built
    build_dataset(task, tmp_path / "again", progress=False)
    assert read_rows(tmp_path / "again" / "train.jsonl") == rows["train"]


def test_the_example_task_holds_out_its_combinations(tmp_path):
    task = load_task(ROOT / "examples" / "refund-rules" / "task.yaml")
    build_dataset(task, tmp_path, progress=False)
    train = [json.loads(line) for line in (tmp_path / "train.jsonl").read_text().splitlines()]
    held = set(rule_set(task).spec.holdout_branches)
    assert len(train) == task.spec.data.train and not any(r["provenance"]["branch"] in held for r in train)
    held_out_wordings = {"voicemail", "letter", "forum", "messages", "proxy", "call", "review", "market", "esl"}
    assert not any(r["provenance"]["template"] in held_out_wordings for r in train)
    evaluation = [json.loads(line) for line in (tmp_path / "eval.jsonl").read_text().splitlines()]
    assert {r["provenance"]["template"] for r in evaluation} == held_out_wordings
    assert held <= {r["provenance"]["branch"] for r in evaluation}
