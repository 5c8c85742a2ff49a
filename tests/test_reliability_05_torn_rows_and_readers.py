"""Case 5: a write that fails midway (here: a file-size limit, as a full disk would) is one ERROR
line, and the rerun removes the unfinished row and finishes a dataset identical to an
uninterrupted build. Readers never skip a row without naming its file and line."""

from __future__ import annotations

import json
import resource
import subprocess
import sys

import pytest
from reliability import assert_one_error_line, person_task

from formtune.dataset import build_dataset, read_rows
from formtune.errors import UsageError
from formtune.evaluate import load_examples
from formtune.task import load_task

LIMIT_BYTES = 9000  # inside the training split: eval.jsonl is ~4 kB, train.jsonl ~14 kB


def _limit_file_size() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT_BYTES, LIMIT_BYTES))


def test_a_failed_write_is_one_error_and_the_rerun_repairs_the_torn_row(tmp_path):
    task_file = person_task(tmp_path)
    out = tmp_path / "out"
    failed = subprocess.run([sys.executable, "-m", "formtune", "generate", str(task_file), "--out", str(out),
                             "--quiet"], capture_output=True, text=True, timeout=300, preexec_fn=_limit_file_size)
    assert failed.returncode == 1
    assert_one_error_line(failed.stderr, f"cannot write {out / 'train.jsonl'}: File too large", "rerun")
    torn = (out / "train.jsonl").read_bytes()
    assert len(torn) == LIMIT_BYTES and not torn.endswith(b"\n"), "the write must stop mid-row"

    summary = build_dataset(load_task(task_file), out, progress=False)
    line = torn.count(b"\n") + 1
    assert f"removed an unfinished row at {out / 'train.jsonl'}:{line}" in summary.notes
    build_dataset(load_task(task_file), tmp_path / "fresh", progress=False)
    for name in ("train.jsonl", "eval.jsonl", "rejected.jsonl"):
        assert (out / name).read_bytes() == (tmp_path / "fresh" / name).read_bytes(), name


def test_eval_data_with_unreadable_rows_is_an_error_naming_file_and_line(tmp_path):
    task = load_task(person_task(tmp_path))
    gold = tmp_path / "gold.jsonl"
    good = json.dumps({"input": "I'm Ada, ada@example.org", "output": {"name": "Ada", "email": "ada@example.org"}})
    gold.write_text(f"{good}\n{{not json\n{good}\n{good[:30]}\n")
    with pytest.raises(UsageError, match=r"gold.jsonl:2: not a JSON row"):
        load_examples(gold, task)
    gold.write_text(f"{good}\n\n{good}\n{good[:30]}")  # blank lines are fine; an unfinished last row is not
    with pytest.raises(UsageError, match=r"gold.jsonl:4: not a JSON row \(an unfinished last row"):
        load_examples(gold, task)
    gold.write_text(f"{good}\n" + json.dumps({"messages": [{"role": "user", "content": "x"},
                                                         {"role": "assistant", "content": "{oops"}]}) + "\n")
    with pytest.raises(UsageError, match=r"gold.jsonl:2: the answer does not parse"):
        load_examples(gold, task)


def test_the_store_reader_names_a_damaged_line(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_bytes(b'{"a": 1}\n[1, 2]\n')
    with pytest.raises(UsageError, match=r"train.jsonl:2: a row must be a JSON object"):
        read_rows(path)
    path.write_bytes(b'{"a": 1}\n{"b": "\xff"}\n')
    with pytest.raises(UsageError, match=r"train.jsonl:2: not UTF-8"):
        read_rows(path)
