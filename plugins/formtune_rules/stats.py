"""``formtune data stats DATASET --task T``: how well a dataset covers a task's rules.

For each split (each ``.jsonl`` file of a dataset folder, or one file): rows per branch (and the
reachable branches it misses), conflicts, how often each rule holds, does not hold and decides,
rows at each boundary value, rows whose facts are unknown, rows whose answer breaks a rule
(an imported dataset may disagree with the rules), and, for the splits beside ``train``, rows
whose dates (each relative date with its reference) repeat a training row's: a model can answer
those by heart, so a held-out score over many of them overstates what it learnt. Facts come from
each row's provenance, a ``facts`` key, or the task's fact extractor.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import click

from formtune.errors import UsageError
from formtune_rules.branches import grids
from formtune_rules.judge import facts_of, judge
from formtune_rules.ruleset import RuleSet


def _splits(dataset: Path) -> dict[str, Path]:
    if dataset.is_file():
        return {dataset.stem: dataset}
    if dataset.is_dir():
        files = {p.stem: p for p in sorted(dataset.glob("*.jsonl")) if p.stem != "rejected"}
        if files:
            return files
    raise UsageError(f"{dataset}: not a JSONL file or a folder holding some (train.jsonl, eval.jsonl)")


def _input(row: dict[str, Any]) -> Any:
    if "input" in row:
        return row["input"]
    users = [m["content"] for m in row.get("messages", []) if m.get("role") == "user"]
    return users[-1] if users else None


def _output(row: dict[str, Any], task: Any) -> Any:
    if "output" in row:
        return row["output"]
    answers = [m["content"] for m in row.get("messages", []) if m.get("role") == "assistant"]
    return task.format.parse(answers[-1]).value if answers else None


def _boundary_labels(ruleset: RuleSet, edges_of: dict[str, set[Any]], facts: dict[str, Any]) -> list[str]:
    labels = []
    for name, edges in edges_of.items():
        fact, value = ruleset.facts[name], facts[name]
        if fact.relative:
            days = (value - facts[fact.spec.relative_to]).days  # type: ignore[index]
            if days in edges:
                labels.append(f"{name} = {fact.spec.relative_to} {'-' if days < 0 else '+'} {abs(days)} days")
        elif value in edges:
            labels.append(f"{name} = {value}")
    return labels


def _dates(ruleset: RuleSet, facts: dict[str, Any]) -> tuple[Any, ...]:
    """Each relative date of ``facts`` with its reference date: what a row's day counts follow from."""
    return tuple((name, facts[name], facts[fact.spec.relative_to]) for name, fact in ruleset.facts.items()
                 if fact.relative)


def coverage(task: Any, ruleset: RuleSet, dataset: Path) -> dict[str, Any]:
    """The coverage report as data (see the module docstring)."""
    from formtune.dataset import read_rows

    report: dict[str, Any] = {"dataset": str(dataset), "task": task.name, "branches": ruleset.branches,
                              "held_out_branches": ruleset.spec.holdout_branches, "splits": {}}
    edges_of = {name: edges for name, (_, edges) in grids(ruleset).items()}
    dates_of: dict[str, list[tuple[Any, ...]]] = {}
    for split, path in _splits(dataset).items():
        rows = read_rows(path)
        dates = dates_of[split] = []
        branches: Counter[str] = Counter()
        holds: Counter[str] = Counter()
        decides: Counter[str] = Counter()
        edges: Counter[str] = Counter()
        unknown = conflicts = broken = 0
        for row in rows:
            meta = {**({"facts": row["facts"]} if "facts" in row else {}), **(row.get("provenance") or {})}
            facts = facts_of(ruleset, task, _input(row), meta)
            if facts is None:
                unknown += 1
                continue
            decision = ruleset.decide(facts)
            branches[decision.branch] += 1
            holds.update(decision.fired)
            decides.update(decision.deciding)
            conflicts += bool(decision.overridden)
            edges.update(_boundary_labels(ruleset, edges_of, facts))
            dates.append(_dates(ruleset, facts))
            output = _output(row, task)
            broken += output is not None and bool(judge(ruleset, output, "", facts).wrong)
        known = len(rows) - unknown
        report["splits"][split] = {
            "rows": len(rows), "facts_unknown": unknown, "answers_breaking_a_rule": broken, "conflicts": conflicts,
            "branches": {b: branches.get(b, 0) for b in ruleset.branches},
            "branches_missing": [b for b in ruleset.branches if not branches.get(b)],
            "rules": {r.id: {"holds": holds.get(r.id, 0), "does_not_hold": known - holds.get(r.id, 0),
                             "decides": decides.get(r.id, 0)} for r in ruleset.rules},
            "boundaries": dict(sorted(edges.items())),
        }
    trained = set(dates_of.get("train", ()))
    if trained and any(f.relative for f in ruleset.facts.values()):
        for split, dates in dates_of.items():
            if split != "train":
                report["splits"][split]["dates_repeating_train"] = sum(d in trained for d in dates)
    return report


def _print(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console, splits = Console(), report["splits"]
    held = set(report["held_out_branches"])
    table = Table("branch", *splits, title=f"{report['dataset']}: rows per branch (task {report['task']})")
    for branch in report["branches"]:
        table.add_row(branch + (" (held out)" if branch in held else ""),
                      *(str(s["branches"][branch]) for s in splits.values()))
    console.print(table)
    rules = Table("rule", *(f"{s} holds / not / decides" for s in splits), title="rules")
    for rule in next(iter(splits.values()))["rules"]:
        rules.add_row(rule, *(" / ".join(str(v) for v in s["rules"][rule].values()) for s in splits.values()))
    console.print(rules)
    for name, s in splits.items():
        covered = len(report["branches"]) - len(s["branches_missing"])
        console.print(f"{name}: {s['rows']} rows; branches covered {covered}/{len(report['branches'])}"
                      + (f" (missing: {'; '.join(s['branches_missing'])})" if s["branches_missing"] else "")
                      + f"; conflicts {s['conflicts']}; facts unknown {s['facts_unknown']}; "
                      f"answers breaking a rule {s['answers_breaking_a_rule']}"
                      + (f"; {s['dates_repeating_train']} rows repeat a training row's dates (answerable by heart)"
                         if "dates_repeating_train" in s else ""))
        if s["boundaries"]:
            console.print("  boundary values: " + ", ".join(f"{k} ({v})" for k, v in s["boundaries"].items()))


def add_commands(cli: click.Group) -> None:
    """``formtune data stats``; the ``data`` group is made here unless another plugin made it."""
    group = cli.commands.get("data")
    if group is None:
        @cli.group("data")
        def data_group() -> None:
            """Look into datasets."""

        group = data_group
    if not isinstance(group, click.Group):
        raise UsageError("the 'data' command is not a group; the rules plugin cannot add 'data stats'")

    @group.command("stats")
    @click.argument("dataset", type=click.Path(path_type=Path))
    @click.option("--task", "task_file", required=True, type=click.Path(path_type=Path),
                  help="The task whose rules the dataset is measured against.")
    @click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
    def stats(dataset: Path, task_file: Path, as_json: bool) -> None:
        """Branch, rule and boundary coverage of DATASET (a dataset folder or a JSONL file)."""
        from formtune.task import load_task
        from formtune_rules.ruleset import rule_set

        task = load_task(task_file)
        ruleset = rule_set(task)
        if ruleset is None:
            raise UsageError(f"{task_file}: the task has no 'rules:' section, so there is no coverage to report")
        report = coverage(task, ruleset, dataset)
        if as_json:
            click.echo(json.dumps(report, indent=2, ensure_ascii=False))
        else:
            _print(report)
