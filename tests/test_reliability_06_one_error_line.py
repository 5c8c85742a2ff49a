"""Case 6: hostile or broken input gives one ``ERROR:`` line (or, for a checked file, a
violation), never a traceback; a crash never reads as "invalid"."""

from __future__ import annotations

import json

from conftest import run_formtune
from reliability import assert_one_error_line, invoke, person_task

RECURSIVE = {"$defs": {"n": {"type": "array", "items": {"$ref": "#/$defs/n"}}}, "$ref": "#/$defs/n"}


def test_deep_json_is_a_violation_not_a_crash(tmp_path):
    schema = tmp_path / "s.json"
    schema.write_text(json.dumps(RECURSIVE))
    for depth in (300, 100_000):  # 300 parses in Python but overflowed the validator's recursion
        doc = tmp_path / f"deep{depth}.json"
        doc.write_text("[" * depth + "]" * depth)
        result = run_formtune("validate", "--schema", str(schema), str(doc))
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
        assert "INVALID" in result.stdout and "nested deeper than 128 levels" in result.stdout


def test_a_non_utf8_schema_or_task_file_is_one_error_line(tmp_path):
    (tmp_path / "s.json").write_bytes(b'{"type": "object", "description": "caf\xe9"}')
    (tmp_path / "d.json").write_text("{}")
    result = invoke("validate", "--schema", tmp_path / "s.json", tmp_path / "d.json")
    assert result.code == 2 and not result.crashed
    assert_one_error_line(result.stderr, "s.json: not UTF-8 text")
    (tmp_path / "task.yaml").write_bytes(b"name: caf\xe9\n")
    result = invoke("generate", tmp_path / "task.yaml", "--quiet")
    assert result.code == 2 and not result.crashed
    assert_one_error_line(result.stderr, "task.yaml: not UTF-8 text")


def test_validate_dev_zero_ends_at_once_with_a_per_file_result(tmp_path):
    (tmp_path / "s.json").write_text("{}")
    result = run_formtune("validate", "--schema", str(tmp_path / "s.json"), "/dev/zero", timeout=60)
    assert result.returncode == 1 and result.stderr == ""
    assert result.stdout.splitlines() == ["/dev/zero: INVALID", "  /: too large: over 10,000,000 bytes, the limit "
                                          "(--max-bytes)"]


def test_init_into_proc_or_onto_a_file_is_one_error_line(tmp_path):
    (tmp_path / "a-file").write_text("x")
    for folder, fragment in (("/proc/formtune-test", "cannot create the task in /proc/formtune-test"),
                             (tmp_path / "a-file", "a-file is a file")):
        result = invoke("init", "people", "--dir", folder)
        assert result.code == 2 and not result.crashed
        assert_one_error_line(result.stderr, fragment)


def test_generate_out_onto_a_file_is_one_error_line(tmp_path):
    task_file = person_task(tmp_path)
    (tmp_path / "a-file").write_text("x")
    result = invoke("generate", task_file, "--out", tmp_path / "a-file", "--quiet")
    assert result.code == 2 and not result.crashed
    assert_one_error_line(result.stderr, "a-file is a file, not a dataset folder")
    result = invoke("generate", task_file, "--out", "/proc/formtune-test/data", "--quiet")
    assert result.code == 2 and not result.crashed
    assert_one_error_line(result.stderr, "cannot create the dataset folder /proc/formtune-test/data")
