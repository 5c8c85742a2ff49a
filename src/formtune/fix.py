"""``formtune fix RUN``: turn a run's evaluation failures into training data, retrain, and show
what changed.

1. **Group** the failures of the evaluated variant (``predictions/tuned.jsonl``) by kind and field
   path (:mod:`formtune.failures`): ``invented /order_id`` on 13 rows, ``array-length /items`` on 4.
2. **Target** each group: draw fresh training candidates (the task's generator, templates, layouts
   and augmenters, on a stream of their own) and keep those whose answers teach the group: the
   invented field absent, arrays of the failing lengths, the enum values that were missed. A group
   gets rows in proportion to its share of failures (``per_group`` fixes the number).
3. Add the rows of a **corrections file** a person wrote (:mod:`formtune.corrections`), checked on
   import.
4. **Retrain** from scratch on the original training rows plus these, in a new run folder
   (default ``<RUN>-fix``).
5. **Evaluate again** on the same held-out set, and on a **regression set**: rows drawn like
   training rows but never trained on, run through the old and the new adapter.
6. **Report** each group before and after (fixed, fewer, same, more), the groups that are new,
   and the metrics of both sets before and after: ``fix.json`` in the new run, and a table.

The held-out rows are only read for their failures: no held-out input is ever trained on, and a
corrections row whose input is in the held-out or regression set is refused.
"""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from formtune.conversation import input_key
from formtune.corrections import load_corrections
from formtune.dataset import DatasetBuilder, read_rows
from formtune.dataset.store import write_rows_atomically
from formtune.errors import UsageError
from formtune.failures import Group, group_failures
from formtune.generation import BATCH_SIZE
from formtune.task import Task, load_task

#: Candidates drawn per targeted row wanted, at most, before a group is reported as short.
DRAWS_PER_ROW = 40
#: The variants whose failures retraining can fix.
TUNED = ("tuned", "tuned+constrained")
#: Metrics shown before and after.
SHOWN = ("schema_valid", "field_f1", "exact_match")


@dataclass
class FixPlan:
    """What the fix loop will train on, before any training."""

    run: Path
    out: Path
    variant: str
    groups: list[Group]
    targeted: dict[str, int] = field(default_factory=dict)  # group key -> rows made for it
    wanted: dict[str, int] = field(default_factory=dict)  # group key -> rows asked for
    corrections: int = 0
    train_rows: int = 0
    regression_rows: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"run": str(self.run), "out": str(self.out), "variant": self.variant,
                "groups": [{**g.to_dict(), "wanted": self.wanted.get(g.key, 0), "targeted": self.targeted.get(g.key, 0)}
                           for g in self.groups],
                "corrections": self.corrections, "train_rows": self.train_rows,
                "regression_rows": self.regression_rows}


def failure_groups(task: Task, predictions: Path) -> list[Group]:
    """The failure groups of one variant's ``predictions/<variant>.jsonl``."""
    rows = []
    for row in read_rows(predictions):
        checked = task.format.parse(row["completion"])
        rows.append((row.get("expected"), checked.value, checked.parsed and not checked.lenient,
                     row.get("violations", [])))
    return group_failures(rows)


def plan_fix(run: Path, *, out: Path | None = None, variant: str = "tuned", per_group: int | None = None,
             regression: int = 60, corrections: Path | None = None) -> FixPlan:
    """Group the failures and write the new run's data: ``<out>/data/{train,eval,regression}.jsonl``."""
    from formtune.runs import read_run_info, write_run_info

    run = Path(run)
    info = read_run_info(run)
    if variant not in TUNED:
        raise UsageError(f"fix retrains the tuned model: give --variant {' or '.join(TUNED)}, not {variant!r}")
    predictions = run / "predictions" / f"{variant}.jsonl"
    if not predictions.is_file():
        raise UsageError(f"{predictions} does not exist; evaluate the run first: formtune eval {run} --variant {variant}")
    if not info.get("data"):
        raise UsageError(f"{run} has no dataset folder in run.json; fix needs the run's training rows")
    task = load_task(info["task"])
    data = Path(info["data"])
    train, held_out = read_rows(data / "train.jsonl"), read_rows(data / "eval.jsonl")
    out = Path(out) if out else run.with_name(f"{run.name}-fix")
    if out.resolve() == run.resolve():
        raise UsageError("--out must be a new folder, not the run being fixed")
    plan = FixPlan(run, out, variant, failure_groups(task, predictions))
    n_eval = max(len(held_out), 1)
    for group in plan.groups:
        share = len(group.rows) / n_eval
        plan.wanted[group.key] = per_group if per_group is not None else \
            min(len(train) // 2, max(8, math.ceil(share * len(train))))

    builder = DatasetBuilder(task, data)
    builder.probe()
    seen = {input_key(r["input"]) for r in [*train, *held_out]}
    regression_rows = _draw(builder, "regression", regression, seen, lambda row: True)
    targeted = _targeted(builder, plan, seen)
    fixed = []
    if corrections is not None:
        held = {input_key(r["input"]) for r in [*held_out, *regression_rows]}
        for c in load_corrections(corrections, task, held):
            text = task.format.render(c.output)
            fixed.append({**task.format.conversation(task, c.input, text), "input": c.input,
                          "output": c.output, "split": "train",
                          "provenance": {"source": "correction", "file": str(corrections), "line": c.line}})
    plan.corrections, plan.regression_rows = len(fixed), len(regression_rows)
    rows = [*train, *targeted, *fixed]
    plan.train_rows = len(rows)

    if out.exists():
        shutil.rmtree(out)
    (out / "data").mkdir(parents=True)
    write_rows_atomically(out / "data" / "train.jsonl", rows)
    write_rows_atomically(out / "data" / "eval.jsonl", held_out)
    write_rows_atomically(out / "data" / "regression.jsonl", regression_rows)
    write_run_info(out, Path(info["task"]), out / "data", info.get("model"))
    (out / "fix.json").write_text(json.dumps({"plan": plan.to_dict()}, indent=2, ensure_ascii=False) + "\n")
    return plan


def _draw(builder: DatasetBuilder, stream: str, count: int, seen: set[str], wanted: Any) -> list[dict[str, Any]]:
    """Up to ``count`` new training-style rows of ``stream`` for which ``wanted(row)`` holds."""
    rows: list[dict[str, Any]] = []
    for index in range(max(count, 1) * DRAWS_PER_ROW):
        if len(rows) >= count:
            break
        row, _ = builder.draw(stream, index)
        if row is None or input_key(row["input"]) in seen or not wanted(row):
            continue
        seen.add(input_key(row["input"]))
        rows.append(row)
    return rows


def _targeted(builder: DatasetBuilder, plan: FixPlan, seen: set[str]) -> list[dict[str, Any]]:
    """Rows for every group at once: a candidate counts for each group it teaches that still needs rows."""
    need = {g.key: plan.wanted[g.key] for g in plan.groups}
    by_key = {g.key: g for g in plan.groups}

    def wanted(row: dict[str, Any]) -> bool:
        hits = [key for key, n in need.items() if n > 0 and by_key[key].wants(row["output"])]
        for key in hits:
            need[key] -= 1
            plan.targeted[key] = plan.targeted.get(key, 0) + 1
        if hits:
            row["provenance"]["fix_groups"] = hits
        return bool(hits)

    return _draw(builder, "fix", sum(need.values()), seen, wanted) if need else []


def fix_run(run: Path, *, out: Path | None = None, variant: str = "tuned", per_group: int | None = None,
            regression: int = 60, corrections: Path | None = None, batch_size: int = BATCH_SIZE,
            progress: bool = True) -> dict[str, Any]:
    """The whole loop (see the module docstring); returns what ``fix.json`` holds."""
    from formtune.evaluate import EvalExample, evaluate, standard_variants
    from formtune.runs import read_run_info, train_config
    from formtune.train import train

    plan = plan_fix(run, out=out, variant=variant, per_group=per_group, regression=regression,
                    corrections=corrections)
    info = read_run_info(plan.out)
    task = load_task(info["task"])
    result = train(info.get("model"), read_rows(plan.out / "data" / "train.jsonl"), None, train_config(task), plan.out)
    if result.interrupted:
        raise KeyboardInterrupt
    old = Path(read_run_info(plan.run).get("adapter") or plan.run / "adapter")

    def variant_with(adapter: Path) -> Any:
        return next(v for v in standard_variants(info.get("model"), adapter) if v.name == variant)

    held_out = [EvalExample(r["input"], r["output"]) for r in read_rows(plan.out / "data" / "eval.jsonl")]
    regression_set = [EvalExample(r["input"], r["output"]) for r in read_rows(plan.out / "data" / "regression.jsonl")]
    after = evaluate(task, held_out, [variant_with(plan.out / "adapter")], plan.out, batch_size=batch_size,
                     progress=progress)
    reg_before = evaluate(task, regression_set, [variant_with(old)], plan.out / "regression" / "before",
                          batch_size=batch_size, progress=progress)
    reg_after = evaluate(task, regression_set, [variant_with(plan.out / "adapter")], plan.out / "regression" / "after",
                         batch_size=batch_size, progress=progress)
    before = json.loads((plan.run / "metrics.json").read_text())
    report = compare(plan, task, before["variants"][variant], after["variants"][variant],
                     reg_before["variants"][variant], reg_after["variants"][variant])
    (plan.out / "fix.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return report


def compare(plan: FixPlan, task: Task, held_before: dict[str, float], held_after: dict[str, float],
            reg_before: dict[str, float], reg_after: dict[str, float]) -> dict[str, Any]:
    """Each group before and after, new groups, and both sets' metrics before and after."""
    variant = plan.variant
    after_groups = {g.key: g for g in failure_groups(task, plan.out / "predictions" / f"{variant}.jsonl")}
    groups = []
    for group in plan.groups:
        now = len(after_groups[group.key].rows) if group.key in after_groups else 0
        was = len(group.rows)
        status = "fixed" if now == 0 else "fewer" if now < was else "same" if now == was else "more"
        groups.append({"group": group.key, "before": was, "after": now, "status": status,
                       "targeted": plan.targeted.get(group.key, 0)})
    known = {g.key for g in plan.groups}
    new = [{"group": key, "after": len(g.rows)} for key, g in after_groups.items() if key not in known]
    regressed = {m: round(reg_after.get(m, 0) - reg_before.get(m, 0), 4) for m in SHOWN
                 if reg_after.get(m, 0) < reg_before.get(m, 0)}
    return {"plan": plan.to_dict(), "groups": groups, "new_groups": new,
            "held_out": {m: {"before": held_before.get(m), "after": held_after.get(m)} for m in SHOWN},
            "regression": {m: {"before": reg_before.get(m), "after": reg_after.get(m)} for m in SHOWN},
            "regressed": regressed}


def print_fix(report: dict[str, Any]) -> None:
    """The report as tables: groups, then metrics."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table("failure group", "rows before", "targeted rows", "rows after", "", title="fix: failure groups")
    for g in report["groups"]:
        table.add_row(g["group"], str(g["before"]), str(g["targeted"]), str(g["after"]), g["status"])
    for g in report["new_groups"]:
        table.add_row(g["group"], "0", "0", str(g["after"]), "new")
    console.print(table)
    metrics = Table("metric", "held-out before", "held-out after", "regression before", "regression after",
                    title="fix: metrics")
    for m in SHOWN:
        h, r = report["held_out"][m], report["regression"][m]
        metrics.add_row(m, *(f"{x:.3f}" if x is not None else "–" for x in (h["before"], h["after"], r["before"], r["after"])))
    console.print(metrics)
    if report["regressed"]:
        console.print("regressed on the regression set: " + ", ".join(f"{m} {d:+.3f}" for m, d in report["regressed"].items()))
    else:
        console.print("nothing regressed on the regression set")
