"""Case 3: one dataset folder has one writer. A second ``generate`` on a folder being written stops
at once with an error naming the holder; rows never appear twice."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from conftest import run_formtune
from reliability import PERSON_TASK, assert_one_error_line, person_task

from formtune.dataset import read_rows


def test_a_second_generate_on_a_busy_folder_is_refused_and_names_the_holder(tmp_path):
    task_file = person_task(tmp_path, PERSON_TASK.replace("train: 40", "train: 3000"))
    out = tmp_path / "out"
    first = subprocess.Popen([sys.executable, "-m", "formtune", "generate", str(task_file), "--out", str(out),
                              "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        train = out / "train.jsonl"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and (not train.exists() or train.stat().st_size < 2000):
            time.sleep(0.05)
        assert first.poll() is None, "the first build must still be running"
        # Paused, the first build surely still holds the folder while the second runs (once, unpaused, it
        # finished its 3000 rows before the second was refused); a stopped process keeps its lock.
        first.send_signal(signal.SIGSTOP)
        second = run_formtune("generate", str(task_file), "--out", str(out), "--quiet", timeout=120)
        assert second.returncode == 2
        assert_one_error_line(second.stderr, f"pid {first.pid}", "generate", "is being written by another formtune")
    finally:
        first.kill()
        first.wait()

    # The lock dies with its holder: the next build resumes and finishes, every row once.
    done = run_formtune("generate", str(task_file), "--out", str(out), "--quiet", timeout=600)
    assert done.returncode == 0, done.stderr
    inputs = [r["input"] for r in read_rows(out / "train.jsonl")]
    assert len(inputs) == 3000 and len(set(inputs)) == 3000
