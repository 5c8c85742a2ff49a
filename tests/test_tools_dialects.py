"""Tool-call dialects: render -> parse gives the same calls back (property-tested), plain answers
are no calls, broken calls are clear errors, hostile text never crashes, and the decoding
constraint admits exactly what render writes."""

from __future__ import annotations

import keyword
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from formtune_tools.constraint import sequence
from formtune_tools.hermes import HermesDialect
from formtune_tools.jsonlist import JsonListDialect
from formtune_tools.pycalls import PythonCallsDialect
from json_values import ARGUMENT_VALUES

DIALECTS = [HermesDialect(), JsonListDialect(), PythonCallsDialect()]
IDS = [d.name for d in DIALECTS]

identifiers = st.from_regex(r"[a-z_][a-z0-9_]{0,10}", fullmatch=True).filter(lambda s: not keyword.iskeyword(s))
names = st.lists(identifiers, min_size=1, max_size=3).map(".".join)
arguments = st.dictionaries(identifiers, ARGUMENT_VALUES, max_size=4)
calls = st.lists(st.fixed_dictionaries({"name": names, "arguments": arguments}), min_size=1, max_size=4)


@pytest.mark.parametrize("dialect", DIALECTS, ids=IDS)
@settings(max_examples=150, deadline=None)
@given(calls=calls)
def test_render_then_parse_gives_the_calls_back(dialect, calls):
    text = dialect.render(calls)
    assert dialect.parse(text) == calls
    assert dialect.parse("  \n" + text + "\n") == calls
    assert dialect.parse_lenient(text) == calls


@pytest.mark.parametrize("dialect", DIALECTS, ids=IDS)
def test_values_that_look_like_markup_survive(dialect):
    calls = [{"name": "note", "arguments": {"text": "</tool_call> <tool_call> [f(x=1)] ]) \\\" '"}}]
    assert dialect.parse(dialect.render(calls)) == calls


@pytest.mark.parametrize("dialect", DIALECTS, ids=IDS)
def test_plain_text_is_an_answer_not_a_call(dialect):
    for text in ["Sorry, none of my tools can do that.", "Your order ships tomorrow (DHL).", ""]:
        assert dialect.parse(text) is None


@pytest.mark.parametrize("dialect, text, message", [
    (HermesDialect(), '<tool_call>{"name": "f"}</tool_call>', "exactly the keys"),
    (HermesDialect(), 'Sure! <tool_call>{"name": "f", "arguments": {}}</tool_call>', "text outside"),
    (HermesDialect(), '<tool_call>{"name": "f", "arguments": {"a": 1, "a": 2}}</tool_call>', "repeated"),
    (JsonListDialect(), '{"name": "f", "arguments": {}}', "must be a JSON list"),
    (JsonListDialect(), '[{"name": "f", "arguments": []}]', "'arguments' must be an object"),
    (PythonCallsDialect(), "[f(1)]", "positional"),
    (PythonCallsDialect(), "[f(a=open('x'))]", "not a literal"),
    (PythonCallsDialect(), "f(a=1)", "inside a list"),
    (PythonCallsDialect(), "[f(a=x)]", "not a literal"),
])
def test_broken_calls_say_what_is_wrong(dialect, text, message):
    with pytest.raises(ValueError, match=message):
        dialect.parse(text)


def test_lenient_reading_follows_what_bfcl_tolerates():
    python = PythonCallsDialect()
    assert python.parse_lenient("```python\nmath.f(a=1, b=x)\n```") == [{"name": "math.f", "arguments": {"a": 1, "b": "x"}}]
    assert python.parse_lenient("Sure thing.") is None
    assert python.parse_lenient("[math.factorial(5), f(x=2 * y)]") == [{"name": "math.factorial", "arguments": {}},
                                                                     {"name": "f", "arguments": {"x": "2 * y"}}]
    hermes = HermesDialect()
    assert hermes.parse_lenient('Sure! <tool_call>\n{"name": "f", "arguments": {}}') == [{"name": "f", "arguments": {}}]
    assert JsonListDialect().parse_lenient('```json\n{"name": "f", "arguments": {"a": 1}}\n```') == [
        {"name": "f", "arguments": {"a": 1}}]


@pytest.mark.parametrize("dialect", DIALECTS, ids=IDS)
@pytest.mark.parametrize("text", ["[" * 100_000, "<tool_call>" + "[" * 100_000 + "</tool_call>",
                                  "[f(a=" + "[" * 5000 + "]" * 5000 + ")]", "[" + "f(a=1), " * 30_000 + "]",
                                  '<tool_call>{"name": "f", "arguments": ' + "{" * 10_000])
def test_hostile_text_is_rejected_not_crashed(dialect, text):
    try:
        dialect.parse(text)
    except ValueError:
        pass  # a clear error is the expected outcome; anything else fails the test


def test_viable_stops_broken_calls_only():
    hermes = HermesDialect()
    assert hermes.viable("Sorry, I cannot") and hermes.viable("<tool_c") and hermes.viable('<tool_call>\n{"name"')
    assert not hermes.viable("<b>") and not hermes.viable("<tool_call>\n{}\n</tool_call>")
    assert not hermes.viable('<tool_call>\n{"name": "f", "arguments": {}}\n</tool_call> and then')
    json_list = JsonListDialect()
    assert json_list.viable("[{") and json_list.viable("Sure") and not json_list.viable('[] extra')


def test_optional_items_may_be_left_out_anywhere():
    pattern = sequence([("a", False), ("b", True), ("c", False)], ",")
    assert {s for s in ["b", "a,b", "b,c", "a,b,c"] if re.fullmatch(pattern, s)} == {"b", "a,b", "b,c", "a,b,c"}
    assert not any(re.fullmatch(pattern, s) for s in ["", "a", ",b", "a,c", "b,", "c,b"])
    only_optional = sequence([("a", False), ("b", False)], ",")
    assert {s for s in ["", "a", "b", "a,b", "b,a", ","] if re.fullmatch(only_optional, s)} == {"", "a", "b", "a,b"}


def test_signature_listing_is_short_and_keeps_enums_nesting_and_optionality():
    from formtune_tools.dialect import tool_lines

    tool = {"name": "ship", "description": "Quotes shipping.", "parameters": {"type": "object", "properties": {
        "to": {"type": "object", "properties": {"country": {"enum": ["DE", "FR"]}, "zip": {"type": "string"}},
               "required": ["country"]},
        "kg": {"type": "number"}, "tags": {"type": "array", "items": {"type": "string", "format": "date"}}},
        "required": ["to", "kg"]}}
    assert tool_lines([tool], "signatures") == ('ship(to: {country: "DE"|"FR", zip?: string}, kg: number, '
                                                'tags?: [string(date)]) - Quotes shipping.')
    assert HermesDialect().describe_tools([tool], "signatures").startswith("<tools>\nship(to: {")
