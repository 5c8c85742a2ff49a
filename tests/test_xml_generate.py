"""The xml-sampler generator: valid, varied, deterministic documents from XSDs of every supported
construct, realistic values from names, and the dataset builder validating what it makes."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from formtune.check import check
from formtune.dataset import build_dataset, read_rows
from formtune.errors import SamplingError
from formtune.task import load_task
from formtune_xml.value import leaves

FEATURES = """<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:element name="doc">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="email" type="xs:string"/>
        <xs:element name="city" type="xs:token"/>
        <xs:choice>
          <xs:element name="phone" type="phone"/>
          <xs:element name="fax" type="phone"/>
        </xs:choice>
        <xs:element name="opts">
          <xs:complexType><xs:all>
            <xs:element name="flag" type="xs:boolean"/>
            <xs:element name="when" type="xs:dateTime" minOccurs="0"/>
          </xs:all></xs:complexType>
        </xs:element>
        <xs:element name="item" minOccurs="2" maxOccurs="4">
          <xs:complexType>
            <xs:simpleContent>
              <xs:extension base="amount"><xs:attribute name="id" type="xs:ID" use="required"/></xs:extension>
            </xs:simpleContent>
          </xs:complexType>
        </xs:element>
        <xs:element name="ref" type="xs:IDREF"/>
        <xs:element name="code" type="code"/>
        <xs:element name="small" type="small"/>
        <xs:element name="big" type="xs:long"/>
        <xs:element name="ratio" type="xs:double"/>
        <xs:element name="day" type="xs:date"/>
        <xs:element name="at" type="xs:time"/>
        <xs:element name="site" type="xs:anyURI"/>
        <xs:element name="words" type="words"/>
        <xs:element name="either" type="either"/>
        <xs:element name="child" type="node" minOccurs="0"/>
      </xs:sequence>
      <xs:attribute name="kind" use="required">
        <xs:simpleType><xs:restriction base="xs:string">
          <xs:enumeration value="a"/><xs:enumeration value="b"/><xs:enumeration value="c"/>
        </xs:restriction></xs:simpleType>
      </xs:attribute>
      <xs:attribute name="version" type="xs:string" fixed="1.0"/>
      <xs:attribute name="mode" type="xs:string" default="auto"/>
      <xs:attribute name="lang" type="xs:language"/>
    </xs:complexType>
  </xs:element>
  <xs:complexType name="node">
    <xs:sequence><xs:element name="child" type="node" minOccurs="0" maxOccurs="2"/></xs:sequence>
    <xs:attribute name="n" type="xs:nonNegativeInteger"/>
  </xs:complexType>
  <xs:simpleType name="phone"><xs:restriction base="xs:string"><xs:pattern value="\\+[0-9]{2} [0-9]{3}-[0-9]{4}"/></xs:restriction></xs:simpleType>
  <xs:simpleType name="amount"><xs:restriction base="xs:decimal">
    <xs:minExclusive value="0"/><xs:maxInclusive value="99.9"/><xs:totalDigits value="3"/><xs:fractionDigits value="1"/>
  </xs:restriction></xs:simpleType>
  <xs:simpleType name="code"><xs:restriction base="xs:string"><xs:length value="5"/></xs:restriction></xs:simpleType>
  <xs:simpleType name="small"><xs:restriction base="xs:int"><xs:minInclusive value="-5"/><xs:maxExclusive value="5"/></xs:restriction></xs:simpleType>
  <xs:simpleType name="words"><xs:list itemType="xs:NCName"/></xs:simpleType>
  <xs:simpleType name="either"><xs:union memberTypes="xs:gYear xs:boolean"/></xs:simpleType>
</xs:schema>
"""


@pytest.fixture
def features(tmp_path):
    (tmp_path / "features.xsd").write_text(FEATURES)
    (tmp_path / "task.yaml").write_text("name: f\nformat: xml\nschema: features.xsd\ninstructions: x\n")
    return load_task(tmp_path / "task.yaml").check()


def test_every_generated_document_is_valid_and_the_constructs_vary(features):
    seen: Counter[str] = Counter()
    for index in range(40):
        value = features.generator.draft(features, seed=5, index=index).output
        text = features.format.render(value)
        assert check(text, features).valid, text
        doc = value["doc"]
        seen.update(k for k in doc if k.startswith("@") or k in ("phone", "fax", "child"))
        seen[f"items={len(doc['item'])}"] += 1
        seen[f"kind={doc['@kind']}"] += 1
        assert doc.get("@version", "1.0") == "1.0"
        assert doc["ref"] in {item["@id"] for item in doc["item"]}  # IDREF points at an ID
        assert len({item["@id"] for item in doc["item"]}) == len(doc["item"])
        assert re.fullmatch(r"\+\d\d \d{3}-\d{4}", doc.get("phone") or doc.get("fax"))
        assert len(doc["code"]) == 5 and -5 <= int(doc["small"]) < 5
        assert all(0 < float(i["#text"]) <= 99.9 for i in doc["item"])
    assert seen["phone"] and seen["fax"] and seen["child"] and seen["@lang"] and seen["@mode"]
    assert {k for k in seen if k.startswith("items=")} == {"items=2", "items=3", "items=4"}
    assert {k for k in seen if k.startswith("kind=")} == {"kind=a", "kind=b", "kind=c"}


def test_names_give_realistic_values(features):
    doc = features.generator.draft(features, seed=1, index=0).output["doc"]
    assert re.fullmatch(r"[^@\s]+@[^@\s]+\.\w+", doc["email"])
    assert doc["site"].startswith("http")


def test_same_seed_and_index_give_the_same_document(features):
    first = [features.generator.draft(features, seed=9, index=i).output for i in range(5)]
    again = [features.generator.draft(features, seed=9, index=i).output for i in range(5)]
    assert first == again and len({str(v) for v in first}) == 5


def test_target_namespaces_are_declared(tmp_path):
    for form, root in (("qualified", "list"), ("unqualified", "t:list")):
        (tmp_path / "ns.xsd").write_text(
            f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:n" '
            f'elementFormDefault="{form}"><xs:element name="list"><xs:complexType><xs:sequence>'
            '<xs:element name="i" type="xs:int" maxOccurs="3"/></xs:sequence></xs:complexType></xs:element></xs:schema>')
        (tmp_path / "task.yaml").write_text("name: n\nformat: xml\nschema: ns.xsd\ninstructions: x\n")
        task = load_task(tmp_path / "task.yaml").check()
        value = task.generator.draft(task, seed=0, index=0).output
        assert list(value) == [root] and check(task.format.render(value), task).valid


def test_an_unsatisfiable_schema_fails_with_a_clear_error(tmp_path):
    (tmp_path / "s.xsd").write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element name="a"><xs:complexType>'
        '<xs:sequence><xs:any minOccurs="1" processContents="strict"/></xs:sequence></xs:complexType></xs:element></xs:schema>')
    (tmp_path / "task.yaml").write_text("name: n\nformat: xml\nschema: s.xsd\ninstructions: x\n")
    task = load_task(tmp_path / "task.yaml").check()
    with pytest.raises(SamplingError, match="xs:any"):
        task.generator.draft(task, seed=0, index=0)


def test_the_dataset_builder_validates_what_the_generator_makes(tmp_path):
    example = Path(__file__).resolve().parents[1] / "examples" / "invoice-xml" / "task.yaml"
    task = load_task(example)
    task.spec.data.train, task.spec.data.eval = 8, 3
    summary = build_dataset(task, tmp_path / "data", progress=False)
    assert summary.accepted == {"train": 8, "eval": 3}
    rows = read_rows(tmp_path / "data" / "train.jsonl")
    for row in rows:
        assert row["provenance"]["validation"] == "valid" and row["provenance"]["template"] != "dictation"
        answer = row["messages"][-1]["content"]
        assert answer == task.format.render(row["output"]) and check(answer, task).valid
    evals = read_rows(tmp_path / "data" / "eval.jsonl")
    assert {r["provenance"]["template"] for r in evals} == {"dictation"}
    number = evals[0]["output"]["invoice"]["@number"]
    assert number in evals[0]["input"] and ("/invoice/@number", number) in leaves(evals[0]["output"])
