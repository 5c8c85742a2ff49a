"""The decision structure of a rule set, enumerated: which branches exist and facts that reach them.

Every fact a condition reads gets representative values (:meth:`Fact.candidates`: each constant
it is compared with, one step under and over it, the bounds, a value inside each interval) and
the grid of their combinations is run through the rules; a few thousand random draws are added
for conditions the grid does not cut cleanly. For conditions that compare a fact (or a date
difference) with constants the grid reaches every combination of true and false there is, so a
rule that never decides anything there is unreachable.

Points are kept per branch and per *fired set* (the rules whose condition holds), so a generator
can balance the branches and, inside one, the conflicts that priority resolves.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from formtune_rules.facts import draw_order, resolve_relative

if TYPE_CHECKING:
    from formtune_rules.ruleset import RuleSet

GRID_LIMIT = 20_000
RANDOM_DRAWS = 2_000


@dataclass
class Point:
    """Drawn values (relative dates as days) for the facts the rules read, and whether any of
    them sits on a boundary."""

    drawn: dict[str, Any]
    boundary: list[str]  # "amount = 250.01"


@dataclass
class Explored:
    buckets: dict[str, dict[tuple[str, ...], list[Point]]] = field(default_factory=dict)  # branch -> fired -> points
    fired: set[str] = field(default_factory=set)
    deciding: set[str] = field(default_factory=set)
    overriders: dict[str, set[str]] = field(default_factory=dict)  # rule -> higher rules that took its fields


def read_facts(ruleset: RuleSet) -> list[str]:
    """The facts any logic rule reads, with the references of relative dates among them."""
    names = set().union(*(r.condition.names for r in ruleset.rules))
    names |= {ruleset.facts[n].spec.relative_to for n in names if ruleset.facts[n].relative}  # type: ignore[misc]
    return [n for n in draw_order(ruleset.facts) if n in names]


def draw(ruleset: RuleSet, rng: random.Random, names: list[str] | None = None) -> dict[str, Any]:
    """Random drawn values for ``names`` (default: every fact)."""
    return {n: ruleset.facts[n].sample(rng) for n in (names if names is not None else draw_order(ruleset.facts))}


def grids(ruleset: RuleSet) -> dict[str, tuple[list[Any], set[Any]]]:
    """Per fact the rules read: its representative values and which of them are boundaries
    (relative dates as days from their reference)."""
    names = read_facts(ruleset)
    constants: dict[str, set[Any]] = {n: set() for n in names}
    for rule in ruleset.rules:
        for name, values in rule.condition.constants.items():
            constants.setdefault(name, set()).update(values)
    return {n: ruleset.facts[n].candidates(constants.get(n, ())) for n in names}


def explore(ruleset: RuleSet, seed: int = 0) -> Explored:
    names = read_facts(ruleset)
    grids_ = grids(ruleset)
    rng = random.Random(seed)
    size = 1
    for values, _ in grids_.values():
        size *= len(values)
    if size <= GRID_LIMIT:
        combos = itertools.product(*(grids_[n][0] for n in names))
    else:
        combos = (tuple(rng.choice(grids_[n][0]) for n in names) for _ in range(GRID_LIMIT))
    found = Explored()
    for combo in combos:
        drawn = dict(zip(names, combo))
        edges = [f"{n} = {v}" for n, v in drawn.items() if v in grids_[n][1]]
        _add(ruleset, found, Point(drawn, edges))
    for _ in range(RANDOM_DRAWS):
        _add(ruleset, found, Point(draw(ruleset, rng, names), []))
    return found


def _add(ruleset: RuleSet, found: Explored, point: Point) -> None:
    decision = ruleset.decide(resolve_relative(ruleset.facts, point.drawn))
    found.buckets.setdefault(decision.branch, {}).setdefault(tuple(decision.fired), []).append(point)
    found.fired.update(decision.fired)
    found.deciding.update(decision.deciding)
    for loser in decision.overridden:
        takers = {decision.deciders[f] for f in ruleset.rule(loser).then}
        found.overriders.setdefault(loser, set()).update(takers)
