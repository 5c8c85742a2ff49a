"""Case 12: messages say what is actually wrong."""

from __future__ import annotations

import json
import os

from reliability import assert_one_error_line, invoke


def test_schema_that_is_a_folder_a_fifo_or_missing(tmp_path):
    (tmp_path / "d.json").write_text("{}")
    (tmp_path / "folder").mkdir()
    os.mkfifo(tmp_path / "fifo")
    for schema, fragment in (("folder", "is a folder; give the schema file"),
                             ("fifo", "not a regular file (a pipe or device)"),
                             ("missing.json", "no such file")):
        result = invoke("validate", "--schema", tmp_path / schema, tmp_path / "d.json")
        assert result.code == 2 and not result.crashed
        assert_one_error_line(result.stderr, f"schema {tmp_path / schema}: {fragment}")
        assert "task file" not in result.stderr and "pydantic" not in result.stderr


def test_a_ref_to_a_local_file_that_is_no_schema_says_so_without_quoting_it(tmp_path):
    (tmp_path / "secret.yaml").write_text("token: [unclosed SECRET-4711\n")
    (tmp_path / "s.json").write_text(json.dumps({"$ref": (tmp_path / "secret.yaml").as_uri()}))
    (tmp_path / "d.json").write_text("{}")
    result = invoke("validate", "--schema", tmp_path / "s.json", tmp_path / "d.json")
    assert result.code == 2
    assert_one_error_line(result.stderr, "is not a usable schema file", "secret.yaml: not valid JSON/YAML")
    assert "cannot be resolved offline" not in result.stderr and "SECRET-4711" not in result.stderr


def test_a_relative_ref_under_an_absolute_id_is_found_next_to_the_schema(tmp_path):
    (tmp_path / "s.json").write_text(json.dumps({"$id": "https://example.com/schemas/root.json",
                                                 "properties": {"item": {"$ref": "item.json"}}}))
    (tmp_path / "item.json").write_text(json.dumps({"type": "integer"}))
    (tmp_path / "good.json").write_text('{"item": 1}')
    (tmp_path / "bad.json").write_text('{"item": "one"}')
    result = invoke("validate", "--schema", tmp_path / "s.json", tmp_path / "good.json", tmp_path / "bad.json")
    assert result.code == 1, result.stderr
    assert result.stdout.splitlines()[0].endswith("good.json: valid")
    assert "  /item: 'one' is not of type 'integer'" in result.stdout.splitlines()
    (tmp_path / "item.json").unlink()
    result = invoke("validate", "--schema", tmp_path / "s.json", tmp_path / "good.json")
    assert_one_error_line(result.stderr, "(that is https://example.com/schemas/item.json) has no file:",
                          f"{tmp_path / 'item.json'} does not exist")


def test_a_plugin_that_is_not_installed_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("FORMTUNE_PLUGINS", "nosuch")
    result = invoke("plugins")
    assert result.code == 2 and not result.crashed
    assert_one_error_line(result.stderr, "FORMTUNE_PLUGINS names nosuch, which is not installed")
