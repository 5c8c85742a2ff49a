"""Case 7: no hang on hostile input. A backtracking ``pattern`` is a violation, a huge task file is
refused before it is parsed. (The sampler's hangs are the sampler's own tests.)

Each command runs in a subprocess under a timeout: ten seconds on top of how long a trivial
``validate`` takes on this machine right now, so a slow, busy machine does not fail the test but a
hang does.
"""

from __future__ import annotations

import json

from conftest import run_formtune
from reliability import assert_one_error_line


def test_a_catastrophically_backtracking_pattern_is_not_a_hang(tmp_path, patience):
    schema = {"type": "object", "properties": {"a": {"pattern": "^(a+)+$"}, "b": {"pattern": "^(b|bb)+$"}},
              "patternProperties": {"^(c|cc)+$": {"type": "integer"}}}
    (tmp_path / "s.json").write_text(json.dumps(schema))
    (tmp_path / "d.json").write_text(json.dumps({"a": "a" * 41 + "!", "b": "b" * 60 + "!", "c" * 60 + "!": 1}))
    result = run_formtune("validate", "--schema", str(tmp_path / "s.json"), str(tmp_path / "d.json"),
                          timeout=patience)
    assert result.returncode == 1 and result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].endswith("d.json: INVALID")
    assert "  /a: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!' does not match '^(a+)+$'" in lines
    assert "  /b: matching '^(b|bb)+$' took over 0.5 s on this string (the pattern backtracks catastrophically); " \
           "the value is rejected" in lines
    assert any(line.startswith("  /: matching '^(c|cc)+$' took over 0.5 s") for line in lines)


def test_the_time_limit_reports_a_file_that_takes_too_long(tmp_path, patience):
    # additionalProperties matches keys against patternProperties with Python's own `re`: the
    # per-file time limit is what bounds it.
    schema = {"type": "object", "additionalProperties": False, "patternProperties": {"^(c|cc)+$": {}}}
    (tmp_path / "s.json").write_text(json.dumps(schema))
    (tmp_path / "d.json").write_text(json.dumps({"c" * 60 + "!": 1}))
    result = run_formtune("validate", "--time-limit", "1", "--schema", str(tmp_path / "s.json"),
                          str(tmp_path / "d.json"), timeout=patience)
    assert result.returncode == 1
    assert result.stdout.splitlines()[1:] == ["  /: not checked within 1.0 s, the limit (--time-limit)"]


def test_a_50_mb_task_file_is_refused_before_it_is_parsed(tmp_path, patience):
    task_file = tmp_path / "task.yaml"
    line = "# " + "x" * 97 + "\n"
    task_file.write_text("name: big\n" + line * 500_000)  # 50 MB
    result = run_formtune("generate", str(task_file), "--out", str(tmp_path / "out"), timeout=patience)
    assert result.returncode == 2
    assert_one_error_line(result.stderr, "task.yaml: larger than 2,000,000 bytes, too large for a task file")
