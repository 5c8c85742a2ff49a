"""What the shared trainer adds to each run of TRL's loop: a progress bar that shows the loss, a
JSON line per logged step (``train_log.jsonl``), and a clean stop on Ctrl-C (a checkpoint and the
adapter are saved after the current step; a second Ctrl-C quits at once)."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Any


def callbacks(log_path: Path, stop: GracefulStop) -> list[Any]:
    """The trainer callbacks of one run: log lines to ``log_path``, the loss in the progress bar,
    and a save-and-stop once ``stop`` is requested."""
    from transformers import TrainerCallback
    from transformers.trainer_callback import ProgressCallback

    class LossInProgressBar(ProgressCallback):
        """The usual progress bar, with the loss beside it instead of a printed dict per step."""

        def on_log(self, args, state, control, logs=None, **kwargs):  # noqa: ANN001
            if self.training_bar is not None and logs and "loss" in logs:
                self.training_bar.set_postfix(loss=f"{float(logs['loss']):.4f}", refresh=False)

    class JsonlLog(TrainerCallback):
        """Append each log event (loss per step, eval loss ...) to train_log.jsonl."""

        def on_log(self, args, state, control, logs=None, **kwargs):  # noqa: ANN001
            if not logs:
                return
            record = {"step": state.global_step, "epoch": round(state.epoch or 0.0, 4), "time": round(time.time(), 3)}
            record.update({k: (round(v, 6) if isinstance(v, float) else v) for k, v in logs.items()})
            with log_path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(record) + "\n")

    class StopOnSignal(TrainerCallback):
        """After a Ctrl-C: save a checkpoint at the end of this step, then stop."""

        def on_step_end(self, args, state, control, **kwargs):  # noqa: ANN001
            if stop.requested:
                control.should_save = True
                control.should_training_stop = True
            return control

    return [JsonlLog(), StopOnSignal(), LossInProgressBar()]


class GracefulStop:
    """First SIGINT sets a flag (the trainer stops cleanly); the second raises KeyboardInterrupt."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None

    def __enter__(self) -> GracefulStop:
        try:
            self._previous = signal.signal(signal.SIGINT, self._handle)
        except ValueError:  # not the main thread: plain KeyboardInterrupt handling applies
            self._previous = None
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        try:
            from formtune.models import _say

            _say("stopping after this step (checkpoint + adapter are saved); Ctrl-C again to quit now")
        except Exception:  # pragma: no cover
            pass

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
