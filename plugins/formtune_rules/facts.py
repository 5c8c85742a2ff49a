"""Typed input facts: what a rule engine may read, how a generator samples them, where their
boundaries are, and how they travel through JSON (dates as ISO strings).

A relative date (``relative_to: today``) is stored as a date but drawn as a number of days from
its reference, so that "delivered 31 days before today" is one draw, not two dates that happen to
be 31 days apart.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import random
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from formtune_rules.spec import FactSpec

#: The type a rule engine sees for each fact type.
ENGINE_TYPES = {"number": "number", "integer": "integer", "enum": "string", "boolean": "boolean", "date": "date"}


@dataclass(frozen=True)
class Fact:
    """One declared fact."""

    name: str
    spec: FactSpec

    @property
    def engine_type(self) -> str:
        return ENGINE_TYPES[self.spec.type]

    @property
    def relative(self) -> bool:
        return self.spec.relative_to is not None

    @property
    def step(self) -> float:
        """The smallest difference between two values: a cent, a day, one."""
        return (self.spec.step or 0.01) if self.spec.type == "number" else 1

    # -- values as drawn: numbers, enum values, booleans, dates, or day offsets -----------------

    def domain(self) -> list[Any] | None:
        """Every value, for enums and booleans (``None`` for ordered types)."""
        if self.spec.type == "enum":
            return list(self.spec.values or [])
        if self.spec.type == "boolean":
            return [False, True]
        return None

    def _to_number(self, value: Any) -> float:
        return value.toordinal() if isinstance(value, dt.date) else value

    def _from_number(self, number: float) -> Any:
        if self.spec.type == "date" and not self.relative:
            return dt.date.fromordinal(int(number))
        if self.spec.type == "number":
            return round(round(number / self.step) * self.step, 10)
        return int(round(number))

    def bounds(self) -> tuple[float, float]:
        return self._to_number(self.spec.min), self._to_number(self.spec.max)

    def sample(self, rng: random.Random) -> Any:
        """A random value; numbers are sometimes whole or round, as amounts people write are."""
        domain = self.domain()
        if domain is not None:
            return rng.choice(domain)
        low, high = self.bounds()
        if self.spec.type == "number":
            roll = rng.random()
            grain = 50 if roll < 0.15 else 1 if roll < 0.4 else self.step
            first, last = math.ceil(low / grain), math.floor(high / grain)
            if first <= last:
                return self._from_number(rng.randint(first, last) * grain)
            return self._from_number(rng.uniform(low, high))
        return self._from_number(rng.randint(int(low), int(high)))

    def near(self, value: Any, values: Sequence[Any], rng: random.Random) -> Any:
        """A random value between the neighbours of ``value`` among ``values`` (the sorted
        representatives of :meth:`candidates`), the neighbours included, or the range's bound where
        ``value`` has no neighbour on that side: on the same side of every constant a rule compares
        the fact with. ``value`` itself when it is not among ``values`` or the fact has a domain."""
        if self.domain() is not None or value not in values:
            return value
        at = list(values).index(value)
        low, high = self.bounds()
        first = self._to_number(values[at - 1]) if at else low
        last = self._to_number(values[at + 1]) if at + 1 < len(values) else high
        return self._from_number(first + rng.randint(0, int(round((last - first) / self.step))) * self.step)

    def candidates(self, constants: Iterable[Any]) -> tuple[list[Any], set[Any]]:
        """Representative values and which of them are boundaries: each constant a rule compares
        the fact with, one step under and over it, the bounds, and a value between each pair (so
        that every interval the constants cut is represented)."""
        domain = self.domain()
        if domain is not None:
            return domain, set()
        low, high = self.bounds()
        points, edges = {low, high}, set()
        absolute_date = self.spec.type == "date" and not self.relative
        for constant in constants:
            if isinstance(constant, bool) or isinstance(constant, dt.date) != absolute_date:
                continue
            if not isinstance(constant, (int, float, dt.date)):
                continue
            # A relative date meets its constants as days ("today - delivered > 30"): either side.
            centres = [-constant, constant] if self.relative else [self._to_number(constant)]
            for centre in centres:
                for point in (centre - self.step, centre, centre + self.step):
                    if low <= point <= high:
                        points.add(point)
                        edges.add(self._from_number(point))
        ordered = sorted(points)
        middles = {self._from_number((a + b) / 2) for a, b in zip(ordered, ordered[1:]) if b - a > 2 * self.step}
        values = sorted({self._from_number(p) for p in ordered} | middles)
        return values, edges

    # -- JSON ---------------------------------------------------------------------------------

    def to_json(self, value: Any) -> Any:
        return value.isoformat() if isinstance(value, dt.date) else value

    def coerce(self, value: Any) -> Any:
        """A value read from JSON or an extractor, checked; raises ValueError naming the fact."""
        kind = self.spec.type
        try:
            if kind == "date":
                return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
            if kind == "boolean" and isinstance(value, bool):
                return value
            if kind in ("number", "integer") and isinstance(value, (int, float)) and not isinstance(value, bool):
                return value
            if kind == "enum" and value in (self.spec.values or []):
                return value
        except ValueError:
            pass
        raise ValueError(f"fact {self.name!r} cannot be {value!r} (a {kind}"
                         + (f": {', '.join(self.spec.values or [])}" if kind == "enum" else "") + ")")


def resolve_relative(facts: Mapping[str, Fact], drawn: Mapping[str, Any]) -> dict[str, Any]:
    """Drawn values as facts: relative dates become dates (their reference plus the drawn days)."""
    values = dict(drawn)
    for name, fact in facts.items():
        if fact.relative and name in values and not isinstance(values[name], dt.date):
            values[name] = values[fact.spec.relative_to] + dt.timedelta(days=int(values[name]))  # type: ignore[index]
    return values


def draw_order(facts: Mapping[str, Fact]) -> list[str]:
    """Fact names with every reference before the relative dates that count from it."""
    return sorted(facts, key=lambda n: facts[n].relative)


def facts_to_json(facts: Mapping[str, Fact], values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: facts[name].to_json(value) for name, value in values.items() if name in facts}


def facts_from_json(facts: Mapping[str, Fact], raw: Mapping[str, Any]) -> dict[str, Any]:
    """Typed facts from JSON; raises ValueError naming a missing or bad fact."""
    missing = sorted(set(facts) - set(raw))
    if missing:
        raise ValueError(f"facts missing: {', '.join(missing)}")
    return {name: fact.coerce(raw[name]) for name, fact in facts.items()}


def stated_name(fact: Fact) -> str:
    """The key under which an answer states a fact: relative dates as days before their reference."""
    return f"{fact.name}_days_before_{fact.spec.relative_to}" if fact.relative else fact.name


def stated_facts(facts: Mapping[str, Fact], values: Mapping[str, Any], dates: bool = False,
                 windows: Mapping[str, Sequence[int]] | None = None, worked: Collection[str] = (),
                 quotes: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The facts as an answer states them (``rules.state``): relative dates as whole days before
    their reference, other facts as in JSON. References of relative dates are left out (only the
    difference matters to the rules) unless ``dates`` (``rules.state_dates``): then the reference
    and the relative date are stated as dates too, the relative one just before its day count.
    ``windows`` (``rules.state_windows``) names relative dates the input gave as dates only, each
    with the day counts the rules compare it with: for those the answer states, in place of the
    day count, the date plus each count (``delivered_plus_30``) and that window's end beside its
    reference (:func:`side_by_side`). ``worked`` (``rules.state_working``) names relative dates the
    input gave as dates only whose count the answer works out (:func:`day_sums`) just before it.
    ``quotes`` (``rules.state_quotes``) holds the words of the input that gave some facts: each is
    stated (:func:`quote_key`) just before the first key of its fact; a fact the answer does not
    state (a reference without ``dates``) is not quoted either."""
    stated: dict[str, Any] = {}
    for key, fact, how, days in _stated(facts, dates, windows or {}, worked):
        if quotes and fact.name in quotes and quote_key(fact) not in stated:
            stated[quote_key(fact)] = quotes[fact.name]
        if how == "days":
            stated[key] = (values[fact.spec.relative_to] - values[fact.name]).days
        elif how == "value":
            stated[key] = fact.to_json(values[fact.name])
        elif how == "window":
            stated[key] = (values[fact.name] + dt.timedelta(days=days)).isoformat()
        elif how == "working":
            stated[key] = day_sums(values[fact.name], values[fact.spec.relative_to])
        else:
            stated[key] = side_by_side(values[fact.name] + dt.timedelta(days=days), values[fact.spec.relative_to])
    return stated


def day_sums(start: dt.date, end: dt.date) -> str:
    """The days from ``start`` to ``end`` worked out month by month in steps of one sum each, every
    step named by its month's number: the days left in ``start``'s month, then a running total plus
    each month between and plus ``end``'s day (``"05: 31 - 25 = 6, 06: 6 + 30 = 36, 07: 36 + 11 =
    47"``); ``"05: 21 - 18 = 3"`` within one month. The month numbers are those of the two dates the
    answer has just stated, so the walk from one to the other is copied, not remembered; one sum a
    step because a small model slips on three-term sums (``benchmarks/RESULTS.md`` "(z)", "(aa)")."""
    if end < start:
        raise ValueError(f"day_sums counts forward: {end} is before {start}")
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.month:02}: {end.day} - {start.day} = {end.day - start.day}"
    length = calendar.monthrange(start.year, start.month)[1]
    total = length - start.day
    steps = [f"{start.month:02}: {length} - {start.day} = {total}"]
    year, month = start.year, start.month
    while (year, month) != (end.year, end.month):  # each month after start's, up to end's day
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        days = end.day if (year, month) == (end.year, end.month) else calendar.monthrange(year, month)[1]
        steps.append(f"{month:02}: {total} + {days} = {total + days}")
        total += days
    return ", ".join(steps)


def side_by_side(end: dt.date, reference: dt.date) -> str:
    """Two dates' parts side by side, from the year down to the first part that differs:
    ``"months 10 11"``, ``"months 11 11, days 12 21"``, ``"years 2024 2025"``. A small model that
    compares two dates written apart decides at chance; with their parts copied next to each other
    it decides right (``benchmarks/date_steps.py``, ``benchmarks/RESULTS.md`` "(m)")."""
    if end.year != reference.year:
        return f"years {end.year} {reference.year}"
    parts = f"months {end.month} {reference.month}"
    return parts if end.month != reference.month else f"{parts}, days {end.day} {reference.day}"


def stated_keys(facts: Mapping[str, Fact], dates: bool = False,
                windows: Mapping[str, Sequence[int]] | None = None, worked: Collection[str] = ()) -> list[str]:
    """The keys of :func:`stated_facts` in order; with ``windows`` or ``worked``, those of either form."""
    keys = [key for key, *_ in _stated(facts, dates, {}, ())]
    if windows or worked:
        keys += [key for key, *_ in _stated(facts, dates, windows or {}, worked) if key not in keys]
    return keys


def window_key(name: str, days: int) -> str:
    """The key under which an answer states a relative date plus ``days`` (``rules.state_windows``)."""
    return f"{name}_plus_{days}"


def comparison_key(fact: Fact, days: int) -> str:
    """The key under which an answer states a window's end beside its reference: ``delivered_plus_30_vs_today``."""
    return f"{window_key(fact.name, days)}_vs_{fact.spec.relative_to}"


def working_key(fact: Fact) -> str:
    """The key under which an answer works out a relative date's day count (``rules.state_working``):
    ``delivered_to_today``."""
    return f"{fact.name}_to_{fact.spec.relative_to}"


def quote_key(fact: Fact) -> str:
    """The key under which an answer quotes the words that gave a fact (``rules.state_quotes``):
    ``amount_quote``."""
    return f"{fact.name}_quote"


def without_quotes(facts: Mapping[str, Fact], stated: Any) -> Any:
    """What an answer states, its quotes left out: the words are the model's way to find a fact;
    the fact itself is what is judged, and a held-out input has no quotes to compare with."""
    if not isinstance(stated, dict):
        return stated
    quoted = {quote_key(fact) for fact in facts.values()}
    return {key: value for key, value in stated.items() if key not in quoted}


def _stated(facts: Mapping[str, Fact], dates: bool, windows: Mapping[str, Sequence[int]],
            worked: Collection[str]) -> list[tuple[str, Fact, str, int]]:
    """``(key, fact, how, days)`` for each stated fact, in order: how is ``"value"``, ``"days"``
    (before its reference), ``"window"`` (the date plus ``days``), ``"beside"`` (that window's
    end beside the reference) or ``"working"`` (the day count worked out, before the count)."""
    references = {f.spec.relative_to for f in facts.values() if f.relative}
    stated: list[tuple[str, Fact, str, int]] = []
    for name, fact in facts.items():
        if name in references and not dates:
            continue
        if fact.relative and dates:
            stated.append((name, fact, "value", 0))
        if name in windows:
            for days in windows[name]:
                stated += [(window_key(name, days), fact, "window", days),
                           (comparison_key(fact, days), fact, "beside", days)]
        else:
            if name in worked:
                stated.append((working_key(fact), fact, "working", 0))
            stated.append((stated_name(fact), fact, "days" if fact.relative else "value", 0))
    return stated


def windows_stated(facts: Mapping[str, Fact], windows: Mapping[str, Sequence[int]],
                   stated: Any) -> dict[str, Sequence[int]]:
    """The windows of the relative dates an answer states by window (a window key, no day count)."""
    if not isinstance(stated, dict):
        return {}
    return {name: days for name, days in windows.items() if stated_name(facts[name]) not in stated
            and any(window_key(name, d) in stated for d in days)}


def worked_stated(facts: Mapping[str, Fact], worked: Collection[str], stated: Any) -> list[str]:
    """The relative dates whose day count an answer works out (a working key, ``rules.state_working``)."""
    if not isinstance(stated, dict):
        return []
    return [name for name in worked if working_key(facts[name]) in stated]


def _stated_dates(facts: Mapping[str, Fact], fact: Fact, stated: Mapping[str, Any]) -> tuple[dt.date, dt.date]:
    """A relative date and its reference as an answer states them; KeyError or ValueError when it
    does not state them as dates."""
    reference = facts[fact.spec.relative_to]
    return fact.coerce(stated[fact.name]), reference.coerce(stated[reference.name])


def counts_follow_dates(facts: Mapping[str, Fact], stated: Any,
                        windows: Mapping[str, Sequence[int]] | None = None) -> bool | None:
    """Whether each day count an answer states (``rules.state_dates``) is the number of days between
    the two dates it states beside it: a model may write a count apart from the dates it wrote, and
    then the dates only look like the reasoning behind it. Dates stated by window instead of a count
    (``windows``) are left out; ``None`` when no count is left."""
    if not isinstance(stated, dict):
        return False
    by_window = windows_stated(facts, windows or {}, stated)
    counted = [(name, fact) for name, fact in facts.items() if fact.relative and name not in by_window]
    if not counted:
        return None
    try:
        for name, fact in counted:
            count = stated[stated_name(fact)]
            start, reference = _stated_dates(facts, fact, stated)
            if isinstance(count, bool) or count != (reference - start).days:
                return False
    except (KeyError, ValueError):
        return False
    return True


def windows_follow_dates(facts: Mapping[str, Fact], stated: Any, windows: Mapping[str, Sequence[int]]) -> bool | None:
    """Whether each window an answer states (``rules.state_windows``) follows from the dates it
    states: its end is the stated date plus the window's days, and the parts beside the reference
    are those of that end and of the stated reference; ``None`` when it states no window."""
    by_window = windows_stated(facts, windows, stated)
    if not by_window:
        return None
    try:
        for name, days in by_window.items():
            fact = facts[name]
            start, reference = _stated_dates(facts, fact, stated)
            for d in days:
                end = fact.coerce(stated[window_key(name, d)])
                if end != start + dt.timedelta(days=d):
                    return False
                if stated[comparison_key(fact, d)] != side_by_side(end, reference):
                    return False
    except (KeyError, ValueError, OverflowError):
        return False
    return True


def working_follows_dates(facts: Mapping[str, Fact], stated: Any, worked: Collection[str]) -> bool | None:
    """Whether each day count an answer works out (``rules.state_working``) is worked out from the
    dates it states (:func:`day_sums` of them); ``None`` when it works out none."""
    names = worked_stated(facts, worked, stated)
    if not names:
        return None
    try:
        for name in names:
            fact = facts[name]
            start, reference = _stated_dates(facts, fact, stated)
            if stated[working_key(fact)] != day_sums(start, reference):
                return False
    except (KeyError, ValueError):
        return False
    return True


def facts_from_stated(facts: Mapping[str, Fact], stated: Any, truth: Mapping[str, Any],
                      windows: Mapping[str, Sequence[int]] | None = None) -> dict[str, Any] | None:
    """Facts from what an answer stated (references taken from ``truth`` where it states none),
    ``None`` when unusable. A relative date stated by window (``windows``) is its stated date."""
    if not isinstance(stated, dict):
        return None
    values = dict(truth)
    by_window = windows_stated(facts, windows or {}, stated)
    try:
        for name, fact in sorted(facts.items(), key=lambda item: item[1].relative):  # references first
            key = name if name in by_window else stated_name(fact)
            if key not in stated:
                continue
            if fact.relative and name not in by_window:
                if not isinstance(stated[key], int) or isinstance(stated[key], bool):
                    return None
                values[name] = values[fact.spec.relative_to] - dt.timedelta(days=stated[key])
            else:
                values[name] = fact.coerce(stated[key])
    except (ValueError, OverflowError):
        return None
    return values
