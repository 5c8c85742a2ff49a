"""``rules.state``: the answer first states the facts it read (relative dates as days before their
reference), and the judge tells reading from deciding: were the stated facts the input's, and do
the decided fields follow from the stated facts whether or not they were read right?"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from formtune.dataset import build_dataset, read_rows
from formtune.errors import TaskError
from formtune.evaluate import _score, load_examples, task_metrics
from formtune.task import load_task
from formtune_rules.facts import day_sums, facts_from_json, side_by_side
from formtune_rules.judge import judge
from formtune_rules.ruleset import rule_set
from rules_fixtures import RULES, SCHEMA, TASK, write_task

STATED = {"type": "object", "properties": {"amount": {"type": "number"}, "vip": {"type": "boolean"},
                                           "ordered_days_before_today": {"type": "integer"}}}
# amount 80: 'big' routes to the manager; ordered 2 days before today: not 'stale'; no vip
FACTS = {"amount": 80.0, "vip": False, "today": "2025-06-01", "ordered": "2025-05-30"}


def stated_task(folder, options="", stated=STATED, rules=RULES):
    """The fixture task with ``rules.state: facts`` (and ``options``), its schema with a facts object."""
    path = write_task(folder, rules + "  state: facts\n" + options)
    schema = {**SCHEMA, "required": ["facts", *SCHEMA["required"]],
              "properties": {"facts": stated, **SCHEMA["properties"]}}
    (folder / "schema.json").write_text(json.dumps(schema))
    return load_task(path)


@pytest.fixture
def task(tmp_path):
    return stated_task(tmp_path)


def test_answers_state_the_facts_first_with_relative_dates_in_days(task, tmp_path):
    build_dataset(task, tmp_path / "data", progress=False)
    rows = read_rows(tmp_path / "data" / "train.jsonl")
    for row in rows:
        facts = facts_from_json(rule_set(task).facts, row["provenance"]["facts"])
        assert list(row["output"]) == ["facts", "route", "priority", "reply"]
        assert row["output"]["facts"] == {"amount": facts["amount"], "vip": facts["vip"],
                                          "ordered_days_before_today": (facts["today"] - facts["ordered"]).days}


def verdict(task, stated_days, route, priority):
    ruleset = rule_set(task)
    value = {"facts": {"amount": 80.0, "vip": False, "ordered_days_before_today": stated_days},
             "route": route, "priority": priority, "reply": "Thanks, routed."}
    return judge(ruleset, value, json.dumps(value), facts_from_json(ruleset.facts, FACTS))


def test_reading_and_deciding_are_judged_apart(task):
    right = verdict(task, 2, "manager", "normal")
    assert (right.read_right, right.follows_own_facts, right.adherent) == (True, True, True)
    # Misread as 12 days: 'stale' would then raise the priority; the answer follows its own reading.
    misread = verdict(task, 12, "manager", "high")
    assert (misread.read_right, misread.follows_own_facts, misread.adherent) == (False, True, False)
    assert misread.read == {"amount": True, "vip": True, "ordered_days_before_today": False}
    # Read right, decided wrong.
    wrong = verdict(task, 2, "auto", "normal")
    assert (wrong.read_right, wrong.follows_own_facts, wrong.adherent) == (True, False, False)
    # A day count that is not a whole number cannot be followed.
    assert verdict(task, "2", "manager", "normal").follows_own_facts is False
    ruleset = rule_set(task)
    unparsed = judge(ruleset, None, "{", facts_from_json(ruleset.facts, FACTS))
    assert unparsed.read_right is False and not any(unparsed.read.values()) and len(unparsed.read) == 3


def test_the_reading_metrics_each_fact_apart_and_only_with_state(task, tmp_path):
    metrics = task_metrics(task)
    assert {"rules:facts_read", "rules:follows_own_facts"} <= set(metrics)
    per_fact = [name for name, m in metrics.items() if m.group == "rules: facts read per fact"]
    assert per_fact == [f"rules:fact_read/{k}" for k in ("amount", "vip", "ordered_days_before_today")]
    (tmp_path / "plain").mkdir()
    plain = load_task(write_task(tmp_path / "plain"))
    assert "rules:facts_read" not in task_metrics(plain)
    assert "rules:counts_follow_own_dates" not in metrics  # only with state_dates


def test_an_evaluation_scores_each_fact_read(task, tmp_path):
    build_dataset(task, tmp_path / "data", progress=False)
    examples = load_examples(tmp_path / "data" / "eval.jsonl", task)
    off_by_one = [{**e.expected, "facts": {**e.expected["facts"], "ordered_days_before_today":
                                           e.expected["facts"]["ordered_days_before_today"] + 1}} for e in examples]
    outputs = [{"completion": json.dumps(o), "prompt_tokens": 1, "latency_s": 0.1} for o in off_by_one]
    (tmp_path / "predictions").mkdir()
    scores = _score(task, examples, outputs, task_metrics(task), tmp_path / "predictions" / "off.jsonl")
    assert scores["rules:facts_read"] == 0.0 and scores["rules:fact_read/ordered_days_before_today"] == 0.0
    assert scores["rules:fact_read/amount"] == scores["rules:fact_read/vip"] == 1.0


def test_state_dates_writes_the_dates_before_the_day_count(tmp_path):
    dates = {"today": {"type": "string"}, "ordered": {"type": "string"}}
    task = stated_task(tmp_path, "  state_dates: true\n", {**STATED, "properties": {**dates, **STATED["properties"]}})
    build_dataset(task, tmp_path / "data", progress=False)
    row = read_rows(tmp_path / "data" / "train.jsonl")[0]
    facts = row["provenance"]["facts"]
    stated = row["output"]["facts"]
    assert list(stated) == ["amount", "vip", "today", "ordered", "ordered_days_before_today"]
    assert (stated["today"], stated["ordered"]) == (facts["today"], facts["ordered"])
    ruleset = rule_set(task)
    value = {"facts": {**stated}, "route": row["output"]["route"], "priority": row["output"]["priority"], "reply": "x"}
    truth = facts_from_json(ruleset.facts, facts)
    judged = judge(ruleset, value, json.dumps(value), truth)
    assert judged.read_right and judged.follows_own_facts and judged.counts_follow_dates
    value["facts"]["ordered"] = "2000-01-01"  # a wrong date is a misreading, though the rules count the days
    misread = judge(ruleset, value, json.dumps(value), truth)
    assert misread.read_right is False and misread.counts_follow_dates is False
    # Both dates a week early: misread, yet the count still is the days between them.
    week = dt.timedelta(days=7)
    shifted = {k: (dt.date.fromisoformat(stated[k]) - week).isoformat() for k in ("today", "ordered")}
    value["facts"] = {**stated, **shifted}
    consistent = judge(ruleset, value, json.dumps(value), truth)
    assert consistent.read_right is False and consistent.counts_follow_dates is True
    for broken in ({"today": stated["today"][:8] + "37"}, {"ordered_days_before_today": True}, {"ordered": None}):
        value["facts"] = {**stated, **broken}
        assert judge(ruleset, value, json.dumps(value), truth).counts_follow_dates is False
    assert "rules:counts_follow_own_dates" in task_metrics(task)


def test_state_dates_needs_state(tmp_path):
    with pytest.raises(TaskError, match=r"task.yaml:\d+.*'state_dates' .* needs 'state'"):
        rule_set(load_task(write_task(tmp_path, RULES + "  state_dates: true\n")))


def test_a_stated_reference_date_is_read_before_the_date_counted_from_it(tmp_path):
    # 'ordered' is declared before 'today', the date it counts from; the answer's count must still
    # decide, measured from the today it states (here a wrong one: a misreading, not a wrong count).
    today = "    today: {type: date, min: 2025-01-01, max: 2025-12-31}\n"
    rules = RULES.replace(today, "").replace("min: -20, max: 0}\n", "min: -20, max: 0}\n" + today)
    assert rules.index("ordered:") < rules.index("today:")
    dates = {"today": {"type": "string"}, "ordered": {"type": "string"}}
    task = stated_task(tmp_path, "  state_dates: true\n", {**STATED, "properties": {**dates, **STATED["properties"]}},
                       rules)
    ruleset = rule_set(task)
    stated = {"amount": 80.0, "vip": False, "ordered": "2025-05-23", "ordered_days_before_today": 9,
              "today": "2025-06-01"}
    value = {"facts": stated, "route": "manager", "priority": "normal", "reply": "Thanks."}  # big, not stale
    truth = facts_from_json(ruleset.facts, {**FACTS, "ordered": "2025-05-23"})
    assert judge(ruleset, value, json.dumps(value), truth).follows_own_facts
    # Today misread two days late: counted from the true today, 9 days would become 11 ('stale').
    value["facts"] = {**stated, "today": "2025-06-03"}
    assert judge(ruleset, value, json.dumps(value), truth).follows_own_facts


WINDOWED = {**STATED, "properties": {"today": {"type": "string"}, "ordered": {"type": "string"},
                                     **STATED["properties"], "ordered_plus_10": {"type": "string"},
                                     "ordered_plus_10_vs_today": {"type": "string"}}}
WORKED = {**STATED, "properties": {"today": {"type": "string"}, "ordered": {"type": "string"},
                                   "ordered_to_today": {"type": "string"}, **STATED["properties"]}}
# 'plain' gives the order date only and says so; 'other' (held out) gives the day count.
TOLD = TASK.replace("placed {{ (facts.today - facts.ordered).days }} days ago",
                    "placed {{ facts.ordered }}{{ told('ordered', 'date') }}")


def test_side_by_side_copies_the_parts_down_to_the_first_that_differs():
    assert side_by_side(dt.date(2025, 10, 12), dt.date(2025, 11, 21)) == "months 10 11"
    assert side_by_side(dt.date(2025, 11, 21), dt.date(2025, 11, 3)) == "months 11 11, days 21 3"
    assert side_by_side(dt.date(2025, 11, 21), dt.date(2025, 11, 21)) == "months 11 11, days 21 21"
    assert side_by_side(dt.date(2024, 12, 30), dt.date(2025, 1, 6)) == "years 2024 2025"


def windowed_task(folder, task=TOLD, option="state_windows"):
    path = write_task(folder, RULES + f"  state: facts\n  state_dates: true\n  {option}: true\n", task)
    stated = WINDOWED if option == "state_windows" else WORKED
    schema = {**SCHEMA, "required": ["facts", *SCHEMA["required"]],
              "properties": {"facts": stated, **SCHEMA["properties"]}}
    (folder / "schema.json").write_text(json.dumps(schema))
    return load_task(path)


def test_state_windows_states_the_date_plus_the_rule_s_days_where_the_text_gave_a_date_only(tmp_path):
    task = windowed_task(tmp_path)
    assert rule_set(task).windows == {"ordered": [10]}  # 'stale': today - ordered >= 10
    build_dataset(task, tmp_path / "data", progress=False)
    for split, stated_as in (("train", "window"), ("eval", "count")):
        for row in read_rows(tmp_path / "data" / f"{split}.jsonl"):
            facts = row["provenance"]["facts"]
            ordered = dt.date.fromisoformat(facts["ordered"])
            today, end = dt.date.fromisoformat(facts["today"]), ordered + dt.timedelta(days=10)
            expected = ({"ordered_plus_10": end.isoformat(), "ordered_plus_10_vs_today": side_by_side(end, today)}
                        if stated_as == "window" else {"ordered_days_before_today": (today - ordered).days})
            assert row["output"]["facts"] == {"amount": facts["amount"], "vip": facts["vip"], "today": facts["today"],
                                              "ordered": facts["ordered"], **expected}
    # told() draws nothing: every input is the one written without the option.
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "schema.json").write_text((tmp_path / "schema.json").read_text())
    (plain / "task.yaml").write_text((tmp_path / "task.yaml").read_text().replace("  state_windows: true\n", ""))
    build_dataset(load_task(plain / "task.yaml"), plain / "data", progress=False)
    for split in ("train", "eval"):
        assert ([r["input"] for r in read_rows(plain / "data" / f"{split}.jsonl")]
                == [r["input"] for r in read_rows(tmp_path / "data" / f"{split}.jsonl")])


def test_either_form_is_judged_and_the_window_form_decides_from_its_own_date(tmp_path):
    task = windowed_task(tmp_path)
    ruleset = rule_set(task)
    truth = facts_from_json(ruleset.facts, FACTS)  # ordered 2 days before today: not stale
    facts = {"amount": 80.0, "vip": False, "today": "2025-06-01", "ordered": "2025-05-30"}

    def judged(stated, priority="normal"):
        value = {"facts": stated, "route": "manager", "priority": priority, "reply": "Thanks."}
        return judge(ruleset, value, json.dumps(value), truth)

    window = judged({**facts, "ordered_plus_10": "2025-06-09", "ordered_plus_10_vs_today": "months 6 6, days 9 1"})
    assert (window.read_right, window.follows_own_facts, window.windows_follow_dates, window.counts_follow_dates) == (
        True, True, True, None)
    count = judged({**facts, "ordered_days_before_today": 2})
    assert (count.read_right, count.follows_own_facts, count.counts_follow_dates, count.windows_follow_dates) == (
        True, True, True, None)
    # The window one day off: misread, and not the stated date plus 10.
    off = judged({**facts, "ordered_plus_10": "2025-06-10", "ordered_plus_10_vs_today": "months 6 6, days 10 1"})
    assert (off.read_right, off.read["ordered_plus_10"], off.windows_follow_dates) == (False, False, False)
    # The right window set beside today wrongly, or not at all: misread, and not following its dates.
    for beside_today in ({"ordered_plus_10_vs_today": "months 6 6, days 9 2"}, {}):
        apart = judged({**facts, "ordered_plus_10": "2025-06-09", **beside_today})
        assert (apart.read_right, apart.read["ordered_plus_10"], apart.windows_follow_dates) == (False, True, False)
    # The order date misread as 12 days back (stale): the answer that follows that date is consistent.
    misread_window = {"ordered": "2025-05-20", "ordered_plus_10": "2025-05-30",
                      "ordered_plus_10_vs_today": "months 5 6"}
    misread = judged({**facts, **misread_window}, priority="high")
    assert (misread.read_right, misread.follows_own_facts, misread.windows_follow_dates, misread.adherent) == (
        False, True, True, False)
    assert not judged({**facts, **misread_window}).follows_own_facts
    metrics = task_metrics(task)
    assert "rules:windows_follow_own_dates" in metrics and "rules:fact_read/ordered_plus_10" in metrics
    assert "rules:fact_read/ordered_days_before_today" in metrics


def test_day_sums_works_out_the_days_between_two_dates_in_small_sums():
    assert day_sums(dt.date(2025, 5, 18), dt.date(2025, 5, 21)) == "05: 21 - 18 = 3"
    assert day_sums(dt.date(2025, 5, 18), dt.date(2025, 6, 21)) == "05: 31 - 18 = 13, 06: 13 + 21 = 34"
    assert day_sums(dt.date(2024, 12, 31), dt.date(2025, 3, 1)) == (
        "12: 31 - 31 = 0, 01: 0 + 31 = 31, 02: 31 + 28 = 59, 03: 59 + 1 = 60")
    assert day_sums(dt.date(2024, 2, 10), dt.date(2024, 3, 1)) == "02: 29 - 10 = 19, 03: 19 + 1 = 20"  # leap year
    start = dt.date(2023, 11, 3)
    for offset in range(0, 800, 7):  # the sum is always the true count
        end = start + dt.timedelta(days=offset)
        assert int(day_sums(start, end).rsplit("= ", 1)[1]) == offset
    with pytest.raises(ValueError, match="counts forward"):
        day_sums(dt.date(2025, 5, 2), dt.date(2025, 5, 1))


def test_state_working_works_the_count_out_where_the_text_gave_a_date_only(tmp_path):
    task = windowed_task(tmp_path, option="state_working")
    build_dataset(task, tmp_path / "data", progress=False)
    for split, worked in (("train", True), ("eval", False)):
        for row in read_rows(tmp_path / "data" / f"{split}.jsonl"):
            facts = row["provenance"]["facts"]
            ordered, today = dt.date.fromisoformat(facts["ordered"]), dt.date.fromisoformat(facts["today"])
            working = {"ordered_to_today": day_sums(ordered, today)} if worked else {}
            assert row["output"]["facts"] == {"amount": facts["amount"], "vip": facts["vip"], "today": facts["today"],
                                              "ordered": facts["ordered"], **working,
                                              "ordered_days_before_today": (today - ordered).days}


def test_either_form_is_judged_and_the_working_must_be_that_of_the_stated_dates(tmp_path):
    task = windowed_task(tmp_path, option="state_working")
    ruleset = rule_set(task)
    truth = facts_from_json(ruleset.facts, FACTS)  # ordered 2 days before today: not stale
    facts = {"amount": 80.0, "vip": False, "today": "2025-06-01", "ordered": "2025-05-30"}

    def judged(stated):
        value = {"facts": stated, "route": "manager", "priority": "normal", "reply": "Thanks."}
        return judge(ruleset, value, json.dumps(value), truth)

    worked = judged({**facts, "ordered_to_today": "05: 31 - 30 = 1, 06: 1 + 1 = 2", "ordered_days_before_today": 2})
    assert (worked.read_right, worked.follows_own_facts, worked.working_follows_dates, worked.counts_follow_dates) == (
        True, True, True, True)
    count = judged({**facts, "ordered_days_before_today": 2})
    assert (count.read_right, count.working_follows_dates) == (True, None)
    # A slip in the sums: misread and not the working of its dates, though the count is right.
    slip = judged({**facts, "ordered_to_today": "05: 31 - 30 = 2, 06: 2 + 1 = 3", "ordered_days_before_today": 2})
    assert (slip.read_right, slip.read["ordered_to_today"], slip.working_follows_dates, slip.follows_own_facts) == (
        False, False, False, True)
    # The working of a later date than the one stated (or of one after today): not following its dates.
    for ordered in ("2025-05-29", "2025-06-02"):
        off = judged({**facts, "ordered": ordered, "ordered_to_today": "05: 31 - 30 = 1, 06: 1 + 1 = 2",
                      "ordered_days_before_today": 2})
        assert (off.read_right, off.working_follows_dates) == (False, False)
    metrics = task_metrics(task)
    assert "rules:working_follows_own_dates" in metrics and "rules:fact_read/ordered_to_today" in metrics


@pytest.mark.parametrize("options, message", [
    ("  state: facts\n  state_working: true\n", r"'state_working' .* needs 'state_dates: true'"),
    ("  state: facts\n  state_dates: true\n  state_working: true\n  state_windows: true\n", r"two ways .* keep one"),
    ("  state: facts\n  state_dates: true\n  state_working: true\n", r"cannot come after it; set max: 0"),
])
def test_state_working_needs_dates_alone_and_dates_before_their_reference(tmp_path, options, message):
    rules = RULES.replace("min: -20, max: 0}", "min: -20, max: 3}") if "max: 0" in message else RULES
    with pytest.raises(TaskError, match=r"task.yaml:\d+.*" + message):
        rule_set(load_task(write_task(tmp_path, rules + options)))


@pytest.mark.parametrize("options, message", [
    ("  state: facts\n  state_windows: true\n", r"'state_windows' .* needs 'state_dates: true'"),
    ("  state: facts\n  state_dates: true\n  state_windows: true\n", r"'state_windows': no rule compares"),
])
def test_state_windows_needs_dates_and_a_rule_that_counts_days(tmp_path, options, message):
    rules = RULES if "no rule" not in message else RULES.replace("today - ordered >= 10", "today >= 2025-06-01")
    with pytest.raises(TaskError, match=r"task.yaml:\d+.*" + message):
        rule_set(load_task(write_task(tmp_path, rules + options)))


def test_told_names_the_template_line_of_an_unknown_form(tmp_path):
    task = windowed_task(tmp_path, TOLD.replace("told('ordered', 'date')", "told('ordered', 'weekday')"))
    with pytest.raises(TaskError, match=r"plain.*told\('ordered', 'weekday'\): the form is one of date"):
        build_dataset(task, tmp_path / "data", progress=False)
