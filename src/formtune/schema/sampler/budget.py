"""Bounded work: every schema either samples or fails fast, naming the keyword that defeated it.

A schema is a program the sampler runs, and some schemas ask for too much (``minLength: 1e9``),
branch exponentially, or recurse without end. Three limits keep ``sample()`` to a few seconds:

- sizes: a string of more than :data:`MAX_STRING` characters, an array of more than
  :data:`MAX_ITEMS` items or an object of more than :data:`MAX_PROPERTIES` properties is refused
  outright (``minLength``/``pattern``, ``minItems``/``minContains``, ``minProperties``/``required``)
  instead of attempted;
- steps: one attempt may visit :data:`STEPS` locations and branch choices; running out ends that
  attempt (the next one, with another seed, may be luckier);
- time: one ``sample()`` call may use :data:`SECONDS` of CPU time in all; running out ends the
  call. CPU time, not wall time, so that other work on the machine does not change the outcome.

Each step is charged to the keyword that caused it (``required``, ``items``, ``oneOf``...), so
when a budget runs out the error names the keyword that used most of it.
"""

from __future__ import annotations

import time
from collections import Counter

from formtune.schema.sampler.keywords import Unsat

MAX_STRING = 100_000  # characters in one string
MAX_ITEMS = 10_000  # items in one array
MAX_PROPERTIES = 10_000  # properties in one object
STEPS = 4000  # locations and branch choices per attempt
SECONDS = 5.0  # CPU time per sample() call, all attempts together


class OutOfTime(Unsat):
    """The time budget of the whole ``sample()`` call is spent: no further attempt may start."""


class Budget:
    """The steps left to one attempt, the deadline of the call, and who spent what."""

    def __init__(self, deadline: float) -> None:
        self.steps = STEPS
        self.deadline = deadline
        self.spent: Counter[str] = Counter()

    def spend(self, keyword: str, path: str) -> None:
        """Charge one step to ``keyword``; raise when the steps or the time are used up."""
        self.steps -= 1
        self.spent[keyword] += 1
        if self.steps < 0:
            blame = self.blame()
            raise Unsat(blame, path, f"the schema needs more than {STEPS} steps of work "
                                     f"(most went to {blame!r})", retry=False)
        if time.process_time() > self.deadline:
            blame = self.blame()
            raise OutOfTime(blame, path, f"no instance within {SECONDS:g} s of CPU time (most work went to {blame!r})",
                            retry=False)

    def blame(self) -> str:
        return self.spent.most_common(1)[0][0]

    def frugal(self) -> bool:
        """Past two thirds of the steps, add nothing optional: finish the instance instead."""
        return self.steps < STEPS // 3
