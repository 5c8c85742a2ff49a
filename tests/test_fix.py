"""The fix loop without a model: failure groups, targeted rows, the regression set, corrections."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from conftest import run_formtune
from formtune.check import check
from formtune.conversation import input_key
from formtune.corrections import load_corrections
from formtune.dataset import build_dataset, read_rows
from formtune.errors import UsageError
from formtune.failures import Group, generalize, group_failures, problems, values_at
from formtune.fix import FixPlan, compare, plan_fix
from formtune.runs import write_run_info
from formtune.task import load_task

ROOT = Path(__file__).resolve().parents[1]
TICKET = ROOT / "examples" / "support-ticket" / "task.yaml"
GOLD = {"customer": {"name": "Ana", "email": "ana@example.org"}, "category": "billing", "priority": "high",
        "items": [{"sku": "ABC-1234", "quantity": 2}, {"sku": "XYZ-9876", "quantity": 1}], "refund_requested": False}


def test_problems_name_each_difference_by_kind_and_general_path():
    got = copy.deepcopy(GOLD)
    got["order_id"] = "ABC-1234"  # an SKU copied into an invented order number
    got["items"].append({"sku": "XYZ-9876", "quantity": 1})  # a third item that is not there
    got["priority"] = "urgent"
    del got["customer"]["email"]
    found = {(p.kind, p.path): p for p in problems(GOLD, got, True, [
        {"kind": "schema:pattern", "path": "/order_id"}, {"kind": "schema:required", "path": "/customer"}])}
    assert set(found) == {("schema:pattern", "/order_id"), ("schema:required", "/customer"),
                          ("invented", "/order_id"), ("missing", "/customer/email"), ("wrong-value", "/priority"),
                          ("array-length", "/items")}
    assert found["invented", "/order_id"].got == "ABC-1234"
    assert (found["wrong-value", "/priority"].expected, found["wrong-value", "/priority"].got) == ("high", "urgent")
    assert problems(GOLD, copy.deepcopy(GOLD), True, []) == []
    assert [p.kind for p in problems(GOLD, None, False, [])] == ["parse"]
    assert problems({"n": 1}, {"n": True}, True, [])[0].kind == "wrong-value"  # true is not 1


def test_groups_merge_array_positions_and_sort_by_size():
    assert generalize("/items/12/sku") == "/items/*/sku"
    rows = [(GOLD, {**GOLD, "items": [{"sku": "ABC-1234", "quantity": 3}, GOLD["items"][1]]}, True, []),
            (GOLD, {**GOLD, "items": [GOLD["items"][0], {"sku": "XYZ-9876", "quantity": 4}]}, True, []),
            (GOLD, {**GOLD, "order_id": "ORD-000001"}, True, [])]
    groups = group_failures(rows)
    assert [(g.kind, g.path, g.rows) for g in groups] == [
        ("wrong-value", "/items/*/quantity", [0, 1]), ("invented", "/order_id", [2])]
    assert groups[0].expected == [2, 1] and groups[0].got == [3, 4]


def test_a_group_wants_the_answers_that_teach_it():
    invented = Group("invented", "/order_id", [0], [None], ["ABC-1234"])
    assert invented.wants(GOLD) and not invented.wants({**GOLD, "order_id": "ORD-123456"})
    length = Group("array-length", "/items", [0], [[1, 2]], [[1, 2, 3]])
    assert length.wants(GOLD) and not length.wants({**GOLD, "items": GOLD["items"][:1]})
    enum = Group("wrong-value", "/priority", [0, 1], ["urgent", "low"], ["high", "high"])
    assert enum.wants({**GOLD, "priority": "low"}) and not enum.wants(GOLD)
    names = Group("wrong-value", "/customer/name", [0], ["Ana Lima"], ["Ana"])
    assert names.wants(GOLD)  # free text cannot be matched: any answer with the field teaches it
    missing = Group("missing", "/customer/company", [0], ["Acme"], [None])
    assert not missing.wants(GOLD) and missing.wants({**GOLD, "customer": {**GOLD["customer"], "company": "X"}})
    assert values_at(GOLD, "/items/*/sku") == ["ABC-1234", "XYZ-9876"]


@pytest.fixture
def evaluated_run(tmp_path):
    """A run of the demo task with a fabricated tuned evaluation: on every held-out row without an
    order number the "model" invented one, and on rows with two items it dropped the second."""
    spec = yaml.safe_load(TICKET.read_text())
    spec["data"].update(train=60, eval=20)
    task_dir = tmp_path / "task"
    task_dir.mkdir()
    for name in ("schema.json", "phrases.j2"):
        (task_dir / name).write_text((TICKET.parent / name).read_text())
    (task_dir / "task.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    task = load_task(task_dir / "task.yaml")
    build_dataset(task, tmp_path / "data", progress=False)
    run = tmp_path / "run"
    write_run_info(run, task_dir / "task.yaml", tmp_path / "data", None)
    (run / "predictions").mkdir()
    with (run / "predictions" / "tuned.jsonl").open("w") as fh:
        for row in read_rows(tmp_path / "data" / "eval.jsonl"):
            got = copy.deepcopy(row["output"])
            got.setdefault("order_id", got["items"][0]["sku"])
            if len(got["items"]) == 2:
                got["items"] = got["items"][:1]
            completion = json.dumps(got)
            fh.write(json.dumps({"completion": completion, "input": row["input"], "expected": row["output"],
                                 "violations": [v.to_dict() for v in check(completion, task).violations]}) + "\n")
    (run / "metrics.json").write_text(json.dumps({"variants": {"tuned": {"schema_valid": 0.4, "field_f1": 0.9}}}))
    return run, task, tmp_path / "data"


def test_plan_targets_each_group_and_never_trains_on_held_out_rows(evaluated_run):
    run, task, data = evaluated_run
    held_out = read_rows(data / "eval.jsonl")
    absent = sum("order_id" not in r["output"] for r in held_out)
    two = sum(len(r["output"]["items"]) == 2 for r in held_out)
    plan = plan_fix(run, regression=15)
    groups = {g.key: g for g in plan.groups}
    assert len(groups["invented /order_id"].rows) == absent
    assert len(groups["array-length /items"].rows) == two
    assert plan.wanted["invented /order_id"] == min(30, max(8, -(-absent * 60 // 20)))  # its share, at most half
    new_train = read_rows(plan.out / "data" / "train.jsonl")
    old_train = read_rows(data / "train.jsonl")
    assert new_train[:len(old_train)] == old_train
    targeted = new_train[len(old_train):]
    assert len(targeted) == plan.train_rows - len(old_train) > 0
    for row in targeted:
        assert row["provenance"]["stream"] == "fix" and row["provenance"]["fix_groups"]
        if "invented /order_id" in row["provenance"]["fix_groups"]:
            assert "order_id" not in row["output"]
        if "array-length /items" in row["provenance"]["fix_groups"]:
            assert len(row["output"]["items"]) == 2
    assert plan.targeted["invented /order_id"] == plan.wanted["invented /order_id"]
    regression = read_rows(plan.out / "data" / "regression.jsonl")
    assert len(regression) == 15
    keys = lambda rows: {input_key(r["input"]) for r in rows}  # noqa: E731
    assert not keys(regression) & keys(new_train) and not keys(held_out) & keys(new_train[len(old_train):])
    assert not keys(regression) & keys(held_out)
    assert read_rows(plan.out / "data" / "eval.jsonl") == held_out
    assert json.loads((plan.out / "fix.json").read_text())["plan"]["groups"][0]["count"] > 0


def test_plan_needs_an_evaluated_tuned_variant(evaluated_run):
    run, _, _ = evaluated_run
    with pytest.raises(UsageError, match=r"predictions/tuned\+constrained.jsonl does not exist; evaluate the run"):
        plan_fix(run, variant="tuned+constrained")
    with pytest.raises(UsageError, match="fix retrains the tuned model"):
        plan_fix(run, variant="base")


def test_compare_says_what_got_fixed_and_what_regressed(evaluated_run, tmp_path):
    run, task, _ = evaluated_run
    plan = plan_fix(run, regression=5)
    # "After": the model is right everywhere but keeps inventing order numbers on half the rows.
    rows = read_rows(plan.out / "data" / "eval.jsonl")
    (plan.out / "predictions").mkdir()
    with (plan.out / "predictions" / "tuned.jsonl").open("w") as fh:
        for i, row in enumerate(rows):
            got = dict(row["output"])
            if "order_id" not in got and i % 2:
                got["order_id"] = "ORD-000001"
            fh.write(json.dumps({"completion": json.dumps(got), "expected": row["output"], "violations": []}) + "\n")
    report = compare(plan, task, {"schema_valid": 0.4}, {"schema_valid": 1.0},
                     {"schema_valid": 1.0, "field_f1": 0.95}, {"schema_valid": 1.0, "field_f1": 0.93})
    status = {g["group"]: g["status"] for g in report["groups"]}
    assert status["array-length /items"] == "fixed"
    assert status["invented /order_id"] == "fewer"
    assert status["schema:pattern /order_id"] == "fixed"
    assert report["regressed"] == {"field_f1": -0.02}
    assert report["held_out"]["schema_valid"] == {"before": 0.4, "after": 1.0}


def test_fix_plan_only_from_the_command_line(evaluated_run):
    run, _, _ = evaluated_run
    result = run_formtune("fix", str(run), "--plan-only", "--regression", "5")
    assert result.returncode == 0, result.stderr
    assert "invented /order_id" in result.stdout and "targeted rows" in result.stdout
    missing = run_formtune("fix", str(run), "--variant", "tuned+constrained", "--plan-only")
    assert missing.returncode == 2 and missing.stderr.startswith("ERROR: ") and "Traceback" not in missing.stderr


# -- the corrections file --------------------------------------------------------------------


def _corrections(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "corrections.yaml"
    path.write_text(text)
    return path


GOOD = """\
# answers written by hand
- input: |
    Hi, my parcel never came. I bought 2 x ABC-1234.
    Ana (ana@example.org)
  output:
    customer: {name: Ana, email: ana@example.org}
    category: shipping
    priority: low
    items: [{sku: ABC-1234, quantity: 2}]
    refund_requested: false
"""


def test_a_corrections_file_is_read_with_the_line_of_each_row(tmp_path):
    task = load_task(TICKET)
    rows = load_corrections(_corrections(tmp_path, GOOD + GOOD.split("\n", 1)[1].replace("2 x", "3 x")), task)
    assert [(r.line, r.output["category"]) for r in rows] == [(2, "shipping"), (11, "shipping")]


def test_every_mistake_in_a_corrections_file_is_reported_with_its_line(tmp_path):
    task = load_task(TICKET)
    bad = GOOD.replace("quantity: 2}", "quantity: 12}") + """\
- input: "no answer here"
- input: 42
  output: {}
- output: {category: billing}
  inptu: typo
"""
    with pytest.raises(UsageError) as err:
        load_corrections(_corrections(tmp_path, bad), task)
    lines = str(err.value).splitlines()
    assert lines[0].endswith("corrections.yaml: 4 rows need fixing:")
    assert lines[1].endswith("corrections.yaml:5: 'output' breaks the task at /items/0/quantity: 12 is greater "
                             "than the maximum of 9")
    assert lines[2].endswith("corrections.yaml:11: 'output' is missing; add it")
    assert lines[3].endswith("corrections.yaml:12: 'input' must be the message as text")
    assert lines[4].endswith("corrections.yaml:15: unknown key 'inptu'; a row has only 'input' and 'output'")


def test_a_corrections_row_from_an_evaluation_set_is_refused(tmp_path):
    task = load_task(TICKET)
    text = yaml.safe_load(GOOD)[0]["input"]
    with pytest.raises(UsageError, match=r"corrections.yaml:2: this input is in an evaluation set"):
        load_corrections(_corrections(tmp_path, GOOD), task, {input_key(text)})


def test_dates_in_a_corrections_file_stay_strings(tmp_path):
    schema = tmp_path / "schema.json"
    schema.write_text('{"type": "object", "properties": {"day": {"type": "string", "format": "date"}}}')
    (tmp_path / "task.yaml").write_text("name: d\nschema: schema.json\ninstructions: x\n")
    rows = load_corrections(_corrections(tmp_path, "- input: see you on the 5th\n  output: {day: 2027-03-05}\n"),
                            load_task(tmp_path / "task.yaml"))
    assert rows[0].output == {"day": "2027-03-05"}


def test_bad_yaml_in_a_corrections_file_names_the_line(tmp_path):
    with pytest.raises(UsageError, match=r"corrections.yaml:4: not valid YAML: found character '\\t'"):
        load_corrections(_corrections(tmp_path, "- input: a\n  output: {}\n- input: b\n\toutput: {}\n"), load_task(TICKET))


def test_a_corrections_file_is_read_only_up_to_its_limit(tmp_path):
    task = load_task(TICKET)
    with pytest.raises(UsageError, match="larger than 2,000,000 bytes"):
        load_corrections(Path("/dev/zero"), task)  # endless: it was once read whole
    (tmp_path / "latin1.yaml").write_bytes("- input: caf\xe9\n".encode("latin-1"))
    with pytest.raises(UsageError, match="not UTF-8 text"):
        load_corrections(tmp_path / "latin1.yaml", task)


def test_fix_plan_carries_corrections(evaluated_run, tmp_path):
    run, _, _ = evaluated_run
    plan = plan_fix(run, regression=5, corrections=_corrections(tmp_path, GOOD))
    assert isinstance(plan, FixPlan) and plan.corrections == 1
    last = read_rows(plan.out / "data" / "train.jsonl")[-1]
    assert last["provenance"] == {"source": "correction", "file": str(tmp_path / "corrections.yaml"), "line": 2}
    assert json.loads(last["messages"][-1]["content"])["category"] == "shipping"


def test_the_whole_loop_runs_on_a_tiny_model(evaluated_run, tiny_model):
    """Retrain, evaluate the held-out and regression sets, compare: every number is in fix.json."""
    from formtune.fix import fix_run
    from formtune.train import train
    from formtune.train_config import TrainConfig

    run, _, data = evaluated_run
    write_run_info(run, json.loads((run / "run.json").read_text())["task"], data, str(tiny_model))
    train(str(tiny_model), read_rows(data / "train.jsonl")[:8], None, TrainConfig(max_steps=1, batch_size=4), run)
    report = fix_run(run, per_group=2, regression=4, batch_size=8, progress=False)
    out = run.with_name("run-fix")
    assert (out / "adapter" / "adapter_config.json").is_file()
    assert json.loads((out / "fix.json").read_text()) == report
    assert {g["group"] for g in report["groups"]} >= {"invented /order_id", "array-length /items"}
    assert all(g["targeted"] == 2 and g["before"] > 0 and g["status"] in ("fixed", "fewer", "same", "more")
               for g in report["groups"])
    assert report["held_out"]["schema_valid"]["before"] == 0.4
    for side in ("before", "after"):
        assert report["regression"]["schema_valid"][side] is not None
        assert len(read_rows(out / "regression" / side / "predictions" / "tuned.jsonl")) == 4
    assert len(read_rows(out / "predictions" / "tuned.jsonl")) == 20
