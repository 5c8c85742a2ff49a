"""Case 2: after fixing a broken schema or template, rerunning on the same folder works (old
rejections of the broken task no longer use up the attempt budget)."""

from __future__ import annotations

import json

from reliability import PERSON_TASK, invoke, person_task

BROKEN = PERSON_TASK.replace("I'm {{ output.name }}", "I'm {{ output.nmae }}")


def test_rerun_after_fixing_the_template_succeeds(tmp_path):
    task_file = person_task(tmp_path, BROKEN)
    out = tmp_path / "out"
    assert invoke("generate", task_file, "--out", out, "--quiet").code == 2
    task_file.write_text(PERSON_TASK)
    fixed = invoke("generate", task_file, "--out", out, "--quiet")
    assert fixed.code == 0, fixed.stderr
    assert "accepted 10 eval, 40 train" in fixed.stdout


def test_a_folder_with_only_rejections_of_an_older_task_starts_over(tmp_path):
    # What main left behind after a broken build: rejections only, every index of the budget used.
    task_file = person_task(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "train.jsonl").write_text("")
    (out / "eval.jsonl").write_text("")
    (out / "rejected.jsonl").write_text("".join(
        json.dumps({"split": split, "source": "synthetic", "index": i, "reason": "template intro: 'nmae'"}) + "\n"
        for split, n in (("eval", 200), ("train", 800)) for i in range(n)))
    result = invoke("generate", task_file, "--out", out, "--quiet")
    assert result.code == 0, result.stderr
    assert "accepted 10 eval, 40 train" in result.stdout and "note: started over" in result.stdout
    assert "nmae" not in (out / "rejected.jsonl").read_text()
