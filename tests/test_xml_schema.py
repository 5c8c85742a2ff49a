"""XML task schemas: XSDs loaded offline, violations with XPath-like paths and kinds, and the
XML rendering of a JSON Schema (mapping both ways, validation through it, prompts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from formtune.check import check
from formtune.errors import TaskError
from formtune.task import load_task
from formtune_xml.mapping import from_xml, to_xml
from formtune_xml.parse import parse_xml
from formtune_xml.value import render_value

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "invoice-xml"
GOOD = ('<invoice number="INV-0001" currency="EUR"><customer><name>Ada</name></customer><date>2024-02-03</date>'
        '<line sku="ABC-123"><product>desk lamp</product><qty>2</qty><price>12.50</price></line></invoice>')
XS = 'xmlns:xs="http://www.w3.org/2001/XMLSchema"'


def make_task(tmp_path: Path, schema: str, extra: str = "") -> object:
    (tmp_path / "task.yaml").write_text(f"name: t\nformat: xml\nschema: {schema}\ninstructions: Write it.\n{extra}")
    return load_task(tmp_path / "task.yaml").check()


@pytest.fixture
def invoice(tmp_path):
    return make_task(tmp_path, str(EXAMPLE / "invoice.xsd"))


def test_a_valid_document_passes(invoice):
    assert check(GOOD, invoice).valid


@pytest.mark.parametrize("change, path, kind", [
    (('currency="EUR"', 'currency="YEN"'), "/invoice/@currency", "xsd:enumeration"),
    (('sku="ABC-123"', 'sku="abc"'), "/invoice/line/@sku", "xsd:pattern"),
    (("<qty>2", "<qty>21"), "/invoice/line/qty", "xsd:maxInclusive"),
    (("<qty>2", "<qty>two"), "/invoice/line/qty", "xsd:type"),
    (("<price>12.50", "<price>12.505"), "/invoice/line/price", "xsd:fractionDigits"),
    ((' number="INV-0001"', ""), "/invoice", "xsd:attribute"),
    (("<date>2024-02-03</date>", ""), "/invoice", "xsd:content"),
    (("<customer>", "<customer><x/>"), "/invoice/customer", "xsd:content"),
])
def test_violations_have_an_xpath_and_a_kind(invoice, change, path, kind):
    violations = check(GOOD.replace(*change), invoice).violations
    assert (violations[0].path, violations[0].kind) == (path, kind)


def test_the_second_repeated_element_is_located(invoice):
    text = GOOD.replace("</line>", '</line><line sku="X"><product>pen</product><qty>1</qty><price>1</price></line>')
    [violation] = check(text, invoice).violations
    assert violation.path == "/invoice/line[2]/@sku"


def test_a_wrong_root_is_reported(invoice):
    assert check("<bill/>", invoice).violations[0].path == "/bill"
    task = make_task(Path(invoice.base_dir), str(EXAMPLE / "invoice.xsd"), "xml: {root: invoice}\n")
    assert check("<invoice/>", task).violations[0].kind != "xsd:root"


def test_inline_xsd_and_the_prompt_shows_the_schema_without_comments(tmp_path):
    xsd = f'<xs:schema {XS}><!-- hidden --><xs:element name="n" type="xs:int"/></xs:schema>'
    task = make_task(tmp_path, "'" + xsd + "'")
    assert check("<n>3</n>", task).valid and not check("<n>x</n>", task).valid
    prompt = task.format.prompt(task)
    assert "XML Schema (XSD)" in prompt and '<xs:element name="n"' in prompt and "hidden" not in prompt


def test_includes_resolve_next_to_the_schema(tmp_path):
    (tmp_path / "types.xsd").write_text(f'<xs:schema {XS}><xs:simpleType name="code"><xs:restriction '
                                        'base="xs:string"><xs:length value="2"/></xs:restriction></xs:simpleType></xs:schema>')
    (tmp_path / "main.xsd").write_text(f'<xs:schema {XS}><xs:include schemaLocation="types.xsd"/>'
                                       '<xs:element name="c" type="code"/></xs:schema>')
    task = make_task(tmp_path, "main.xsd")
    assert check("<c>ab</c>", task).valid and not check("<c>abc</c>", task).valid


@pytest.mark.parametrize("body, message", [
    ('<xs:import namespace="urn:x" schemaLocation="http://127.0.0.1:9/x.xsd"/>', "never fetched"),
    ('<xs:include schemaLocation="../outside.xsd"/>', "sandbox"),
    ('<xs:element name="a" type="nosuchtype"/>', "not a usable XSD"),
    ("", "no global element"),
])
def test_unusable_schemas_stop_the_task_in_one_line(tmp_path, body, message):
    (tmp_path.parent / "outside.xsd").write_text(f"<xs:schema {XS}/>")
    (tmp_path / "s.xsd").write_text(f"<xs:schema {XS}>{body}</xs:schema>")
    with pytest.raises(TaskError, match=message) as info:
        make_task(tmp_path, "s.xsd")
    assert "\n" not in str(info.value) and "task.yaml: schema:" in str(info.value)


def test_the_xml_section_is_checked(tmp_path):
    with pytest.raises(TaskError, match=r"task.yaml:6: field 'xml.rooot'"):
        make_task(tmp_path, str(EXAMPLE / "invoice.xsd"), "xml:\n  rooot: x\n")
    with pytest.raises(TaskError, match="xml.root 'bill' is not a global element"):
        make_task(tmp_path, str(EXAMPLE / "invoice.xsd"), "xml: {root: bill}\n")


# -- a JSON Schema written as XML ------------------------------------------------------------

ORDER = {
    "title": "order", "type": "object", "required": ["id", "items", "paid", "tags"],
    "properties": {
        "id": {"type": "integer"}, "paid": {"type": "boolean"}, "note": {"type": ["string", "null"]},
        "tags": {"type": "array", "items": {"type": "string"}},
        "items": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/item"}},
    },
    "$defs": {"item": {"type": "object", "required": ["sku", "qty"], "additionalProperties": False,
                       "properties": {"sku": {"type": "string", "pattern": "^[A-Z]+$"},
                                      "qty": {"type": "integer", "minimum": 1},
                                      "price": {"type": "number"}}}},
}


def test_mapping_round_trips_through_the_schema():
    value = {"id": 7, "paid": False, "note": None, "tags": [],
             "items": [{"sku": "AB", "qty": 2, "price": 1.5}]}
    xml = to_xml(value, "order", {"sku"})
    assert xml == {"order": {"id": "7", "paid": "false", "items": {"@sku": "AB", "qty": "2", "price": "1.5"}}}
    assert from_xml(parse_xml(render_value(xml)), ORDER) == \
        {"id": 7, "paid": False, "items": [{"sku": "AB", "qty": 2, "price": 1.5}], "tags": []}


@pytest.fixture
def order(tmp_path):
    import json

    (tmp_path / "order.schema.json").write_text(json.dumps(ORDER))
    return make_task(tmp_path, "order.schema.json", "xml: {attributes: [sku]}\n")


def test_json_schema_tasks_validate_through_the_mapping(order):
    assert check('<order><id>7</id><paid>true</paid><items sku="AB"><qty>2</qty></items></order>', order).valid
    bad = check('<order><id>x</id><paid>true</paid><items sku="AB"><qty>2</qty></items>'
                '<items sku="c"><qty>0</qty></items></order>', order).violations
    assert {(v.path, v.kind) for v in bad} == {("/order/id", "schema:type"), ("/order/items[2]/qty", "schema:minimum"),
                                              ("/order/items[2]/sku", "schema:pattern")}
    assert check("<root/>", order).violations[0].kind == "xml:root"


def test_json_schema_tasks_sample_valid_documents_and_describe_the_mapping(order):
    for index in range(15):
        value = order.generator.draft(order, seed=3, index=index).output
        assert check(order.format.render(value), order).valid, value
    prompt = order.format.prompt(order)
    assert "root element <order>" in prompt and "attributes: sku" in prompt and '"$defs"' in prompt


def test_a_failing_xsd11_assertion_is_a_violation_not_a_crash(tmp_path):
    (tmp_path / "s.xsd").write_text(
        f'<xs:schema {XS}><xs:element name="n"><xs:complexType><xs:sequence><xs:element name="a" type="xs:int"/>'
        '</xs:sequence><xs:assert test="10 idiv a ge 1"/></xs:complexType></xs:element></xs:schema>')
    task = make_task(tmp_path, "s.xsd", 'xml: {xsd_version: "1.1"}\n')
    assert check("<n><a>2</a></n>", task).valid
    assert not check("<n><a>20</a></n>", task).valid
    [violation] = check("<n><a>0</a></n>", task).violations
    assert violation.kind == "xsd:invalid" and "Division by zero" in violation.message


@pytest.mark.parametrize("reason, message, expected", [
    (" \n ", None, "invalid"), (None, "", "invalid"), (None, "bad\nmore", "bad"), ("  why  \nmore", "m", "why")])
def test_every_xsd_error_gives_a_one_line_message(reason, message, expected):
    from types import SimpleNamespace

    from formtune_xml.validate import _message

    assert _message(SimpleNamespace(reason=reason, message=message)) == expected
