"""Template formatters: every spelling maps back to exactly the value it was made from."""

from __future__ import annotations

import datetime as dt
import random
import re

import pytest
from dateutil import parser as dates
from num2words import num2words

from formtune.formatters import Formatters


def spellings(call, n=200):
    rng = random.Random(0)
    return {call(Formatters(rng, {"priority": {"high": ["ASAP", "urgent"]}, "refund": {"true": ["refund me"]}}))
            for _ in range(n)}


@pytest.mark.parametrize("day", ["2024-03-05", "1999-12-31", "2030-01-11"])
def test_every_date_spelling_is_the_same_day(day):
    seen = spellings(lambda f: f.date(day))
    assert len(seen) >= 8  # many spellings, not one
    for text in seen:
        assert dates.parse(text.replace("of ", "")).date().isoformat() == day, text
        assert not re.fullmatch(r"\d{2}/\d{2}/\d{4}", text)  # day-or-month-first is never used


@pytest.mark.parametrize("day", ["2024-03-05", "1999-12-31", "2030-01-11"])
def test_every_day_spelling_is_the_same_day_without_its_year(day):
    seen = spellings(lambda f: f.day(day))
    assert len(seen) >= 8
    for text in seen:
        assert not re.search(r"\d{4}", text), text
        parsed = dates.parse(text.replace("the ", "").replace("of ", ""), default=dt.datetime(2000, 1, 1))
        assert parsed.strftime("%m-%d") == day[5:], text


def test_ordinals_read_back_as_their_day_and_draw_nothing():
    rng = random.Random(0)
    fmt = Formatters(rng)
    state = rng.getstate()
    for day in range(1, 32):
        parsed = dates.parse(f"{fmt.ordinal(day)} March 2025").date()
        assert parsed == dt.date(2025, 3, day), fmt.ordinal(day)
    assert [fmt.ordinal(n) for n in (11, 12, 13, 111, 21, 102, 3.0)] == ["11th", "12th", "13th", "111th", "21st",
                                                                         "102nd", "3rd"]
    assert rng.getstate() == state  # rows drawn before it existed are byte for byte the same
    for bad in (True, 2.5):
        with pytest.raises(TypeError, match="whole number"):
            fmt.ordinal(bad)


@pytest.mark.parametrize("value", [3, 17, 1234, 56789, 12.5])
def test_every_number_spelling_is_the_same_number(value):
    words = {num2words(n): n for n in range(21)}
    for text in spellings(lambda f: f.number(value)):
        number = words.get(text)
        if number is None:
            number = float(text.replace(",", "").replace(" ", ""))
        assert number == value, text


def test_money_spellings_carry_amount_and_currency():
    seen = spellings(lambda f: f.money(1234.5, "EUR"))
    assert {"€1234.50", "1,234.50 EUR", "EUR 1234.50", "1234.50 euros"} <= seen
    for text in seen:
        assert float(re.sub(r"[^\d.]", "", text)) == 1234.5 and re.search("€|EUR|euros", text), text


def test_money_with_a_decimal_comma_is_never_grouped():
    seen = spellings(lambda f: f.money(1234.5, "EUR", decimal_comma=True))
    assert {"€1234,50", "1234,50 EUR", "1234,50 euros"} <= seen
    for text in seen:
        assert float(re.sub(r"[^\d,]", "", text).replace(",", ".")) == 1234.5 and "." not in text, text
    assert {"43,00€", "43€"} <= spellings(lambda f: f.money(43, "EUR", decimal_comma=True))


def test_say_uses_the_tasks_phrases_and_falls_back_to_the_value():
    assert spellings(lambda f: f.say("priority", "high")) == {"ASAP", "urgent"}
    assert spellings(lambda f: f.say("refund", True)) == {"refund me"}
    assert spellings(lambda f: f.say("priority", "low")) == {"low"}


def test_listings_keep_every_item_in_order():
    items = ["2 x ABC-1", "1 x XYZ-9", "3 x QQ-7"]
    seen = spellings(lambda f: f.listing(items))
    assert len(seen) >= 4
    for text in seen:
        positions = [text.index(item) for item in items]
        assert positions == sorted(positions), text


def test_templates_reach_the_formatters_and_the_tasks_phrases(tmp_path):
    from formtune.task import load_task

    (tmp_path / "s.json").write_text('{"type": "object"}')
    (tmp_path / "task.yaml").write_text(
        "name: t\nschema: s.json\ninstructions: x\nphrases: {priority: {high: [ASAP]}}\n"
        "templates:\n  - name: a\n    text: \"{{ fmt.say('priority', output.p) }} by {{ fmt.date(output.d) }}\"\n")
    text = load_task(tmp_path / "task.yaml").templates["a"].render({"p": "high", "d": "2024-03-05"}, random.Random(1))
    assert text.startswith("ASAP by ") and dates.parse(text[8:].replace("of ", "")).date().isoformat() == "2024-03-05"
