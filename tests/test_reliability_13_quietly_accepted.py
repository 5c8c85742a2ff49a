"""Case 13: nothing wrong is accepted quietly: repeated keys, numbers beyond a double, and a wrong
hand-written example (exit 2, not a dropped row and exit 0)."""

from __future__ import annotations

from reliability import PERSON_TASK, assert_one_error_line, invoke, person_task


def test_repeated_keys_and_1e400_are_invalid(tmp_path):
    (tmp_path / "s.json").write_text("{}")
    (tmp_path / "dup.json").write_text('{"a": 1, "a": 2}')
    (tmp_path / "huge.json").write_text('{"a": 1e400}')
    result = invoke("validate", "--schema", tmp_path / "s.json", tmp_path / "dup.json", tmp_path / "huge.json")
    assert result.code == 1
    assert result.stdout.splitlines() == [
        f"{tmp_path / 'dup.json'}: INVALID", "  /: not a single JSON document: key 'a' is repeated in one object",
        f"{tmp_path / 'huge.json'}: INVALID", "  /: not a single JSON document: number 1e400 is too large",
    ]


def test_a_wrong_hand_written_example_is_a_task_error(tmp_path):
    task_file = person_task(tmp_path, PERSON_TASK.replace("age: 36}", "age: 3}"))
    result = invoke("generate", task_file, "--out", tmp_path / "out", "--quiet")
    assert result.code == 2 and not result.crashed
    assert_one_error_line(result.stderr, "task.yaml: examples[0]: the output breaks the task at /age: "
                          "3 is less than the minimum of 18; fix the example")
    assert not (tmp_path / "out").exists()
