"""Case 8: ``init`` accepts exactly the names its task files accept, and writes only where the
user pointed (``""`` or ``../../x`` as a name is refused, saying what is allowed)."""

from __future__ import annotations

import pytest
from reliability import assert_one_error_line, invoke

from formtune.task import load_task


@pytest.mark.parametrize("name", ["my task", "#x", "a: b", "", "../../x", ".hidden", "x/y"])
def test_a_name_the_task_format_rejects_is_refused_and_nothing_is_written(tmp_path, monkeypatch, name):
    work = tmp_path / "work" / "here"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    result = invoke("init", name)
    assert result.code == 2 and not result.crashed
    assert_one_error_line(result.stderr, f"task name {name!r} is not allowed",
                          "letters, digits, '.', '_' and '-', starting with a letter or digit")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["here", "work"]


@pytest.mark.parametrize("name", ["people", "123", "true", "null", "a.b_c-1"])
def test_every_name_init_accepts_loads_back(tmp_path, name):
    result = invoke("init", name, "--dir", tmp_path / "t")
    assert result.code == 0, result.stderr
    assert load_task(tmp_path / "t" / "task.yaml").name == name


def test_an_empty_dir_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("init", "people", "--dir", "")
    assert result.code == 2
    assert_one_error_line(result.stderr, "--dir is empty; give a folder (use '.' for the current one)")
    assert list(tmp_path.iterdir()) == []
