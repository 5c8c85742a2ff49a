"""Constrained decoding for XML: the regex admits exactly render()'s style of valid documents of the
supported subset, refuses wrong ones, and is None outside the subset; outlines accepts it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from formtune.evaluate import Variant, evaluate, load_examples
from formtune.dataset import build_dataset
from formtune.task import load_task
from formtune_xml.constraint import regex_for

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "invoice-xml" / "task.yaml"


@pytest.fixture(scope="module")
def invoice():
    return load_task(EXAMPLE).check()


def test_generated_documents_fullmatch_the_regex(invoice):
    pattern = re.compile(regex_for(invoice))
    for index in range(60):
        text = invoice.format.render(invoice.generator.draft(invoice, seed=4, index=index).output)
        assert pattern.fullmatch(text), text


@pytest.mark.parametrize("change", [
    ('currency="', 'currency="X'),                 # not in the enumeration
    ('sku="', 'sku="a'),                           # pattern
    ("<date>", "<date>x"),                         # lexical form of xs:date
    ("<qty>", "<qty>-"),                           # positiveInteger has no sign
    ("<customer>", " <customer>"),                 # whitespace render never writes
    ("</invoice>", "</invoice>\n"),                # anything after the document
    ("<name>", "<nom>"),                           # wrong element
])
def test_wrong_documents_do_not_match(invoice, change):
    pattern = re.compile(regex_for(invoice))
    text = invoice.format.render(invoice.generator.draft(invoice, seed=4, index=0).output)
    assert not pattern.fullmatch(text.replace(*change, 1))


def test_too_many_repeats_and_missing_required_parts_do_not_match(invoice):
    pattern = re.compile(regex_for(invoice))
    line = '<line sku="ABC-123"><product>pen</product><qty>1</qty><price>2.50</price></line>'
    head = '<invoice number="INV-0001" currency="EUR"><customer><name>Ada</name></customer><date>2024-01-02</date>'
    assert pattern.fullmatch(head + line * 3 + "</invoice>")
    assert not pattern.fullmatch(head + line * 4 + "</invoice>")
    assert not pattern.fullmatch(head + "</invoice>")
    assert not pattern.fullmatch(head + line.replace("<qty>1<", "<qty>21<") + "</invoice>")  # maxInclusive 20
    assert not pattern.fullmatch(head + line.replace("<qty>1<", "<qty>0<") + "</invoice>")  # positiveInteger
    assert not pattern.fullmatch(head.replace(' currency="EUR"', "") + line + "</invoice>")


def _task(tmp_path: Path, schema: str, extra: str = "") -> object:
    (tmp_path / "task.yaml").write_text(f"name: t\nformat: xml\nschema: {schema}\ninstructions: x\n{extra}")
    return load_task(tmp_path / "task.yaml").check()


@pytest.mark.parametrize("body", [
    '<xs:element name="p"><xs:complexType mixed="true"><xs:sequence><xs:element name="b" type="xs:string"/>'
    '</xs:sequence></xs:complexType></xs:element>',
    '<xs:element name="p"><xs:complexType><xs:sequence><xs:any/></xs:sequence></xs:complexType></xs:element>',
    '<xs:element name="p" type="t"/><xs:complexType name="t"><xs:sequence><xs:element name="p" type="t"/>'
    '</xs:sequence></xs:complexType>',
])
def test_outside_the_subset_there_is_no_constraint(tmp_path, body):
    (tmp_path / "s.xsd").write_text(f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">{body}</xs:schema>')
    task = _task(tmp_path, "s.xsd")
    assert task.format.constraint(task) is None


def test_json_schema_tasks_get_a_regex_in_the_mapping_style(tmp_path):
    schema = {"title": "order", "type": "object", "required": ["id", "items"], "properties": {
        "id": {"type": "integer"}, "n": {"type": "integer", "minimum": 1, "maximum": 5}, "state": {"enum": ["open", "done"]}, "note": {"type": ["string", "null"]},
        "items": {"type": "array", "minItems": 1, "maxItems": 3, "items": {
            "type": "object", "required": ["sku"], "properties": {"sku": {"type": "string", "maxLength": 8},
                                                                  "qty": {"type": "number"}}}}}}
    (tmp_path / "order.schema.json").write_text(json.dumps(schema))
    task = _task(tmp_path, "order.schema.json", "xml: {attributes: [sku]}\n")
    pattern = re.compile(regex_for(task))
    for index in range(30):
        text = task.format.render(task.generator.draft(task, seed=1, index=index).output)
        assert pattern.fullmatch(text), text
    assert pattern.fullmatch('<order><id>3</id><state>done</state><items sku="A"><qty>1.5</qty></items></order>')
    assert not pattern.fullmatch('<order><id>3</id><state>closed</state><items sku="A"/></order>')
    assert not pattern.fullmatch('<order><id>x</id><items sku="A"/></order>')
    assert pattern.fullmatch('<order><id>3</id><items sku="A"><qty>-2</qty></items></order>')
    assert pattern.fullmatch('<order><id>3</id><n>5</n><items sku="A"/></order>')
    assert not pattern.fullmatch('<order><id>3</id><n>6</n><items sku="A"/></order>')


def test_constrained_evaluation_runs_through_outlines(invoice, tiny_model, tmp_path):
    task = load_task(EXAMPLE)
    task.spec.data.train, task.spec.data.eval = 1, 2
    build_dataset(task, tmp_path / "data", progress=False)
    variants = [Variant("base+constrained", str(tiny_model), prompt="full", constrained=True)]
    report = evaluate(task, load_examples(tmp_path / "data" / "eval.jsonl", task), variants, tmp_path / "run",
                      batch_size=2, progress=False)
    assert report["variants"]["base+constrained"]["n"] == 2
