"""The ``rules`` generator: examples that are right by construction and cover every branch.

Each draft picks a branch (in turn, in a seeded order, so any stretch of the stream is balanced),
then one of the fired sets that reach it (so conflicts that priority resolves are covered too),
then facts: with ``boundary_share`` a point of the enumerated grid that sits on a boundary (an
amount exactly at a threshold, one cent over; a date on the day, one day either side), with its
other values varied at random (:meth:`Plan.varied`), otherwise a random draw that lands in the
branch. The rules compute the decided fields; templates write the other fields (``rules.fields``)
and the input text from the facts.

Branches in ``holdout_branches`` are never drawn for training: evaluation shows whether the model
learnt the rules or the examples. Input templates listed in ``data.holdout_templates`` write the
evaluation inputs only, as for any generator.

Templates see ``facts`` (dates as dates), ``answer``, ``pick``, ``chance``, ``fmt`` (the value
formatters: dates, money, numbers in many spellings), ``words(n)`` (a number in words),
``told(fact, form)`` and ``said(fact, text)`` (see :class:`Told`).
"""

from __future__ import annotations

import random
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from num2words import num2words

from formtune.contrib import Draft, derive_seed
from formtune.errors import TaskError
from formtune_rules.branches import Explored, Point, draw, grids, read_facts
from formtune_rules.facts import draw_order, facts_to_json, resolve_relative, stated_facts
from formtune_rules.ruleset import RuleSet, rule_set

if TYPE_CHECKING:
    from formtune.task import Task
    from formtune.templates import InputTemplate

MAX_DRAWS = 300


def split_of(task: Task, seed: int) -> str:
    """Which split a draft is for. The dataset builder seeds each split's stream with
    ``derive_seed(data.seed, split)``; the core gives generators no split argument yet."""
    return "eval" if seed == derive_seed(task.spec.data.seed, "eval") else "train"


def words(number: int | float) -> str:
    """A number in English words ("two hundred and fifty")."""
    return num2words(number)


def render(template: InputTemplate, rng: random.Random, **context: Any) -> str:
    """Render a template with the facts and the helpers (see the module docstring)."""
    return template.render_with(rng, words=words, **context)


class Told:
    """``told(fact, form)`` for input templates: how the text gives a fact. ``told("delivered",
    "date")`` says the text gives that relative date as a date only (no day count), so that with
    ``rules.state_windows`` the answer states its windows (the date plus the rule's days, then set
    beside the reference part by part) instead of a count, and with ``rules.state_working`` works
    the count out in small sums before stating it. Returns ``""``
    to be written anywhere in a template; templates that never call it get the usual answer.

    ``said(fact, text)`` returns ``text`` as it is and notes it as the words that give ``fact``
    (``{{ said("amount", p.amount(facts)) }}``), so that with ``rules.state_quotes`` the answer
    quotes them before stating the fact. The first words noted for a fact are its quote.
    Neither draws from the row's random stream: rows are the same with the options or without."""

    FORMS = ("date",)

    def __init__(self, facts: Collection[str]) -> None:
        self.forms: dict[str, str] = {}
        self.quotes: dict[str, str] = {}
        self._facts = facts

    def __call__(self, fact: str, form: str) -> str:
        if form not in self.FORMS:
            raise ValueError(f"told({fact!r}, {form!r}): the form is one of {', '.join(self.FORMS)}")
        self.forms[fact] = form
        return ""

    def said(self, fact: str, text: Any) -> Any:
        if fact not in self._facts:
            raise ValueError(f"said({fact!r}, ...): no such fact; the facts are {', '.join(self._facts)}")
        self.quotes.setdefault(fact, " ".join(str(text).split()))
        return text


@dataclass
class Plan:
    """What the drafts of one task share (built once per task)."""

    ruleset: RuleSet
    explored: Explored
    branches: dict[str, list[str]]  # split -> branches drawn
    templates: dict[str, list[str]]  # split -> input templates
    read: list[str]  # facts the rules read
    grid: dict[str, tuple[list[Any], set[Any]]]  # per fact read: its representative and its boundary values
    order: list[str]  # property order of the answer

    @classmethod
    def of(cls, task: Task) -> Plan:
        ruleset = rule_set(task)
        if ruleset is None:
            raise TaskError(f"{task.source or task.name}: data.generator: the rules generator needs a 'rules:' section")
        held = set(ruleset.spec.holdout_branches)
        names = list(task.templates)
        holdout = set(task.spec.data.holdout_templates)
        if not names:
            raise TaskError(f"{task.source or task.name}: templates: the rules generator writes inputs with the "
                            "task's templates; add at least one")
        properties = task.schema.get("properties", {}) if isinstance(task.schema, dict) else {}
        stated_fields = [f for f in (ruleset.spec.state, ruleset.spec.state_rules) if f is not None]
        fields = [*stated_fields, *ruleset.decided_fields, *ruleset.fields]
        order = [p for p in properties if p in fields] + [f for f in fields if f not in properties]
        return cls(ruleset, ruleset.explored, {"eval": list(ruleset.branches),
                                                 "train": [b for b in ruleset.branches if b not in held]},
                   {"train": [n for n in names if n not in holdout] or names,
                    "eval": [n for n in names if n in holdout] or names},
                   read_facts(ruleset), grids(ruleset), order)

    def point(self, branch: str, rng: random.Random) -> Point:
        """Drawn values of the facts the rules read that reach ``branch`` (one of its fired sets)."""
        buckets = self.explored.buckets[branch]
        fired = sorted(buckets)[rng.randrange(len(buckets))]
        points = buckets[fired]
        edges = [p for p in points if p.boundary]
        if edges and rng.random() < self.ruleset.spec.boundary_share:
            return self.varied(rng.choice(edges), branch, fired, rng)
        for _ in range(MAX_DRAWS):
            drawn = draw(self.ruleset, rng, self.read)
            if self._reaches(drawn, branch, fired):
                return Point(drawn, [])
        return self.varied(rng.choice(points), branch, fired, rng)

    def varied(self, point: Point, branch: str, fired: tuple[str, ...], rng: random.Random) -> Point:
        """``point`` (one that reaches ``branch`` through ``fired``) with each value that is not a
        boundary drawn afresh between its neighbours on the grid, so that the same rules still fire.
        The grid's other values are a few representatives (a reference date at its bounds or midway,
        an amount midway between two thresholds): rows that kept them would repeat a few combinations
        (the same two dates), which a model learns by heart and the held-out rows, drawn the same
        way, repeat too."""
        for _ in range(MAX_DRAWS):
            drawn = {name: value if value in self.grid[name][1]
                     else self.ruleset.facts[name].near(value, self.grid[name][0], rng)
                     for name, value in point.drawn.items()}  # fmt: skip
            if self._reaches(drawn, branch, fired):
                return Point(drawn, point.boundary)
        return point

    def _reaches(self, drawn: dict[str, Any], branch: str, fired: tuple[str, ...]) -> bool:
        decision = self.ruleset.decide(resolve_relative(self.ruleset.facts, drawn))
        return decision.branch == branch and tuple(decision.fired) == fired


class RulesGenerator:
    """See the module docstring."""

    name = "rules"

    def draft(self, task: Task, *, seed: int, index: int) -> Draft:
        plan: Plan = task.memo("rules:plan", lambda: Plan.of(task))
        ruleset = plan.ruleset
        split = split_of(task, seed)
        branches = plan.branches[split]
        cycle, slot = divmod(index, len(branches))
        branch = random.Random(derive_seed(seed, "cycle", cycle)).sample(branches, len(branches))[slot]
        rng = random.Random(derive_seed(seed, index))
        point = plan.point(branch, rng)
        drawn = {**{n: ruleset.facts[n].sample(rng) for n in draw_order(ruleset.facts)}, **point.drawn}
        facts = resolve_relative(ruleset.facts, drawn)
        decision = ruleset.decide(facts)
        answer = dict(decision.answer)
        if ruleset.spec.state is not None:
            answer[ruleset.spec.state] = stated_facts(ruleset.facts, facts, ruleset.spec.state_dates)
        if ruleset.spec.state_rules is not None:
            answer[ruleset.spec.state_rules] = ruleset.holds(decision)
        for name, template in ruleset.fields.items():
            answer[name] = render(template, rng, facts=facts, answer=dict(answer))
        output = {name: answer[name] for name in plan.order}
        input_template = rng.choice(plan.templates[split])
        told = Told(ruleset.facts)
        text = render(task.templates[input_template], rng, facts=facts, answer=output, told=told, said=told.said)
        windows = {name: days for name, days in ruleset.windows.items() if told.forms.get(name) == "date"}
        worked = [name for name in ruleset.worked if told.forms.get(name) == "date"]
        quotes = told.quotes if ruleset.spec.state_quotes else {}
        if windows or worked or quotes:  # told draws nothing, so the stream (and every other row) is as without them
            output[ruleset.spec.state] = stated_facts(ruleset.facts, facts, ruleset.spec.state_dates, windows, worked,
                                                      quotes)
        return Draft(output=output, input=text, meta={
            "template": input_template, "facts": facts_to_json(ruleset.facts, facts), "branch": decision.branch,
            "fired": decision.fired, "boundary": point.boundary,
            "held_out_branch": decision.branch in ruleset.spec.holdout_branches})
