"""Case 11: ``--lenient`` says which documents are only valid once extracted from fences or
prose, in text and in ``--json`` (``lenient_valid``); they are still not valid (exit 1)."""

from __future__ import annotations

import json

from reliability import invoke


def test_lenient_validity_is_visible_in_text_and_json(tmp_path):
    (tmp_path / "s.json").write_text(json.dumps({"type": "object", "required": ["id"]}))
    (tmp_path / "fenced.txt").write_text('Sure!\n```json\n{"id": 1}\n```')
    (tmp_path / "wrong.txt").write_text('```json\n{"name": 1}\n```')
    (tmp_path / "good.json").write_text('{"id": 1}')
    files = [tmp_path / n for n in ("fenced.txt", "wrong.txt", "good.json")]

    text = invoke("validate", "--lenient", "--schema", tmp_path / "s.json", *files)
    assert text.code == 1
    assert text.stdout.splitlines() == [
        f"{files[0]}: LENIENT-VALID (found in fences or prose; not valid)",
        f"{files[1]}: INVALID", "  /: 'id' is a required property",
        f"{files[2]}: valid",
    ]
    report = json.loads(invoke("validate", "--json", "--lenient", "--schema", tmp_path / "s.json", *files).stdout)
    assert [(r["valid"], r["lenient_valid"]) for r in report] == [(False, True), (False, False), (True, True)]
    strict = json.loads(invoke("validate", "--json", "--schema", tmp_path / "s.json", *files).stdout)
    assert [(r["valid"], r["lenient_valid"]) for r in strict] == [(False, False), (False, False), (True, True)]


def test_exit_codes_are_documented_in_help():
    text = invoke("validate", "--help").stdout
    assert "Exit codes:" in text and "0  every file is valid" in text and "2  usage error" in text
    assert "Exit codes:" in invoke("generate", "--help").stdout
