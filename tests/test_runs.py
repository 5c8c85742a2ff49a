"""Run folders: a stable default per task, resume of an interrupted run, no silent overwrite."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_formtune
from formtune.errors import UsageError
from formtune.runs import claim_run, default_run_dir
from formtune.task import load_task

DATA = Path(__file__).parent / "data"


def finished(run: Path, interrupted: bool = False) -> Path:
    run.mkdir(parents=True, exist_ok=True)
    (run / "train_metrics.json").write_text(json.dumps({"interrupted": interrupted}))
    (run / "metrics.json").write_text("{}")
    return run


def test_default_run_folder_is_stable_per_task():
    task = load_task(DATA / "person.task.yaml")
    assert default_run_dir(task) == Path("runs") / "person" == default_run_dir(task)


def test_interrupted_runs_resume_and_finished_ones_are_kept(tmp_path):
    interrupted = finished(tmp_path / "a", interrupted=True)
    claim_run(interrupted, fresh=False)
    assert (interrupted / "metrics.json").exists()  # nothing removed: training resumes here
    done = finished(tmp_path / "b")
    with pytest.raises(UsageError, match="already holds a finished training run.*--fresh.*--out"):
        claim_run(done, fresh=False)
    claim_run(done, fresh=True)
    assert not done.exists()


def test_train_refuses_to_overwrite_a_finished_run(tmp_path):
    finished(tmp_path / "runs" / "person")
    result = run_formtune("train", str(DATA / "person.task.yaml"), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("ERROR: runs/person already holds a finished training run")
