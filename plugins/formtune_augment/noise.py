"""Noise inside a message: broken lines and stray whitespace, sloppy casing, typos, and key-value
lines in another order. Each edits only the text between the answer's values
(:func:`formtune.keep.outside`), so a name is never lower-cased and an e-mail never misspelled."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from typing import Any

from formtune.keep import kept_spans, outside

#: Share of eligible words (four letters or more, outside the answer's values) that get a typo.
TYPO_RATE = 0.08
_NEIGHBOURS = dict(zip("abcdefghijklmnopqrstuvwxyz",
                       ["qs", "vn", "xv", "sf", "wr", "dg", "fh", "gj", "uo", "hk", "jl", "k", "n", "bm", "ip", "o",
                        "w", "et", "ad", "ry", "yi", "cb", "qe", "zc", "tu", "x"]))
_WORD = re.compile(r"[A-Za-z]{4,}")
_FIELD_LINE = re.compile(r"^[ \t]*[A-Za-z][\w .'/()#-]{0,30}:[ \t]+\S")


class Whitespace:
    name = "whitespace"
    description = "lines wrapped at a width, joined into one, or padded with stray spaces and blank lines"

    def augment(self, text: str, *, output: Any, keep: Sequence[str], rng: random.Random, task: Any) -> str:
        style = rng.choice(["wrap", "join", "spaces", "blank-lines"])
        if style == "wrap":
            return _wrap(text, keep, rng.randint(40, 72))
        if style == "join":
            return outside(text, keep, lambda part: re.sub(r"[ \t]*\n+[ \t]*", " ", part))
        if style == "spaces":
            return outside(text, keep, lambda part: re.sub(r" ", lambda m: rng.choice([" "] * 6 + ["  ", " \t"]), part))
        return outside(text, keep, lambda part: re.sub(r"\n", lambda m: rng.choice(["\n", "\n\n", " \n", "\n\n\n"]), part))


def _wrap(text: str, keep: Sequence[str], width: int) -> str:
    """Hard line breaks at the last space before ``width`` columns, never inside a kept value."""
    spans = kept_spans(text, keep)
    out, column, last_space = list(text), 0, None
    for i, ch in enumerate(text):
        if ch == "\n":
            column, last_space = 0, None
            continue
        if ch == " " and not any(s <= i < e for s, e in spans):
            last_space = i
        column += 1
        if column > width and last_space is not None:
            out[last_space] = "\n"
            column, last_space = i - last_space, None
    return "".join(out)


class Casing:
    name = "casing"
    description = "the message in lower case, or shouted in capitals, outside the answer's values"

    def augment(self, text: str, *, output: Any, keep: Sequence[str], rng: random.Random, task: Any) -> str:
        change = rng.choice([str.lower, str.lower, str.upper])
        return outside(text, keep, change)


class Typos:
    name = "typos"
    description = f"typos in about {TYPO_RATE:.0%} of the longer words (swapped, dropped, doubled or wrong letters)"

    def augment(self, text: str, *, output: Any, keep: Sequence[str], rng: random.Random, task: Any) -> str:
        def misspell(match: re.Match[str]) -> str:
            word = match.group()
            return _typo(word, rng) if rng.random() < TYPO_RATE else word

        return outside(text, keep, lambda part: _WORD.sub(misspell, part))


def _typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)  # first and last letters stay: words stay readable
    kind = rng.choice(["swap", "drop", "double", "neighbour"])
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind == "drop":
        return word[:i] + word[i + 1:]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    near = _NEIGHBOURS.get(word[i].lower(), word[i])
    letter = rng.choice(near)
    return word[:i] + (letter.upper() if word[i].isupper() else letter) + word[i + 1:]


class ShuffleFields:
    name = "shuffle-fields"
    description = "runs of 'Label: value' lines in another order"

    def augment(self, text: str, *, output: Any, keep: Sequence[str], rng: random.Random, task: Any) -> str:
        lines = text.split("\n")
        run: list[int] = []
        for i in range(len(lines) + 1):
            if i < len(lines) and _FIELD_LINE.match(lines[i]):
                run.append(i)
                continue
            if len(run) > 1:
                moved = [lines[j] for j in run]
                rng.shuffle(moved)
                for j, line in zip(run, moved):
                    lines[j] = line
            run = []
        return "\n".join(lines)
