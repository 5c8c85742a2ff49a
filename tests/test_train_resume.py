"""Stopping a real training process: SIGKILL mid-run, and Ctrl-C twice (real signals, real subprocesses)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("trl")
pytest.importorskip("peft")

from formtune.train import _latest_checkpoint, complete_checkpoints, train  # noqa: E402
from formtune.train_config import TrainConfig  # noqa: E402

CONFIG = dict(epochs=30, batch_size=2, learning_rate=1e-2, save_steps=3, lora_r=4, lora_alpha=8, threads=1, bf16=False)
ROWS = [
    {"messages": [{"role": "user", "content": f"the person is p{i} aged {20 + i}"},
                  {"role": "assistant", "content": json.dumps({"name": f"p{i}", "age": 20 + i})}]}
    for i in range(6)
]  # fmt: skip
TOTAL_STEPS = 30 * 6 // 2

# The child trains; SLOW_FROM > 0 makes every step from that one on last a second (a window for signals)
# and announces it by writing READY.
CHILD = """
import json, sys, time
from pathlib import Path
import formtune.train as ft
from formtune.train_config import TrainConfig
from transformers import TrainerCallback

model, run, slow_from = sys.argv[1], Path(sys.argv[2]), int(sys.argv[5])
rows, config = json.loads(sys.argv[3]), json.loads(sys.argv[4])

class SlowSteps(TrainerCallback):
    def on_step_begin(self, args, state, control, **kwargs):
        if slow_from and state.global_step >= slow_from:
            (run / "READY").write_text(str(state.global_step))
            time.sleep(1.0)

make = ft._make_trainer
def make_slow(*a, **k):
    trainer = make(*a, **k)
    trainer.add_callback(SlowSteps())
    return trainer
ft._make_trainer = make_slow
result = ft.train(model, rows, None, TrainConfig(**config), run)
print(json.dumps({"interrupted": result.interrupted, **result.metrics}))
"""


def _child(tiny_model: Path, run: Path, slow_from: int = 0) -> subprocess.Popen[str]:
    """Start the child; its output goes to files beside the run (a full pipe would stall it)."""
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    run.parent.mkdir(parents=True, exist_ok=True)
    with (run.parent / "stdout").open("w") as out, (run.parent / "stderr").open("w") as err:
        return subprocess.Popen(
            [sys.executable, "-c", CHILD, str(tiny_model), str(run), json.dumps(ROWS), json.dumps(CONFIG),
             str(slow_from)], stdout=out, stderr=err, text=True, env=env,
        )  # fmt: skip


def _wait_for(condition, proc: subprocess.Popen[str], timeout: float = 240) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            pytest.fail(f"the training process ended early ({proc.returncode})")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("the training process made no progress")
        time.sleep(0.05)


def _complete_checkpoints(run: Path) -> list[int]:
    states = (run / "checkpoints").glob("checkpoint-*/trainer_state.json")
    return sorted(int(p.parent.name.split("-")[1]) for p in states)


def _logged_steps(run: Path) -> list[int]:
    lines = (run / "train_log.jsonl").read_text().splitlines()
    return [json.loads(line)["step"] for line in lines if "loss" in json.loads(line)]


def test_half_written_checkpoints_are_skipped_in_listings_and_deleted_before_resuming(tmp_path: Path) -> None:
    for step, state in [(2, "{}"), (10, "{}"), (5, None), (12, "{")]:  # 5: no state yet; 12: cut off mid-write
        folder = tmp_path / f"checkpoint-{step}"
        folder.mkdir()
        if state is not None:
            (folder / "trainer_state.json").write_text(state)
    (tmp_path / "checkpoint-last").mkdir()  # not a step: ignored
    assert [p.name for p in complete_checkpoints(tmp_path)] == ["checkpoint-2", "checkpoint-10"]  # by step
    assert (tmp_path / "checkpoint-12").is_dir()  # listing deletes nothing (a save may be under way)
    assert _latest_checkpoint(tmp_path) == tmp_path / "checkpoint-10"
    assert not (tmp_path / "checkpoint-12").exists() and (tmp_path / "checkpoint-5").is_dir()
    assert complete_checkpoints(tmp_path / "missing") == [] and _latest_checkpoint(tmp_path / "missing") is None


def test_a_run_killed_with_sigkill_resumes_from_its_checkpoint_and_finishes(tiny_model: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    proc = _child(tiny_model, run)
    _wait_for(lambda: len(_complete_checkpoints(run)) >= 2, proc)
    proc.kill()  # SIGKILL: no handler, no cleanup, possibly in the middle of writing a checkpoint
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert not (run / "train_metrics.json").exists()
    saved = _complete_checkpoints(run)[-1]
    assert 0 < saved < TOTAL_STEPS

    result = train(tiny_model, ROWS, None, TrainConfig(**CONFIG), run)
    assert not result.interrupted
    assert result.metrics["resumed_from_step"] >= saved
    assert result.metrics["global_step"] == TOTAL_STEPS
    assert _logged_steps(run) == list(range(1, TOTAL_STEPS + 1))  # nothing lost, nothing logged twice
    assert (result.adapter_dir / "adapter_model.safetensors").is_file()


def test_a_second_ctrl_c_stops_at_once_and_still_leaves_a_checkpoint(tiny_model: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    proc = _child(tiny_model, run, slow_from=4)
    _wait_for(lambda: (run / "READY").exists(), proc)
    proc.send_signal(signal.SIGINT)  # first Ctrl-C: finish this step, then save and stop ...
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)  # ... second Ctrl-C, while the step is still running: stop now
    proc.wait(timeout=120)
    out, err = (tmp_path / "stdout").read_text(), (tmp_path / "stderr").read_text()
    assert proc.returncode == 0, err[-2000:]
    assert "Ctrl-C again to quit now" in err
    metrics = json.loads(out.strip().splitlines()[-1])
    assert metrics["interrupted"] and metrics["global_step"] == 4  # step 5 never finished
    assert _complete_checkpoints(run)[-1] == 4  # written by the fallback: save_steps=3 made only checkpoint-3
    assert (run / "adapter" / "adapter_model.safetensors").is_file()

    result = train(tiny_model, ROWS, None, TrainConfig(**CONFIG), run)
    assert result.metrics["resumed_from_step"] == 4
    assert result.metrics["global_step"] == TOTAL_STEPS
    assert _logged_steps(run) == list(range(1, TOTAL_STEPS + 1))
