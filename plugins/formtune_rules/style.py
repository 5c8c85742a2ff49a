"""Style rules: checks of a text field (or the whole completion) for length, phrases, register,
language and emoji. Each check gives the messages of what is wrong, empty when the text is fine.

Register is checked with markers, not a model: a formal text has no contractions ("can't",
"we're"), no chat slang ("hey", "gonna", "no worries") and no exclamation marks; a casual one has
none of the stiff formulas ("we regret to inform you", "hereby", "kindly"). Language is detected
by ``langdetect`` (seeded, so the same text always gets the same answer), loaded on first use.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from formtune_rules.spec import StyleSpec

_CONTRACTION = re.compile(r"\b\w+(n't|'re|'ve|'ll|'m|'d)\b|\b(it|that|there|what|here|let|who|he|she)'s\b",
                          re.IGNORECASE)
SLANG = ("hey", "gonna", "wanna", "gotta", "yeah", "yep", "nope", "lol", "btw", "asap", "no worries", "awesome",
         "cool", "folks", "guys", "dude", "omg")
STIFF = ("we regret to inform you", "hereby", "pursuant to", "kindly", "dear sir or madam", "herewith",
         "please be advised")
# Pictographs, dingbats, flags, keycaps, and the variation selector that turns a character into an emoji.
_EMOJI = re.compile("[\U0001F000-\U0001FAFF\U00002600-\U000027BF\U0001F1E6-\U0001F1FF\U00002B00-\U00002BFF"
                    "\U0000FE0F\U0000200D\U000020E3]")


def _phrase(phrase: str) -> re.Pattern[str]:
    """A case-insensitive phrase that matches whole words only ("cool" is not in "cooling")."""
    start = r"(?<!\w)" if phrase[:1].isalnum() else ""
    end = r"(?!\w)" if phrase[-1:].isalnum() else ""
    return re.compile(start + re.escape(phrase) + end, re.IGNORECASE)


def _found(phrases: tuple[str, ...] | list[str], text: str) -> list[str]:
    return [p for p in phrases if _phrase(p).search(text)]


@lru_cache(maxsize=1)
def _detector() -> Callable[[str], str]:
    from langdetect import DetectorFactory, detect

    DetectorFactory.seed = 0
    return detect


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of ``text`` (``None`` when it has no letters to judge)."""
    from langdetect.lang_detect_exception import LangDetectException

    try:
        return _detector()(text)
    except LangDetectException:
        return None


def style_problems(spec: StyleSpec, text: str) -> list[str]:
    """What breaks the style rule ``spec`` in ``text``."""
    problems = []
    for bounds, size, unit in ((spec.length, len(text), "characters"), (spec.words, len(text.split()), "words")):
        if bounds is not None and bounds.min is not None and size < bounds.min:
            problems.append(f"{size} {unit}, fewer than {bounds.min}")
        if bounds is not None and bounds.max is not None and size > bounds.max:
            problems.append(f"{size} {unit}, more than {bounds.max}")
    missing = [p for p in spec.required if not _phrase(p).search(text)]
    if missing:
        problems.append(f"missing {', '.join(map(repr, missing))}")
    if found := _found(spec.forbidden, text):
        problems.append(f"says {', '.join(map(repr, found))}")
    if spec.tone == "formal":
        markers = [m.group(0) for m in _CONTRACTION.finditer(text)] + _found(SLANG, text)
        markers += ["!"] if "!" in text else []
        if markers:
            problems.append(f"not formal: {', '.join(map(repr, markers))}")
    if spec.tone == "casual" and (found := _found(STIFF, text)):
        problems.append(f"not casual: {', '.join(map(repr, found))}")
    if spec.language is not None:
        language = detect_language(text)
        if language != spec.language:
            problems.append(f"written in {language or 'no recognizable language'}, not {spec.language}")
    if spec.emoji is False and (found := _EMOJI.findall(text)):
        problems.append(f"has emoji {''.join(found)!r}")
    return problems


def pointer_get(value: Any, pointer: str) -> tuple[bool, Any]:
    """``(found, item)`` at a JSON pointer ("" is the value itself)."""
    if pointer == "":
        return True, value
    item = value
    for part in pointer.lstrip("/").split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(item, dict) and part in item:
            item = item[part]
        elif isinstance(item, list) and part.isdigit() and int(part) < len(item):
            item = item[int(part)]
        else:
            return False, None
    return True, item
