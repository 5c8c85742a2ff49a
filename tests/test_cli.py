"""The data commands of the CLI, run as a user runs them."""

from __future__ import annotations

import json

from conftest import run_formtune

SCHEMA = {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]}


def test_validate_exit_codes_and_json_output(tmp_path):
    schema = tmp_path / "s.json"
    schema.write_text(json.dumps(SCHEMA))
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text('{"id": 1}')
    bad.write_text('```json\n{"id": 1}\n```')
    assert run_formtune("validate", "--schema", str(schema), str(good)).returncode == 0
    result = run_formtune("validate", "--json", "--schema", str(schema), str(good), str(bad))
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert [r["valid"] for r in report] == [True, False]
    assert report[1]["errors"][0]["path"] == "" and "not a single JSON document" in report[1]["errors"][0]["message"]


def test_validate_usage_errors_exit_2(tmp_path):
    schema = tmp_path / "s.json"
    schema.write_text('{"type": "nope"}')
    doc = tmp_path / "d.json"
    doc.write_text("1")
    bad_schema = run_formtune("validate", "--schema", str(schema), str(doc))
    assert bad_schema.returncode == 2 and bad_schema.stderr.startswith("ERROR: ")
    assert run_formtune("validate", "--schema", str(tmp_path / "missing.json"), str(doc)).returncode == 2
    assert run_formtune("validate", str(doc)).returncode == 2


def test_sample_prints_valid_documents(tmp_path):
    schema = tmp_path / "s.json"
    schema.write_text(json.dumps(SCHEMA))
    result = run_formtune("sample", "--schema", str(schema), "-n", "5", "--seed", "3")
    lines = result.stdout.splitlines()
    assert result.returncode == 0 and len(lines) == 5
    assert all(isinstance(json.loads(line)["id"], int) for line in lines)
    assert run_formtune("sample", "--schema", str(schema), "-n", "5", "--seed", "3").stdout == result.stdout


def test_sample_says_why_it_cannot(tmp_path):
    schema = tmp_path / "s.json"
    schema.write_text(json.dumps({"type": "integer", "minimum": 5, "maximum": 1}))
    result = run_formtune("sample", "--schema", str(schema))
    assert result.returncode != 0 and "ERROR:" in result.stderr and "Traceback" not in result.stderr


def test_init_then_generate(tmp_path):
    assert run_formtune("init", "people", "--dir", str(tmp_path / "people")).returncode == 0
    result = run_formtune("generate", str(tmp_path / "people" / "task.yaml"), "--out", str(tmp_path / "data"), "--quiet")
    assert result.returncode == 0, result.stderr
    assert "accepted 60 eval, 300 train" in result.stdout
    rows = [json.loads(line) for line in (tmp_path / "data" / "train.jsonl").read_text().splitlines()]
    assert len(rows) == 300 and {r["provenance"]["template"] for r in rows} == {"intro"}
    again = run_formtune("init", "people", "--dir", str(tmp_path / "people"))
    assert again.returncode == 2 and "already exists" in again.stderr
