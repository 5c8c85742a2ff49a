"""The XML format: hardened strict parsing, the value shape, render round trips, fields, canonical."""

from __future__ import annotations

import json

import pytest

from formtune_xml.format import XmlFormat
from formtune_xml.parse import MAX_DEPTH, NotXml, parse_xml
from formtune_xml.value import leaves, render_value

FMT = XmlFormat()

INVOICE = ('<invoice number="INV-7" currency="EUR"><customer><name>Ada</name></customer>'
           '<line sku="A-1"><qty>2</qty></line><line sku="B-2"><qty>1</qty></line><note/></invoice>')


def test_value_shape_attributes_text_repeats_and_root():
    assert parse_xml(INVOICE) == {"invoice": {
        "@number": "INV-7", "@currency": "EUR", "customer": {"name": "Ada"},
        "line": [{"@sku": "A-1", "qty": "2"}, {"@sku": "B-2", "qty": "1"}], "note": ""}}
    assert parse_xml('<p lang="en">hi</p>') == {"p": {"@lang": "en", "#text": "hi"}}
    assert parse_xml('<p lang="en"/>') == {"p": {"@lang": "en"}}


def test_value_is_json_serialisable_and_render_gives_the_document_back():
    value = parse_xml(INVOICE)
    assert json.loads(json.dumps(value)) == value
    assert render_value(value) == INVOICE


@pytest.mark.parametrize("text", [
    INVOICE,
    '<a><b>1</b><c/><b>2</b></a>',                      # interleaved names keep their order
    '<p>Hello <b>world</b>, bye</p>',                   # mixed content
    '<c:a xmlns:c="urn:c" c:k="1"><c:b>x</c:b></c:a>',   # prefixes and declarations kept
    '<a t="x&quot;y&#10;z&lt;">1 &lt; 2 &amp; 3 &gt; 0</a>',
    '<a>  spaced  </a>',
])
def test_render_of_parse_is_the_same_document(text):
    value = parse_xml(text)
    assert parse_xml(render_value(value)) == value
    assert render_value(value) == text


def test_interleaved_and_mixed_content_keep_the_exact_sequence():
    assert parse_xml("<a><b>1</b><c/><b>2</b></a>") == {"a": {"#content": [{"b": "1"}, {"c": ""}, {"b": "2"}]}}
    assert parse_xml("<p>Hi <b>you</b>!</p>") == {"p": {"#content": ["Hi ", {"b": "you"}, "!"]}}


def test_what_xsd_ignores_is_dropped():
    text = '<?xml version="1.0" encoding="ISO-8859-1"?>\n<!-- c --><a>\n  <?pi x?><b><![CDATA[<x>]]></b>\n</a>\n'
    assert parse_xml(text) == {"a": {"b": "<x>"}}
    assert render_value(parse_xml(text)) == "<a><b>&lt;x&gt;</b></a>"


def test_a_utf8_bom_is_legal_xml_and_accepted():
    assert FMT.parse("\ufeff<a>1</a>").value == {"a": "1"}


@pytest.mark.parametrize("text, message", [
    ("", "no element"), ("hello", "syntax error"), ("<a>", "no element found"), ("<a/><b/>", "junk after"),
    ("```xml\n<a/>\n```", "not well-formed"), ("<a/> Hope this helps!", "junk after"),
    ('<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>', "DOCTYPE"), ("<a>&undefined;</a>", "undefined entity"),
    ("<a>" * (MAX_DEPTH + 1) + "</a>" * (MAX_DEPTH + 1), "nested deeper"),
    ("<a " + " ".join(f'x{i}="1"' for i in range(1001)) + "/>", "attributes"),
    ("<a>\udcff</a>", "not readable"),
])
def test_strict_parse_rejects_with_a_parse_violation(text, message):
    checked = FMT.parse(text)
    assert not checked.parsed and checked.violations[0].kind == "parse"
    assert message in checked.violations[0].message


def test_lenient_extracts_from_fences_and_prose_and_flags_it():
    checked = FMT.parse("Sure:\n```xml\n<a><b>1</b></a>\n```\nDone.", lenient=True)
    assert checked.parsed and checked.lenient and checked.value == {"a": {"b": "1"}} and not checked.valid
    assert FMT.parse("Here: <a x='1'>t</a> hope it helps", lenient=True).value == {"a": {"@x": "1", "#text": "t"}}
    assert not FMT.parse("no xml here", lenient=True).parsed


def test_fields_are_element_and_attribute_paths():
    assert leaves(parse_xml(INVOICE)) == {
        ("/invoice/@number", "INV-7"), ("/invoice/@currency", "EUR"), ("/invoice/customer/name", "Ada"),
        ("/invoice/line/@sku", "A-1"), ("/invoice/line/qty", "2"),
        ("/invoice/line[2]/@sku", "B-2"), ("/invoice/line[2]/qty", "1"), ("/invoice/note", "")}
    assert leaves(parse_xml("<p>Hi <b>x</b><b>y</b>!</p>")) == {
        ("/p/text()", "Hi"), ("/p/b", "x"), ("/p/b[2]", "y"), ("/p/text()[2]", "!")}


def test_fields_and_canonical_treat_typed_values_like_their_text():
    typed = {"order": {"@id": 7, "paid": True, "total": 12.5}}
    text = {"order": {"@id": "7", "paid": "true", "total": "12.5"}}
    assert FMT.fields(typed) == FMT.fields(text)
    assert FMT.canonical(typed) == FMT.canonical(text)


def test_canonical_ignores_attribute_order_but_not_element_order():
    a = parse_xml('<r x="1" y="2"><a>1</a><b>2</b></r>')
    assert FMT.canonical(a) == FMT.canonical(parse_xml('<r y="2" x="1"><a>1</a><b>2</b></r>'))
    assert FMT.canonical(parse_xml("<r><i>1</i><i>2</i></r>")) != FMT.canonical(parse_xml("<r><i>2</i><i>1</i></r>"))
    assert FMT.canonical(a) != FMT.canonical(parse_xml('<r x="1" y="2"><a>1</a><b>3</b></r>'))


def test_notxml_is_a_valueerror_with_a_position():
    with pytest.raises(NotXml, match="line 2"):
        parse_xml("<a>\n<b></a>")
