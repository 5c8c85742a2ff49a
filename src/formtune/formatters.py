"""Value formatters for input templates: one value, many spellings, drawn per example.

A template that writes ``{{ output.date }}`` teaches the model one spelling of a date; real
messages use many. These helpers are given to every template as ``fmt``, and each call draws a
spelling from the example's own seeded random stream, so wording varies and stays reproducible::

    Delivered {{ fmt.date(output.delivered) }}, {{ fmt.money(output.total, output.currency) }}
    for {{ fmt.number(output.quantity) }} boxes: {{ fmt.listing(output["items"]) }}.
    Priority: {{ fmt.say("priority", output.priority) }}

Only spellings a careful reader could map back to the one value are used: no ``03/05`` dates
(day or month first?), no ``1.234`` numbers (a thousand or one point two?). ``say`` maps enum
values and booleans to the words the task declares under ``phrases:``, so "ASAP" can mean
``priority: high`` without the template spelling it out.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping, Sequence
from typing import Any

from num2words import num2words

_CURRENCY = {
    "EUR": ("€", "euros"), "USD": ("$", "US dollars"), "GBP": ("£", "pounds"), "JPY": ("¥", "yen"),
    "CHF": ("CHF", "Swiss francs"), "CAD": ("CA$", "Canadian dollars"), "AUD": ("A$", "Australian dollars"),
    "SEK": ("kr", "Swedish kronor"), "NOK": ("kr", "Norwegian kroner"), "INR": ("₹", "rupees"),
}


def _ordinal(day: int) -> str:
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _as_date(value: str | dt.date) -> dt.date:
    """An ISO date (``2024-03-05``, or a datetime's text) or a date/datetime as a date."""
    return dt.date.fromisoformat(str(value)[:10]) if not isinstance(value, dt.date) else value


class Formatters:
    """The ``fmt`` object of templates, bound to one example's random stream and the task's phrases."""

    def __init__(self, rng: random.Random, phrases: Mapping[str, Mapping[str, Sequence[str]]] | None = None) -> None:
        self._rng = rng
        self._phrases = phrases or {}

    def date(self, value: str | dt.date) -> str:
        """An unambiguous spelling of an ISO date (``2024-03-05``) or a date/datetime."""
        day = _as_date(value)
        month, short = day.strftime("%B"), day.strftime("%b")
        return self._rng.choice([
            day.isoformat(), f"{month} {day.day}, {day.year}", f"{day.day} {month} {day.year}",
            f"{short} {day.day}, {day.year}", f"{_ordinal(day.day)} of {month} {day.year}",
            f"{day.strftime('%A')}, {day.day} {month} {day.year}", f"{day.year}/{day.month:02d}/{day.day:02d}",
            f"{day.day:02d}-{short}-{day.year}", f"{month} {_ordinal(day.day)} {day.year}",
        ])

    def day(self, value: str | dt.date) -> str:
        """A date without its year ("July 2nd", "2 July", "the 2nd of July", "Wednesday 2 July"), as
        people write a recent date in a message whose own date gives the year. Only for dates the
        text's reader can place: within a year before (or after) a date the text states."""
        day = _as_date(value)
        month, short, weekday, nth = day.strftime("%B"), day.strftime("%b"), day.strftime("%A"), _ordinal(day.day)
        return self._rng.choice([
            f"{month} {day.day}", f"{month} {nth}", f"{day.day} {month}", f"{nth} {month}", f"the {nth} of {month}",
            f"{short} {day.day}", f"{day.day} {short}", f"{weekday} {day.day} {month}", f"{weekday}, {month} {nth}",
        ])

    def ordinal(self, value: int) -> str:
        """A whole number as an ordinal in digits ("1st", "22nd", "13th"), as in "on the 8th of last
        month"; it draws nothing from the stream."""
        if isinstance(value, bool) or not float(value).is_integer():
            raise TypeError(f"fmt.ordinal() takes a whole number, not {value!r}")
        return _ordinal(int(value))

    def number(self, value: int | float) -> str:
        """A number with or without thousands separators; small whole numbers also in words."""
        if isinstance(value, bool):
            raise TypeError("fmt.number() takes a number, not a boolean")
        whole = float(value).is_integer()
        options = [str(int(value)) if whole else repr(float(value)), f"{value:,}"]
        if whole and 0 <= value <= 20:
            options += [num2words(int(value))] * 2
        if whole and abs(value) >= 10_000:
            options.append(f"{int(value):,}".replace(",", " "))  # thin-space style grouping
        return self._rng.choice(options)

    def money(self, amount: float, currency: str = "EUR", decimal_comma: bool = False) -> str:
        """An amount with its currency as a symbol, a code or a name, before or after. With
        ``decimal_comma`` the cents follow a comma, as much of Europe writes them ("43,67 €"), and
        thousands are never grouped (a grouped "1.234,50" would read as 1.234 to others)."""
        code = str(currency).upper()
        symbol, name = _CURRENCY.get(code, (code, code))
        plain = f"{amount:.2f}" if not float(amount).is_integer() or self._rng.random() < 0.5 else f"{int(amount)}"
        if decimal_comma:
            number = plain.replace(".", ",")
        else:
            grouped = f"{float(plain):,.2f}" if "." in plain else f"{int(float(plain)):,}"
            number = self._rng.choice([plain, grouped])
        return self._rng.choice([f"{symbol}{number}", f"{number} {code}", f"{code} {number}", f"{number} {name}",
                                 f"{number}{symbol}" if len(symbol) == 1 else f"{number} {symbol}"])

    def say(self, field: str, value: Any) -> str:
        """One of the words the task's ``phrases:`` gives for ``field``'s ``value`` (the value
        itself when it declares none)."""
        key = str(value).lower() if isinstance(value, bool) else str(value)
        options = self._phrases.get(field, {}).get(key)
        return self._rng.choice(list(options)) if options else str(value)

    def listing(self, items: Sequence[Any], style: str | None = None) -> str:
        """Items as a comma list, an "and" list, bullets or numbered lines (``style`` picks one)."""
        texts = [str(item) for item in items]
        style = style or self._rng.choice(["commas", "and", "bullets", "numbered"])
        if style == "bullets":
            mark = self._rng.choice(["-", "*", "•"])
            return "\n" + "\n".join(f"{mark} {t}" for t in texts)
        if style == "numbered":
            return "\n" + "\n".join(f"{n}. {t}" for n, t in enumerate(texts, start=1))
        if style == "and" and len(texts) > 1:
            return f"{', '.join(texts[:-1])} and {texts[-1]}"
        return ", ".join(texts)
