"""Rule metrics of one task (``register_task_metrics``): adherence overall, per rule, per branch,
on held-out branches and on conflicts, style per rule, and with ``rules.state`` how often the
stated facts are read right, all of them and each apart (with ``rules.state_dates``, also whether
the stated day counts follow from the stated dates; with ``rules.state_windows``, the window dates;
with ``rules.state_working``, the worked-out counts); with ``rules.state_rules``, whether the
rules the answer says hold are the true ones, those of its stated facts, and whether its decision
follows from them.

Adherence asks whether every field the rules decide is right; an output that does not parse
strictly fails every rule that applies, and a valid document with a wrong decision is wrong.
Examples whose facts are unknown (no provenance, no extractor) are not scored (``None``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from formtune.contrib import Attempt, Metric
from formtune_rules.facts import stated_keys
from formtune_rules.judge import Verdict, facts_of, judge
from formtune_rules.ruleset import RuleSet

if TYPE_CHECKING:
    from formtune.task import Task

PER_RULE, PER_BRANCH, PER_STYLE = "rules: adherence per rule", "rules: adherence per branch", "rules: style per rule"
PER_FACT = "rules: facts read per fact"


class _Verdicts:
    """The verdict of the attempt being scored, computed once for all of this task's metrics."""

    def __init__(self, ruleset: RuleSet) -> None:
        self.ruleset = ruleset
        self._last: tuple[Attempt, Verdict] | None = None

    def __call__(self, attempt: Attempt) -> Verdict:
        if self._last is None or self._last[0] is not attempt:
            task = attempt.task
            facts = facts_of(self.ruleset, task, attempt.input, attempt.meta) if task is not None else None
            strict = attempt.checked.parsed and not attempt.checked.lenient
            value = attempt.checked.value if strict else None
            self._last = (attempt, judge(self.ruleset, value, attempt.checked.text, facts))
        return self._last[1]


def _score(flag: bool | None) -> float | None:
    return None if flag is None else float(flag)


def rule_metrics(task: Task, ruleset: RuleSet) -> Iterator[Metric]:
    verdict = _Verdicts(ruleset)
    held = set(ruleset.spec.holdout_branches)

    def on(select: Callable[[Verdict], bool]) -> Callable[[Attempt], float | None]:
        def score(attempt: Attempt) -> float | None:
            v = verdict(attempt)
            return _score(v.adherent) if v.decision is not None and select(v) else None
        return score

    yield Metric("adherence", on(lambda v: True),
                 "share of answers whose every rule-decided field is right (a valid document with a wrong decision is wrong)")
    if held:
        yield Metric("adherence_held_out_branches", on(lambda v: v.decision.branch in held),  # type: ignore[union-attr]
                     "adherence on branches kept out of training entirely")
    yield Metric("adherence_conflicts", on(lambda v: bool(v.decision.overridden)),  # type: ignore[union-attr]
                 "adherence where a rule holds but higher rules take its fields (priority decides)")
    if ruleset.spec.state is not None:
        yield Metric("facts_read", lambda a: _score(verdict(a).read_right),
                     f"share of answers whose stated facts ({ruleset.spec.state}) are the input's")
        yield Metric("follows_own_facts", lambda a: _score(verdict(a).follows_own_facts),
                     "share of answers whose decision follows the rules from the facts they state "
                     "(the rule is applied, whether or not the facts were read right)")
        if ruleset.spec.state_dates:
            yield Metric("counts_follow_own_dates", lambda a: _score(verdict(a).counts_follow_dates),
                         "share of answers whose day counts are the days between the dates they state "
                         "(counted from the dates, whether or not the dates were read right)")
        if ruleset.windows:
            yield Metric("windows_follow_own_dates", lambda a: _score(verdict(a).windows_follow_dates),
                         "share of answers stating a window whose window dates are the dates they state "
                         "plus the window's days, set beside the reference they state")
        if ruleset.worked:
            yield Metric("working_follows_own_dates", lambda a: _score(verdict(a).working_follows_dates),
                         "share of answers working out a day count whose sums are those of the dates they state")
        for key in stated_keys(ruleset.facts, ruleset.spec.state_dates, ruleset.windows, ruleset.worked):
            yield Metric(f"fact_read/{key}", lambda a, k=key: _score(verdict(a).read.get(k)),
                         f"share of answers that state {key} as the input has it", group=PER_FACT)
    if (checks := ruleset.spec.state_rules) is not None:
        yield Metric("holds_right", lambda a: _score(verdict(a).holds_right),
                     f"share of answers whose rule checks ({checks}) say which rules hold for the input's facts")
        if ruleset.spec.state is not None:
            yield Metric("holds_follow_own_facts", lambda a: _score(verdict(a).holds_follow_facts),
                         "share of answers whose rule checks are those of the facts they state")
        yield Metric("follows_own_holds", lambda a: _score(verdict(a).follows_own_holds),
                     "share of answers whose decision follows by priority from the rules they say hold")
    for rule_id in [*(r.id for r in ruleset.rules), "default"]:
        yield Metric(f"rule/{rule_id}", lambda a, r=rule_id: _score(verdict(a).rule_right(r)),
                     f"share of answers right on the fields rule {rule_id!r} decides", group=PER_RULE)
    for branch in ruleset.branches:
        label = f"branch/{branch}" + (" (held out)" if branch in held else "")
        yield Metric(label, on(lambda v, b=branch: v.decision.branch == b),  # type: ignore[union-attr]
                     f"adherence on branch {branch!r}", group=PER_BRANCH)
    if ruleset.style:
        def all_style(attempt: Attempt) -> float | None:
            results = [p for p in verdict(attempt).style.values() if p is not None]
            return float(not any(results)) if results else None

        yield Metric("style", all_style, "share of answers that keep every style rule that applies")
        for rule in ruleset.style:
            # A condition reads the answer's own decided fields: a rule for denials checks the answers that deny.
            among = f", among answers for which {rule.spec.when!r} holds on their own fields" if rule.condition else ""
            yield Metric(f"style/{rule.spec.id}",
                         lambda a, r=rule.spec.id: None if verdict(a).style.get(r) is None else float(not verdict(a).style[r]),
                         f"share of answers that keep style rule {rule.spec.id!r}{among}", group=PER_STYLE)
