"""Case 10: ``validate`` gives every file a result. A file that cannot be read or decoded is
INVALID with the reason; the other files are still checked; exit 1."""

from __future__ import annotations

import json

from reliability import invoke


def test_unreadable_files_are_invalid_and_the_others_are_checked(tmp_path):
    (tmp_path / "s.json").write_text(json.dumps({"type": "object", "required": ["id"]}))
    (tmp_path / "good.json").write_text('{"id": 1}')
    (tmp_path / "latin1.json").write_bytes(b'{"id": "caf\xe9"}')
    (tmp_path / "folder").mkdir()
    files = [tmp_path / n for n in ("latin1.json", "good.json", "missing.json", "folder")]
    result = invoke("validate", "--json", "--schema", tmp_path / "s.json", *files)
    assert result.code == 1 and not result.crashed and result.stderr == ""
    report = json.loads(result.stdout)
    assert [(r["file"], r["valid"]) for r in report] == [(str(f), f.name == "good.json") for f in files]
    assert [r["errors"] for r in report] == [
        [{"path": "", "message": "not UTF-8 text (invalid byte 0xe9 at offset 11)"}],
        [],
        [{"path": "", "message": "cannot read the file (No such file or directory)"}],
        [{"path": "", "message": "cannot read the file (Is a directory)"}],
    ]
