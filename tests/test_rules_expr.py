"""The expr engine: a real parser, typed names, constants for boundaries, errors with columns."""

from __future__ import annotations

import datetime as dt

import pytest

from formtune.contrib import RuleSyntaxError
from formtune_rules.expr import ExprEngine

NAMES = {"amount": "number", "n": "integer", "today": "date", "delivered": "date", "reason": "string",
         "vip": "boolean"}
FACTS = {"amount": 250.0, "n": 3, "today": dt.date(2025, 3, 31), "delivered": dt.date(2025, 2, 28),
         "reason": "damaged", "vip": False}


def compile_(source):
    return ExprEngine().compile(source, NAMES)


@pytest.mark.parametrize(("source", "expected"), [
    ("amount > 250", False), ("amount >= 250", True), ("amount == 250.0", True),
    ("today - delivered > 30", True), ("today - delivered > 31", False),  # 31 days: Feb 28 -> Mar 31
    ("delivered + 31 == today", True), ("delivered < 2025-03-01", True),
    ('reason != "damaged" or vip', False), ('not vip and reason in ["damaged", "wrong"]', True),
    ('reason not in ["damaged"]', False), ("n - 1 >= 2 and (amount < 300 or vip)", True),
])
def test_evaluates(source, expected):
    assert compile_(source).evaluate(FACTS) is expected


def test_reports_names_and_constants_for_boundaries():
    condition = compile_('today - delivered > 30 and reason != "damaged" or amount > 250')
    assert condition.names == {"today", "delivered", "reason", "amount"}
    assert condition.constants == {"today": {30}, "delivered": {30}, "reason": {"damaged"}, "amount": {250}}


@pytest.mark.parametrize(("source", "message", "column"), [
    ("amout > 3", "unknown fact 'amout'", 1),
    ('amount > "x"', "cannot compare number with string", 8),
    ('reason < "a"', "< needs numbers or dates", 8),
    ("amount > 3 and", "the condition ends too early", 15),
    ("amount > > 3", "cannot parse the condition at '> 3'", 10),
    ("amount + 3", "must be true or false", 1),
    ("today + today > 3", "cannot compute date + date", 7),
    ("delivered < 2025-02-30", "not a calendar date", 13),
    ("__import__('os')", "cannot parse", None),
])
def test_errors_say_what_and_where(source, message, column):
    with pytest.raises(RuleSyntaxError) as err:
        compile_(source)
    assert message in err.value.message
    if column is not None:
        assert err.value.column == column


def test_deep_nesting_is_an_error_not_a_crash():
    with pytest.raises(RuleSyntaxError, match="nested too deeply"):
        compile_("not " * 5000 + "vip")
