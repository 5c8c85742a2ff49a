"""The dataset store: validated rows, deterministic splits, de-duplication, resume after a kill."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from formtune.dataset import build_dataset, read_rows
from formtune.dataset.store import numbered_rows
from formtune.errors import FormtuneError, UsageError
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

    # flock locks belong to an open file, so a second FolderLock conflicts even in this process.
    with FolderLock(tmp_path):
        assert stat.S_IMODE((tmp_path / LOCK_FILE).stat().st_mode) == 0o644 & ~_umask()
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


def test_the_rejection_log_writes_examples_then_tallies_and_counts_each_once(tmp_path, monkeypatch):
    from collections import Counter

    from formtune.dataset import rejections

    monkeypatch.setattr(rejections, "LIMIT", 3)
    monkeypatch.setattr(rejections, "TALLY_EVERY", 4)
    path = tmp_path / "rejected.jsonl"
    log = rejections.RejectionLog(path, [])
    for index in range(3):  # the first LIMIT rejections, one line each
        log.add("train", "a", index, "invalid")
    log.add("train", "a", 3, "duplicate")
    log.add("train", "a", 4, "invalid")
    for index in range(5):  # another stream: the pending tally of "a" is written first; this one at 4
        log.add("train", "b", index, "duplicate")
    log.add("eval", "a", 7, "invalid")
    log.add("eval", "b", 0, "invalid")
    log.flush()
    log.flush()  # nothing pending: writes nothing
    log.close()
    entries = [json.loads(line) for line in path.read_text().splitlines()]
    assert entries == [
        *({"split": "train", "source": "a", "index": i, "reason": "invalid"} for i in range(3)),
        {"split": "train", "source": "a", "first": 3, "last": 4, "rejected": {"duplicate": 1, "invalid": 1}},
        {"split": "train", "source": "b", "first": 0, "last": 3, "rejected": {"duplicate": 4}},
        {"split": "train", "source": "b", "first": 4, "last": 4, "rejected": {"duplicate": 1}},
        {"split": "eval", "source": "a", "first": 7, "last": 7, "rejected": {"invalid": 1}},
        {"split": "eval", "source": "b", "first": 0, "last": 0, "rejected": {"invalid": 1}},
    ]
    assert log.counts == {"train": Counter(invalid=4, duplicate=6), "eval": Counter(invalid=2)}
    assert log.total() == Counter(invalid=6, duplicate=6)

    # Reopened on its file: the same counts, and each stream resumes after its last recorded candidate.
    again = rejections.RejectionLog(path, entries)
    assert again.counts == log.counts
    assert [again.next_index(*stream) for stream in [("train", "a"), ("train", "b"), ("eval", "a"), ("eval", "b"),
                                                     ("eval", "c")]] == [5, 5, 8, 1, 0]
    again.add("train", "a", 5, "invalid")  # the LIMIT examples are already written: a tally
    again.close()
    assert json.loads(path.read_text().splitlines()[-1]) == \
        {"split": "train", "source": "a", "first": 5, "last": 5, "rejected": {"invalid": 1}}

    # A resume point of one stream drops only that stream's later entries.
    assert rejections.trimmed(entries, "train", "a", 1) == [entries[0], entries[1], *entries[4:]]
    assert rejections.trimmed(entries, "train", "a", 4) == entries
    assert rejections.trimmed(entries, "eval", "a", 6) == [*entries[:6], entries[7]]


def test_a_torn_last_line_is_cut_and_its_line_number_given(tmp_path):
    from formtune.dataset.store import cut_torn_tail

    path = tmp_path / "train.jsonl"
    assert cut_torn_tail(path) is None  # no file
    path.write_bytes(b'{"a": 1}\n{"b": 2}\n')
    assert cut_torn_tail(path) is None and path.read_bytes() == b'{"a": 1}\n{"b": 2}\n'
    path.write_bytes(b'{"a": 1}\n{"b": 2}\n{"c": ')
    assert cut_torn_tail(path) == 3 and path.read_bytes() == b'{"a": 1}\n{"b": 2}\n'
    path.write_bytes(b'{"only": "torn')
    assert cut_torn_tail(path) == 1 and path.read_bytes() == b""
    # A torn row longer than the 64 KiB the tail is searched in per step, after more than the
    # 1 MiB the lines are counted in per step.
    rows = b"".join(b'{"n": %d, "pad": "%s"}\n' % (i, b"x" * 500) for i in range(2500))
    path.write_bytes(rows + b'{"big": "' + b"y" * 200_000)
    assert cut_torn_tail(path) == 2501 and path.read_bytes() == rows
    path.write_bytes(b"\n" + b"z" * (1 << 16))  # the only newline is the first byte, one step back
    assert cut_torn_tail(path) == 2 and path.read_bytes() == b"\n"


def test_the_store_reader_and_writers(tmp_path):
    from formtune.dataset.store import Appender, write_atomically, write_rows_atomically

    path = tmp_path / "rows.jsonl"
    assert read_rows(path) == []
    with pytest.raises(UsageError) as err:
        read_rows(tmp_path)  # there, but not a file
    assert str(err.value) == f"{tmp_path}: cannot read (Is a directory)"
    write_rows_atomically(path, [{"a": "é"}, {"b": [1]}])
    assert path.read_text(encoding="utf-8") == '{"a": "é"}\n{"b": [1]}\n'
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left
    path.write_bytes(b'\n{"a": 1}\n  \n{"b": 2}\n')  # blank lines are skipped, numbers still count them
    assert numbered_rows(path) == [(2, {"a": 1}), (4, {"b": 2})]
    path.write_bytes(b'{"a": 1}\n{broken\n{"b": 2}\n')
    with pytest.raises(UsageError) as err:
        read_rows(path)
    assert str(err.value).startswith(f"{path}:2: not a JSON row: ")  # not the last line: no hint
    path.write_bytes(b'{"a": "\xe9"}\n')
    with pytest.raises(UsageError, match=rf"^{re.escape(str(path))}:1: not UTF-8 text \(byte 8 of the line\)$"):
        read_rows(path)
    with pytest.raises(UsageError, match=r"rows.jsonl:1: a row must be a JSON object, not list$"):
        path.write_text("[1]\n")
        read_rows(path)

    missing = tmp_path / "no" / "such" / "file.json"
    with pytest.raises(FormtuneError) as err:
        write_atomically(missing, "{}")
    assert str(err.value) == (f"cannot write {missing}: No such file or directory; make room (disk space, file-size "
                              "limit) and rerun the same command: the unfinished row is removed and the build continues")
    full = Appender(Path("/dev/full"))  # every write fails as on a full disk
    with pytest.raises(FormtuneError, match=r"^cannot write /dev/full: No space left on device; make room"):
        full.write({"a": 1})
    full.close()
    path.write_text('{"a": 1}\n')
    appender = Appender(path)  # appends, each row written whole
    appender.write({"x": "y" * 100_000})
    appender.close()
    assert read_rows(path) == [{"a": 1}, {"x": "y" * 100_000}]
    fresh = tmp_path / "fresh.jsonl"
    appender = Appender(fresh)
    appender.write({"name": "Zoë"})
    appender.close()
    assert fresh.read_bytes() == '{"name": "Zoë"}\n'.encode()  # UTF-8 as it is, not \u escapes
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o644 & ~_umask()
    with pytest.raises(FormtuneError, match=rf"^cannot write {re.escape(str(missing))}: No such file or directory;"):
        Appender(missing)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
