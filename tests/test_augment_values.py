"""Realistic values from the task file: the ``jsonschema.sampler`` section (field hints, locale)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from formtune.dataset import build_dataset, read_rows
from formtune.errors import TaskError
from formtune.task import load_task

SCHEMA = """{"type": "object", "required": ["supplier", "code", "town", "qty"], "additionalProperties": false,
 "properties": {"supplier": {"type": "string"}, "code": {"type": "string"}, "town": {"type": "string"},
                "qty": {"type": "integer"}, "unit": {"enum": ["kg", "box", "pallet"]}}}"""
TASK = """name: hints
schema: schema.json
instructions: Extract the delivery.
templates:
  - name: t
    text: "{{ output.supplier }} sends {{ output.qty }} to {{ output.town }} ({{ output.code }})"
data: {train: 20, eval: 5}
jsonschema:
  sampler:
    locale: LOCALE
    fields:
      supplier: company
      code: "regex:[A-Z]{2}[0-9]{5}"
      town: HINT
      qty: {min: 3, max: 7}
"""


def _task(tmp_path: Path, town: str = "city", locale: str = "de_DE") -> Path:
    (tmp_path / "schema.json").write_text(SCHEMA)
    (tmp_path / "task.yaml").write_text(TASK.replace("HINT", town).replace("LOCALE", locale))
    return tmp_path / "task.yaml"


def test_field_hints_and_locale_shape_the_values(tmp_path):
    task = load_task(_task(tmp_path))
    build_dataset(task, tmp_path / "data", progress=False)
    rows = read_rows(tmp_path / "data" / "train.jsonl")
    assert all(re.fullmatch(r"[A-Z]{2}[0-9]{5}", r["output"]["code"]) for r in rows)
    assert {r["output"]["qty"] for r in rows} <= {3, 4, 5, 6, 7}
    companies = " ".join(r["output"]["supplier"] for r in rows)
    assert any(form in companies for form in ("GmbH", "AG", "KG", "e.V.", "OHG", "GbR")), companies


@pytest.mark.parametrize(("town", "message"), [
    ("citty", r"hint for 'town': unknown Faker provider 'citty' for locale de_DE; did you mean 'city'"),
    ("'regex:[A-Z'", r"hint for 'town': bad regex '\[A-Z'"),
    ("[]", r"hint for 'town': the list of values is empty"),
])
def test_a_wrong_hint_is_an_error_naming_the_line_and_the_field(tmp_path, town, message):
    path = _task(tmp_path, town)
    line = next(n for n, text in enumerate(path.read_text().splitlines(), start=1) if text.strip().startswith("town:"))
    with pytest.raises(TaskError, match=rf"task.yaml:{line}: jsonschema.sampler.fields: {message}"):
        build_dataset(load_task(path), tmp_path / "data", progress=False)
    assert not (tmp_path / "data" / "train.jsonl").exists()


def test_a_hint_for_a_field_the_schema_lacks_names_it(tmp_path):
    path = _task(tmp_path)
    path.write_text(path.read_text().replace("      town: city\n", "      town: city\n      zip: postcode\n"))
    with pytest.raises(TaskError, match=r"task.yaml:15: jsonschema.sampler.fields: hint for 'zip': the schema has "
                                        r"no such property"):
        build_dataset(load_task(path), tmp_path / "data", progress=False)


def test_an_unknown_locale_is_an_error_at_its_line(tmp_path):
    path = _task(tmp_path, locale="xx_XX")
    with pytest.raises(TaskError, match=r"task.yaml:10: jsonschema.sampler.locale: locale 'xx_XX' is not a Faker locale"):
        build_dataset(load_task(path), tmp_path / "data", progress=False)


def test_a_misspelled_key_of_the_section_is_refused_on_load(tmp_path):
    path = _task(tmp_path)
    path.write_text(path.read_text().replace("    fields:", "    feilds:"))
    with pytest.raises(TaskError, match=r"task.yaml:11: field 'jsonschema.sampler.feilds': Extra inputs are not "
                                        r"permitted; remove it or check its spelling"):
        load_task(path)
