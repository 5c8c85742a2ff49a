"""The dataset store: validated rows, deterministic splits, de-duplication, resume after a kill."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from formtune.dataset import build_dataset, read_rows
from formtune.errors import FormtuneError
from formtune.plugins import build_registry
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


SOMETIMES_WRONG = """
from formtune import Draft, hookimpl


class SometimesWrong:
    \"\"\"Every third output breaks the person schema (age below the minimum).\"\"\"
    name = "sometimes-wrong"

    def draft(self, task, *, seed, index):
        age = 3 if index % 3 == 0 else 30 + index % 50
        return Draft(output={"name": f"P{seed % 997}-{index}", "email": f"p{index}@example.org", "age": age})


@hookimpl
def register_generators(register):
    register(SometimesWrong())
"""


def test_invalid_candidates_never_reach_training(tmp_path):
    shutil.copy(DATA / "person.schema.json", tmp_path)
    (tmp_path / "wrong.py").write_text(SOMETIMES_WRONG)
    task_file = tmp_path / "task.yaml"
    task_file.write_text((DATA / "person.task.yaml").read_text()
                         .replace("data:\n", "data:\n  generator: sometimes-wrong\n"))
    task = load_task(task_file, build_registry([tmp_path / "wrong.py"]))
    summary = build_dataset(task, tmp_path / "out", progress=False)
    assert summary.accepted == {"eval": 10, "train": 40}
    assert summary.rejected == {"invalid: schema:minimum at /age": 5 + 20}  # eval 0..14, train 0..58
    stored = rows(tmp_path / "out", "train") + rows(tmp_path / "out", "eval")
    assert all(r["output"]["age"] >= 18 for r in stored)
    assert [json.loads(line)["index"] for line in (tmp_path / "out" / "rejected.jsonl").read_text().splitlines()] \
        == [*range(0, 15, 3), *range(0, 60, 3)]


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


def test_a_folder_lock_names_its_holder_and_is_released_on_exit(tmp_path):
    import socket

    from formtune.dataset.store import LOCK_FILE, FolderLock
    from formtune.errors import UsageError

    # flock locks belong to an open file, so a second FolderLock conflicts even in this process.
    with FolderLock(tmp_path):
        holder = json.loads((tmp_path / LOCK_FILE).read_text())
        assert holder == {"pid": os.getpid(), "host": socket.gethostname(), "command": " ".join(sys.argv)}
        with pytest.raises(UsageError) as err:
            with FolderLock(tmp_path):
                pass
        assert str(err.value) == (f"{tmp_path} is being written by another formtune (pid {os.getpid()} on "
                                  f"{socket.gethostname()}: {' '.join(sys.argv)}); wait for it to finish or stop it, "
                                  "or write into another folder")
    assert (tmp_path / LOCK_FILE).read_text() == ""  # nothing names a holder that has gone
    with FolderLock(tmp_path):  # released: the next writer gets it
        (tmp_path / LOCK_FILE).write_text("not json")
        with pytest.raises(UsageError, match=r"another formtune \(holder unknown\)"):
            with FolderLock(tmp_path):
                pass
    with pytest.raises(UsageError, match=f"{tmp_path / 'missing'}: cannot create {LOCK_FILE}"):
        with FolderLock(tmp_path / "missing"):
            pass
