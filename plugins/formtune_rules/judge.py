"""Judging an answer against the rules: which rule it breaks, on which field, and the input facts
that made that rule decide; and which style rules its text breaks.

The facts of an example come from its provenance (what the generator sampled), else from the
task's fact extractor; without either, only style can be judged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from formtune.violations import Violation
from formtune_rules.facts import (counts_follow_dates, facts_from_json, facts_from_stated, stated_facts,
                                  windows_follow_dates, windows_stated, without_quotes, worked_stated,
                                  working_follows_dates)
from formtune_rules.ruleset import Decision, RuleSet
from formtune_rules.style import pointer_get, style_problems

if TYPE_CHECKING:
    from formtune.task import Task


def facts_of(ruleset: RuleSet, task: Task, input: Any, meta: dict[str, Any] | None) -> dict[str, Any] | None:
    """The typed facts of an example, ``None`` when they cannot be known."""
    raw = (meta or {}).get("facts")
    if raw is None and ruleset.spec.extractor is not None and input is not None:
        raw = task.registry.get("fact_extractors", ruleset.spec.extractor).extract(input)
    if raw is None:
        return None
    try:
        return facts_from_json(ruleset.facts, raw)
    except ValueError:
        return None


@dataclass
class Verdict:
    """How one answer fares under the rules."""

    decision: Decision | None  # what the rules decide; None when the facts are unknown
    wrong: dict[str, Any] = field(default_factory=dict)  # decided field -> the (wrong) value answered
    style: dict[str, list[str] | None] = field(default_factory=dict)  # style id -> problems; None: not applicable
    violations: list[Violation] = field(default_factory=list)
    read_right: bool | None = None  # the facts the answer states (rules.state) are the true ones
    read: dict[str, bool] = field(default_factory=dict)  # stated key -> stated as the input has it
    follows_own_facts: bool | None = None  # its decided fields follow from the facts it states
    counts_follow_dates: bool | None = None  # (state_dates) its day counts are the days between its dates
    windows_follow_dates: bool | None = None  # (state_windows) its windows follow from its dates
    working_follows_dates: bool | None = None  # (state_working) its worked-out counts are those of its dates
    holds_right: bool | None = None  # (state_rules) the rules it says hold are those that hold for the input
    holds_follow_facts: bool | None = None  # (state_rules and state) ... that hold for the facts it states
    follows_own_holds: bool | None = None  # (state_rules) its decided fields follow by priority from its checks

    @property
    def adherent(self) -> bool | None:
        return None if self.decision is None else not self.wrong

    def rule_right(self, rule_id: str) -> bool | None:
        """Whether every field ``rule_id`` decides is right (``None`` when it decides none here)."""
        if self.decision is None or rule_id not in self.decision.deciders.values():
            return None
        return not any(self.decision.deciders[f] == rule_id for f in self.wrong)


_MISSING = object()


def judge(ruleset: RuleSet, value: Any, text: str, facts: dict[str, Any] | None) -> Verdict:
    """Judge a parsed answer (``None`` when the output did not parse: every check fails)."""
    decision = ruleset.decide(facts) if facts is not None else None
    verdict = Verdict(decision)
    answer = value if isinstance(value, dict) else {}
    if decision is not None:
        for name, expected in decision.answer.items():
            got = answer.get(name, _MISSING)
            if got == expected and isinstance(got, bool) == isinstance(expected, bool):
                continue
            verdict.wrong[name] = None if got is _MISSING else got
            if value is not None:
                verdict.violations.append(_rule_violation(ruleset, decision, facts or {}, name, got))
    own_decision = None  # what the rules make of the facts the answer states (rules.state)
    if decision is not None and ruleset.spec.state is not None:
        stated = without_quotes(ruleset.facts, answer.get(ruleset.spec.state)) if value is not None else None
        # Either form is a right reading where windows or workings may be stated: the truth in the answer's form.
        windows = ruleset.windows
        truth = stated_facts(ruleset.facts, facts or {}, ruleset.spec.state_dates,
                             windows_stated(ruleset.facts, windows, stated),
                             worked_stated(ruleset.facts, ruleset.worked, stated))
        verdict.read_right = stated == truth
        verdict.read = {k: isinstance(stated, dict) and stated.get(k, _MISSING) == v for k, v in truth.items()}
        own = facts_from_stated(ruleset.facts, stated, facts or {}, windows)
        own_decision = ruleset.decide(own) if own is not None else None
        verdict.follows_own_facts = own_decision is not None and _answers(answer, own_decision)
        if ruleset.spec.state_dates:
            verdict.counts_follow_dates = counts_follow_dates(ruleset.facts, stated, windows)
        if windows:
            verdict.windows_follow_dates = windows_follow_dates(ruleset.facts, stated, windows)
        if ruleset.worked:
            verdict.working_follows_dates = working_follows_dates(ruleset.facts, stated, ruleset.worked)
    if decision is not None and ruleset.spec.state_rules is not None:
        holds = answer.get(ruleset.spec.state_rules) if value is not None else None
        _judge_holds(ruleset, verdict, holds, answer, own_decision)
    env = {**(facts or {}), **{k: v for k, v in answer.items() if k in ruleset.spec.default}}
    for rule in ruleset.style:
        if rule.condition is not None:
            if not rule.condition.names <= env.keys():
                verdict.style[rule.spec.id] = None
                continue
            try:
                applies = rule.condition.evaluate(env)
            except (TypeError, ValueError):  # an answer field of the wrong type: the schema reports it
                applies = False
            if not applies:
                verdict.style[rule.spec.id] = None
                continue
        if value is None:
            verdict.style[rule.spec.id] = ["no answer"]
            continue
        found, item = pointer_get(value, rule.spec.field) if rule.spec.field else (True, text)
        problems = style_problems(rule.spec, item) if found and isinstance(item, str) else ["no such text field"]
        verdict.style[rule.spec.id] = problems
        if problems:
            verdict.violations.append(Violation(rule.spec.field, f"style rule {rule.spec.id!r}: {'; '.join(problems)}",
                                                f"style:{rule.spec.id}"))
    return verdict


def _judge_holds(ruleset: RuleSet, verdict: Verdict, holds: Any, answer: dict[str, Any],
                 own_decision: Decision | None) -> None:
    """``rules.state_rules``: are the rules an answer says hold the true ones, those of the facts it
    states, and do its decided fields follow from them?"""
    assert verdict.decision is not None
    checks = isinstance(holds, dict) and list(holds) == [r.id for r in ruleset.rules] and all(
        isinstance(v, bool) for v in holds.values())
    verdict.holds_right = checks and holds == ruleset.holds(verdict.decision)
    if ruleset.spec.state is not None:
        verdict.holds_follow_facts = checks and own_decision is not None and holds == ruleset.holds(own_decision)
    if not checks:
        verdict.follows_own_holds = False
        return
    verdict.follows_own_holds = _answers(answer, ruleset.resolve([r for r in ruleset.rules if holds[r.id]]))


def _answers(answer: dict[str, Any], decision: Decision) -> bool:
    """Whether ``answer`` gives every field ``decision`` decides as it decides it."""
    return all(answer.get(k) == v for k, v in decision.answer.items())


def _rule_violation(ruleset: RuleSet, decision: Decision, facts: dict[str, Any], name: str, got: Any) -> Violation:
    decider = decision.deciders[name]
    expected = decision.answer[name]
    said = "nothing" if got is _MISSING else repr(got)
    if decider == "default":
        message = f"no rule decides {name}, so it is the default {expected!r}; the answer says {said}"
    else:
        message = (f"rule {decider!r} decides {name} = {expected!r} ({ruleset.describe(decider, facts)}); "
                   f"the answer says {said}")
    lookalike = next((r for r in ruleset.rules if r.id not in decision.fired and r.then.get(name, _MISSING) == got), None)
    if lookalike is not None and got != ruleset.spec.default.get(name):  # the default's value needs no rule
        message += f"; that is rule {lookalike.id!r}'s answer, but it does not apply ({ruleset.describe(lookalike.id, facts)})"
    return Violation(f"/{name}", message, f"rule:{decider}")


class RulesValidator:
    """The ``rules`` validator: logic rules (when the example's facts are known) and style rules."""

    name = "rules"
    formats: tuple[str, ...] = ()

    def validate(self, value: Any, task: Task, input: Any = None, meta: dict[str, Any] | None = None) -> list[Violation]:
        from formtune_rules.ruleset import rule_set

        ruleset = rule_set(task)
        if ruleset is None:
            return [Violation("", "the task has no 'rules:' section; add one or drop the 'rules' validator", "rules")]
        facts = facts_of(ruleset, task, input, meta)
        whole = any(not r.spec.field for r in ruleset.style)  # style of the whole completion, as rendered
        return judge(ruleset, value, task.format.render(value) if whole else "", facts).violations
