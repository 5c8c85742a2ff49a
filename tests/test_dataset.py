"""The dataset store: validated rows, deterministic splits, de-duplication, resume after a kill."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from formtune.dataset import build_dataset, read_rows
from formtune.errors import FormtuneError
from formtune.schema.compile import compile_schema, violations
from formtune.task import load_task

DATA = Path(__file__).parent / "data"


def rows(folder: Path, split: str) -> list[dict]:
    return read_rows(folder / f"{split}.jsonl")


def test_build_writes_validated_conversational_rows(tmp_path):
    task = load_task(DATA / "person.task.yaml")
    summary = build_dataset(task, tmp_path, progress=False)
    assert summary.accepted == {"eval": 10, "train": 40}
    train, evals = rows(tmp_path, "train"), rows(tmp_path, "eval")
    validator = compile_schema(task.schema)
    first = train[0]
    assert [m["role"] for m in first["messages"]] == ["system", "user", "assistant"]
    assert first["provenance"]["source"] == "task-example"
    assert json.loads(first["messages"][2]["content"]) == first["output"]
    for row in train + evals:
        assert violations(validator, row["output"]) == []
    # Whole templates are held out: evaluation wording never appears in training.
    assert {r["provenance"]["template"] for r in evals} == {"card"}
    assert {r["provenance"]["template"] for r in train} <= {"intro", None}
    assert not {r["input"] for r in train} & {r["input"] for r in evals}


def test_build_is_deterministic_and_rerun_is_a_no_op(tmp_path):
    task = load_task(DATA / "person.task.yaml")
    build_dataset(task, tmp_path / "a", progress=False)
    build_dataset(task, tmp_path / "b", progress=False)
    assert (tmp_path / "a" / "train.jsonl").read_text() == (tmp_path / "b" / "train.jsonl").read_text()
    before = (tmp_path / "a" / "train.jsonl").read_text()
    summary = build_dataset(task, tmp_path / "a", progress=False)
    assert summary.resumed == {"eval": 10, "train": 40}
    assert (tmp_path / "a" / "train.jsonl").read_text() == before


def test_invalid_candidates_never_reach_training(tmp_path):
    shutil.copy(DATA / "person.schema.json", tmp_path)
    task_file = tmp_path / "task.yaml"
    # The hand-written example breaks the schema (age below the minimum); a template misspells a
    # field it only uses when the optional age is present.
    task_file.write_text((DATA / "person.task.yaml").read_text().replace("age: 36}", "age: 3}")
                         .replace(", {{ output.age }} years", ", {{ output.agee }} years"))
    summary = build_dataset(load_task(task_file), tmp_path / "out", progress=False)
    assert summary.accepted["train"] == 40
    assert summary.rejected["invalid: schema:minimum at /age"] == 1
    assert any(reason.startswith("template intro:") for reason in summary.rejected)
    assert all(r["provenance"]["source"] == "synthetic" for r in rows(tmp_path / "out", "train"))


def test_duplicate_inputs_are_dropped(tmp_path):
    task_file = tmp_path / "task.yaml"
    task_file.write_text("name: tiny\nschema: {type: object, properties: {n: {enum: [1, 2, 3]}}, required: [n], "
                         "additionalProperties: false}\ninstructions: x\n"
                         "templates: [{name: t, text: 'n is {{ output.n }}'}]\ndata: {train: 3, eval: 0}\n")
    build_dataset(load_task(task_file), tmp_path / "out", progress=False)
    assert sorted(r["input"] for r in rows(tmp_path / "out", "train")) == ["n is 1", "n is 2", "n is 3"]

    # A template that ignores the output can never make a second distinct input.
    task_file.write_text(task_file.read_text().replace("n is {{ output.n }}", "always the same")
                         .replace("train: 3, eval: 0", "train: 1, eval: 1"))
    with pytest.raises(FormtuneError, match=r"train: only 0 of 1 examples .* duplicate input"):
        build_dataset(load_task(task_file), tmp_path / "out2", progress=False)
    assert rows(tmp_path / "out2", "train") == [] and len(rows(tmp_path / "out2", "eval")) == 1


def test_a_killed_build_resumes_where_it_stopped(tmp_path):
    shutil.copy(DATA / "person.schema.json", tmp_path)
    task_file = tmp_path / "task.yaml"
    task_file.write_text((DATA / "person.task.yaml").read_text().replace("train: 40", "train: 3000"))
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "formtune", "generate", str(task_file), "--out", str(out),
                             "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    train = out / "train.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not train.exists() or len(train.read_bytes().splitlines()) < 50):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    kept = len(rows(out, "train"))
    assert 50 <= kept < 3000, "the build must be killed mid-run"

    summary = build_dataset(load_task(task_file), out, progress=False)
    assert summary.resumed["train"] == kept
    assert summary.accepted == {"eval": 10, "train": 3000}
    resumed = rows(out, "train")
    assert len(resumed) == 3000 and len({r["input"] for r in resumed}) == 3000

    # The resumed dataset is the one an uninterrupted build makes.
    fresh = tmp_path / "fresh"
    build_dataset(load_task(task_file), fresh, progress=False)
    assert [r["input"] for r in rows(fresh, "train")] == [r["input"] for r in resumed]
