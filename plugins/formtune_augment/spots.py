"""Where an augmenter may put new text: line and sentence ends outside the answer's values."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from formtune.keep import kept_spans

_BOUNDARY = re.compile(r"(?<=[.!?])[ ]+(?=\S)|(?<=[.!?])\n|\n(?=\n)")


def boundaries(text: str, keep: Sequence[str]) -> list[int]:
    """Offsets just after a sentence end, or at the end of a line that ends a sentence or a
    paragraph (never between the lines of a list or a table), none inside a kept value."""
    spans = kept_spans(text, keep)
    return [m.start() for m in _BOUNDARY.finditer(text) if not any(s < m.start() < e for s, e in spans)]


def insert_sentence(text: str, sentence: str, keep: Sequence[str], rng: random.Random) -> str:
    """``sentence`` at a sentence or line boundary of ``text``, or after its end."""
    spots = boundaries(text, keep)
    if not spots or rng.random() < 0.3:
        return text.rstrip() + rng.choice([" ", "\n", "\n\n"]) + sentence
    at = rng.choice(spots)
    if text[at] == "\n":
        return f"{text[:at]}\n{sentence}{text[at:]}"
    return f"{text[:at]} {sentence} {text[at:].lstrip(' ')}"


def digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def phone(rng: random.Random) -> str:
    """A phone number in one of several national styles (fictional ranges)."""
    return rng.choice([
        f"+1 ({rng.randint(201, 989)}) 555-{digits(rng, 4)}", f"+44 7700 900{digits(rng, 3)}",
        f"+49 30 {digits(rng, 4)} {digits(rng, 4)}", f"0{rng.randint(20, 99)} {digits(rng, 3)} {digits(rng, 4)}",
        f"+33 6 {digits(rng, 2)} {digits(rng, 2)} {digits(rng, 2)} {digits(rng, 2)}",
        f"555-{digits(rng, 4)}",
    ])


def reference(rng: random.Random) -> str:
    """A reference number of some other system: a ticket, a case, an invoice, a parcel."""
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    return rng.choice([
        f"#{digits(rng, rng.randint(4, 6))}", f"TCK-{digits(rng, 5)}", f"CASE {digits(rng, 8)}",
        f"INV-{digits(rng, 4)}-{digits(rng, 3)}", f"1Z{''.join(rng.choice(letters) for _ in range(4))}{digits(rng, 10)}",
        f"PO {digits(rng, 6)}", f"REF/{digits(rng, 2)}/{digits(rng, 5)}",
    ])
