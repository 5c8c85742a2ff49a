"""Texts for XSD simple types: enumerations, patterns, lengths, bounds and digits, built-in types.

Each candidate is checked with the type's own ``is_valid`` (xmlschema), and another is drawn when
it fails, so a facet this module only approximates (a pattern together with a length, a
``totalDigits`` on a bounded range) still yields a valid text or a clear failure. Names suggest
realistic values as in the JSON Schema sampler (``email``, ``city``, ``price`` …).
"""

from __future__ import annotations

import random
import string
from decimal import Decimal
from typing import Any

from formtune.schema.sampler.budget import MAX_STRING
from formtune.schema.sampler.realistic import NUMBER_HINTS, STRING_HINTS, hint_for
from formtune.schema.sampler.values import Xeger

XSD = "{http://www.w3.org/2001/XMLSchema}"
IDREF_MARK = "\x00idref"  # replaced by an ID of the document once it is complete
TRIES = 24

INTEGERS = {"integer", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger",
             "nonPositiveInteger", "negativeInteger", "unsignedLong", "unsignedInt", "unsignedShort",
             "unsignedByte"}
_DECIMALS = {"decimal", "float", "double"}
_WORDS = {"Name", "NCName", "NMTOKEN", "ENTITY", "QName", "NOTATION"}


class Unsatisfiable(ValueError):
    """No valid text was found for a simple type."""


def builtin(simple: Any) -> str:
    """The local name of the nearest built-in type ``simple`` derives from (``positiveInteger``)."""
    while simple is not None and (simple.target_namespace != XSD[1:-1] or not simple.name):
        simple = getattr(simple, "base_type", None)
    return simple.local_name if simple is not None else "string"


def facet(simple: Any, name: str) -> Any:
    """The value of facet ``name`` on ``simple`` or the nearest restriction it derives from."""
    while simple is not None:
        found = getattr(simple, "facets", {}).get(XSD + name)
        if found is not None:
            return getattr(found, "value", found)
        simple = getattr(simple, "base_type", None)
    return None


def user_patterns(simple: Any) -> list[Any]:
    """The compiled pattern facets a schema declares on ``simple`` or the types it restricts (not
    the built-in ones such as NCName's, which the built-in generators already satisfy)."""
    while simple is not None and not (simple.target_namespace == XSD[1:-1] and simple.name):
        found = getattr(simple, "facets", {}).get(XSD + "pattern")
        if found is not None:
            return list(found.patterns)
        simple = getattr(simple, "base_type", None)
    return []


def _window(low: Decimal | None, high: Decimal | None) -> tuple[Decimal, Decimal]:
    """A human range inside the bounds: small positive numbers when allowed (0..1000)."""
    if (low is None or low <= 0) and (high is None or high >= 1):
        return max(low if low is not None else Decimal(0), Decimal(0)), min(high if high is not None else Decimal(100), Decimal(1000))
    if low is None:
        return high - 100, high
    return low, min(high if high is not None else low + 100, low + 1000)


def _lexical(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


class SimpleValues:
    """Draws texts for simple types with one seeded ``random.Random`` and a Faker instance."""

    def __init__(self, rng: random.Random, fake: Any) -> None:
        self.rng, self.fake = rng, fake
        self.ids: list[str] = []

    def text(self, simple: Any, hint: str | None = None) -> str:
        """A valid text of ``simple``, or :class:`Unsatisfiable`."""
        for attempt in range(TRIES):
            text = self.candidate(simple, hint if attempt < TRIES // 2 else None, attempt)
            if text == IDREF_MARK or simple.is_valid(text):
                if builtin(simple) == "ID":
                    self.ids.append(text)
                return text
        raise Unsatisfiable(f"no valid text found for {simple!r}")

    def candidate(self, simple: Any, hint: str | None, attempt: int) -> str:
        rng = self.rng
        if simple.is_list():
            item = simple.item_type if hasattr(simple, "item_type") else simple.base_type.item_type
            low = simple.min_length or 1
            high = simple.max_length if simple.max_length is not None else low + 2
            return " ".join(self.candidate(item, None, attempt) for _ in range(rng.randint(low, max(low, min(high, low + 2)))))
        if simple.is_union():
            return self.candidate(rng.choice(simple.member_types), hint, attempt)
        enumeration = simple.enumeration
        if enumeration:
            return _lexical(rng.choice(enumeration))
        patterns = user_patterns(simple)
        if patterns:
            return self.from_pattern(rng.choice(patterns).pattern, simple, attempt)
        kind = builtin(simple)
        if kind in INTEGERS or kind in _DECIMALS:
            return self.number(simple, kind, hint)
        maker = hint_for(hint, STRING_HINTS) if hint and kind == "string" else None
        if maker is not None and self.fake is not None:
            return str(maker(self.fake, rng))
        return self.builtin_text(kind, simple)

    def from_pattern(self, pattern: str, simple: Any, attempt: int) -> str:
        # xmlschema compiles "p" as "^(?:p)$(?!\n\Z)"; rstr wants the bare expression.
        if pattern.startswith("^(?:") and pattern.endswith(")$(?!\\n\\Z)"):
            pattern = pattern[4:-len(")$(?!\\n\\Z)")]
        repeat = 3 + attempt // 4
        try:
            return Xeger(self.rng, repeat, MAX_STRING).xeger(pattern)
        except Exception:  # noqa: BLE001 - sre internals on exotic patterns
            return ""

    def number(self, simple: Any, kind: str, hint: str | None) -> str:
        rng = self.rng
        low, high = simple.min_value, simple.max_value
        digits = facet(simple, "totalDigits")
        fraction = 0 if kind in INTEGERS else facet(simple, "fractionDigits")
        fraction = 2 if fraction is None else fraction
        if digits is not None:
            fraction = min(fraction, max(digits - 1, 0))
            cap = Decimal(10) ** (digits - fraction) - 1
            high = cap if high is None else min(Decimal(high), cap)
            low = -cap if low is None else max(Decimal(low), -cap)
        maker = hint_for(hint, NUMBER_HINTS) if hint else None
        if maker is not None and self.fake is not None and rng.random() < 0.8:
            value = Decimal(str(maker(self.fake, rng)))
        else:
            lo, hi = _window(None if low is None else Decimal(low), None if high is None else Decimal(high))
            value = lo + (hi - lo) * Decimal(rng.random())
        if fraction == 0 or kind in INTEGERS:
            return str(int(value.to_integral_value()))
        return f"{value:.{rng.choice([0, fraction]) if rng.random() < 0.3 else fraction}f}"

    def builtin_text(self, kind: str, simple: Any) -> str:
        rng = self.rng
        year, month, day = rng.randint(2000, 2030), rng.randint(1, 12), rng.randint(1, 28)
        clock = f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
        fixed = {
            "boolean": rng.choice(["true", "false"]), "date": f"{year:04d}-{month:02d}-{day:02d}",
            "dateTime": f"{year:04d}-{month:02d}-{day:02d}T{clock}", "time": clock,
            "gYear": f"{year:04d}", "gYearMonth": f"{year:04d}-{month:02d}", "gMonth": f"--{month:02d}",
            "gDay": f"---{day:02d}", "gMonthDay": f"--{month:02d}-{day:02d}", "duration": f"P{day}D",
            "base64Binary": "aGVsbG8=", "hexBinary": "0FB7", "language": rng.choice(["en", "de", "fr-CA"]),
            "anyURI": self.fake.url() if self.fake else "https://example.com/",
            "ID": f"id{len(self.ids) + 1}", "IDREF": IDREF_MARK, "IDREFS": IDREF_MARK,
        }
        if kind in fixed:
            return fixed[kind]
        low = simple.min_length or 0
        high = simple.max_length
        if kind in _WORDS:
            text = self.word()
        else:
            text = self.word() if high is not None and high < 12 else " ".join(self.word() for _ in range(rng.randint(1, 3)))
        while len(text) < low:
            text += rng.choice(string.ascii_lowercase)
        return text[:high] if high is not None else text

    def word(self) -> str:
        if self.fake is not None:
            return self.fake.word()
        return "".join(self.rng.choice(string.ascii_lowercase) for _ in range(self.rng.randint(3, 8)))
