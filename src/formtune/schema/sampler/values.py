"""Exact value helpers shared by the collector and the generators.

Numbers are compared as fractions (``multipleOf: 0.01`` must not drift with float error), values
are compared with JSON equality (``1 == 1.0`` but ``True != 1``), and regex strings come from a
seeded rstr subclass whose output does not depend on ``PYTHONHASHSEED``.
"""

from __future__ import annotations

import functools
import math
import random
import re
import string
from fractions import Fraction
from typing import Any

import rstr


def canon(value: Any) -> Any:
    """A hashable key with JSON equality: 1 == 1.0, but True != 1 and order of keys is moot."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return (type(value).__name__, value)
    if isinstance(value, (int, float)):
        return ("num", Fraction(value) if math.isfinite(value) else value)
    if isinstance(value, list):
        return ("list", tuple(canon(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((k, canon(v)) for k, v in value.items())))
    return ("other", repr(value))


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return "integer"
    return {float: "number", str: "string", list: "array", dict: "object"}.get(type(value), "?")


def fraction(number: float) -> Fraction:
    return Fraction(str(number)) if isinstance(number, float) else Fraction(number)


def common_step(multiples: list[float]) -> Fraction | None:
    """The least common multiple of every multipleOf (1 for integers), exactly, as a fraction."""
    steps = [fraction(m) for m in multiples if m]
    if not steps:
        return None
    return Fraction(math.lcm(*(s.numerator for s in steps)), math.gcd(*(s.denominator for s in steps)))


def is_multiple(value: float, step: float) -> bool:
    """jsonschema's own multipleOf test, float quirks included."""
    if isinstance(step, float):
        try:
            quotient = value / step
            return int(quotient) == quotient
        except (OverflowError, ZeroDivisionError):
            return False
    return value % step == 0


def snake(name: str) -> str:
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


@functools.lru_cache(maxsize=1024)
def min_length(pattern: str) -> int:
    """The length of the shortest string ``pattern`` matches in full (0 when it cannot be parsed)."""
    try:
        return re._parser.parse(pattern).getwidth()[0]  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - re.error, or patterns too odd for the parser
        return 0


class TooLong(ValueError):
    """A regex asks for a longer string than the sampler makes."""


class Xeger(rstr.Rstr):
    """rstr's regex sampler with short repeats and no set-order randomness (needed for seeds)."""

    def __init__(self, rng: random.Random, repeat: int, limit: int) -> None:
        super().__init__(rng)
        self.repeat, self.limit = repeat, limit
        # rstr builds some alphabets from sets, whose order changes with PYTHONHASHSEED.
        self._alphabets = {k: "".join(sorted(v)) for k, v in self._alphabets.items()}
        # "." "\s" "\W" need not produce form feeds and vertical tabs: keep the text readable.
        self._alphabets.update(printable=string.ascii_letters + string.digits + string.punctuation + " ",
                               whitespace=" ", nonword=string.punctuation.replace("_", "") + " ")

    def _handle_repeat(self, start_range: int, end_range: int, value: Any) -> str:
        end_range = min(end_range, start_range + self.repeat)
        times = self._random.randint(start_range, end_range)
        if times > self.limit:  # a{1000000000} must fail fast, not fill the memory
            raise TooLong(f"{times} repeats")
        pieces, size = [], 0
        for _ in range(times):
            piece = "".join(self._handle_state(i) for i in value)
            size += len(piece)
            if size > self.limit:  # nested repeats: (a{1000}){1000}
                raise TooLong(f"over {self.limit} characters")
            pieces.append(piece)
        return "".join(pieces)

    def _handle_in(self, value: Any) -> Any:
        candidates = [c for group in (self._handle_state(i) for i in value) for c in group]
        if candidates and candidates[0] is False:  # negated class: anything printable but these
            banned = set(candidates[1:])
            candidates = [ch for ch in string.ascii_letters + string.digits + " -_." if ch not in banned]
        return self._random.choice(candidates)


def search(pattern: str, text: str) -> bool:
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return False
