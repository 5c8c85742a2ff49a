"""Case 9: holding out every template leaves nothing to write training inputs: an error, not a
dataset whose evaluation wording silently leaks into training."""

from __future__ import annotations

from reliability import PERSON_TASK, assert_one_error_line, invoke, person_task


def test_holding_out_every_template_is_a_task_error(tmp_path):
    task_file = person_task(tmp_path, PERSON_TASK.replace("holdout_templates: [card]",
                                                          "holdout_templates: [card, intro]"))
    result = invoke("generate", task_file, "--out", tmp_path / "out", "--quiet")
    assert result.code == 2 and not result.crashed
    assert_one_error_line(result.stderr, "data.holdout_templates: every template is held out",
                          "keep at least one template for training")
    assert not (tmp_path / "out").exists()
