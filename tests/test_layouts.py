"""Layouts from the schema: inputs with no template, absent optional fields, field order."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import pytest

from formtune.dataset import build_dataset, read_rows
from formtune.errors import TaskError
from formtune.layouts import KINDS, Layout, SchemaView, absent_fields, drop_optional, labels
from formtune.schema.compile import compile_schema, violations
from formtune.task import load_task

ROOT = Path(__file__).resolve().parents[1]
TICKET_SCHEMA = json.loads((ROOT / "examples" / "support-ticket" / "schema.json").read_text())
EVENT_SCHEMA = json.loads((ROOT / "examples" / "event-registration" / "schema.json").read_text())
TICKET = {"customer": {"name": "Ana Lima", "email": "ana@example.org", "company": "Lima & Co"},
          "category": "shipping", "priority": "high", "order_id": "ORD-123456",
          "items": [{"sku": "ABC-1234", "quantity": 2}, {"sku": "XYZ-9876", "quantity": 12}],
          "refund_requested": True}


def test_labels_come_from_the_name_the_title_and_synonyms():
    assert labels("order_id", {}) == ["order id", "Order id", "order_id", "order ID", "order number", "order no.",
                                      "order #", "order reference"]
    assert labels("refundRequested", {"title": "Refund wanted"})[:5] == [
        "refund requested", "Refund requested", "refundRequested", "Refund wanted"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_layout_writes_every_free_text_value_verbatim(kind):
    """Names, e-mails and identifiers are copied as they are; only dates, numbers, enums and
    booleans are spelled (so the answer can be read back)."""
    view = SchemaView(TICKET_SCHEMA)
    texts = {Layout(view, random.Random(seed)).render(kind, TICKET) for seed in range(30)}
    assert len(texts) > 20
    for text in texts:
        for value in ("Ana Lima", "ana@example.org", "Lima & Co", "ORD-123456", "ABC-1234", "XYZ-9876"):
            assert value in text, (kind, text)


def test_layouts_shuffle_the_field_order():
    view = SchemaView(TICKET_SCHEMA)
    firsts = Counter(Layout(view, random.Random(seed)).render("kv", TICKET).split("\n")[0].split(":")[0]
                     for seed in range(60))
    assert len(firsts) >= 5


def test_absent_optional_fields_are_sometimes_written_as_absent():
    view = SchemaView(TICKET_SCHEMA)
    without = {k: v for k, v in TICKET.items() if k != "order_id"}
    texts = [Layout(view, random.Random(seed)).render("kv", without) for seed in range(100)]
    shown = [t for t in texts if any(w in t.lower() for w in ("order id", "order number", "order no", "order #",
                                                             "order reference", "order_id"))]
    assert 15 <= len(shown) <= 60
    assert all("ORD-" not in t for t in texts)


def test_absent_fields_and_drop_optional_read_required_from_the_schema():
    view = SchemaView(EVENT_SCHEMA)
    output = {"event_code": "EV-0001", "attendee": {"name": "A", "email": "a@example.org"}, "ticket": "vip",
              "days": ["2027-03-01"], "guests": [{"name": "B", "diet": "vegan"}, {"name": "C"}], "invoice": False}
    assert [a.pointer for a in absent_fields(output, view)] == [
        "/attendee/organization", "/workshops", "/guests/1/diet", "/diet", "/notes"]
    validator = compile_schema(EVENT_SCHEMA)
    dropped_all = Counter()
    for seed in range(50):
        smaller, dropped = drop_optional(output, view, random.Random(seed), 0.5)
        assert violations(validator, smaller) == []
        dropped_all.update(dropped)
        assert {"/event_code", "/ticket", "/days", "/invoice", "/attendee/name"}.isdisjoint(dropped)
    assert set(dropped_all) == {"/guests", "/guests/0/diet"}
    assert 10 < dropped_all["/guests"] < 40


def test_a_task_without_templates_gets_every_input_from_layouts(tmp_path):
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps(EVENT_SCHEMA))
    (tmp_path / "task.yaml").write_text("name: no-templates\nschema: schema.json\ninstructions: Extract it.\n"
                                        "data: {train: 30, eval: 10}\n")
    task = load_task(tmp_path / "task.yaml")
    summary = build_dataset(task, tmp_path / "data", progress=False)
    assert summary.accepted == {"eval": 10, "train": 30}
    rows = read_rows(tmp_path / "data" / "train.jsonl") + read_rows(tmp_path / "data" / "eval.jsonl")
    assert Counter(r["provenance"]["layout"] for r in rows).keys() == set(KINDS)
    assert all(r["provenance"]["template"] is None and r["output"]["event_code"] in r["input"] for r in rows)


def test_a_share_of_training_inputs_comes_from_layouts(tmp_path):
    task_file = ROOT / "examples" / "support-ticket" / "task.yaml"
    task = load_task(task_file)
    build_dataset(task, tmp_path / "data", progress=False)
    train = read_rows(tmp_path / "data" / "train.jsonl")
    share = sum("layout" in r["provenance"] for r in train) / len(train)
    assert abs(share - task.spec.data.layouts) < 0.08
    assert not any("layout" in r["provenance"] for r in read_rows(tmp_path / "data" / "eval.jsonl"))


def test_layouts_need_a_json_schema(tmp_path):
    kv = ROOT / "tests" / "fixtures" / "kv_format.py"
    from formtune.plugins import build_registry

    (tmp_path / "task.yaml").write_text("name: kv\nformat: kv\nschema: {required: [name]}\ninstructions: x\n"
                                        "templates: [{name: t, text: 'I am {{ output.name }}'}]\n"
                                        "data: {train: 5, eval: 2, layouts: 0.5}\n")
    task = load_task(tmp_path / "task.yaml", build_registry([kv]))
    with pytest.raises(TaskError, match="layouts and data.absent need a JSON Schema"):
        build_dataset(task, tmp_path / "data", progress=False)
