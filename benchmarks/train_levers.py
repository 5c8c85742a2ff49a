"""What each speed lever of formtune's trainer gives: the same trainer with one lever switched off at a time.

    .venv/bin/python benchmarks/train_levers.py --data DIR [--steps 6] [--rounds 2] [--only NAME ...]

Run it alone on the machine, without ``OMP_WAIT_POLICY=PASSIVE`` (see ``train_throughput.py``): the
levers that remove small operations gain much more with it than without.

Every variant trains the default model on the same demo rows with the demo task's settings
(batch 4) for ``--steps`` optimizer steps, in one process; the first two steps (warm-up: the compiled graphs
are compiled at the first step and again, with the token count symbolic, at the next shape) are
not timed.
The variants run in turn, round after round, so that a shared machine's changing load spreads
over all of them; each line gives the tokens/s of every round and the mean's ratio to "all levers".
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _trl_loss(trainer: Any) -> None:
    from trl import SFTTrainer

    trainer.compute_loss = SFTTrainer.compute_loss.__get__(trainer)


def _sdpa_block_mask(trainer: Any) -> None:
    trainer.model.get_base_model().set_attn_implementation("sdpa")


def _attention_by_flash_kernel(trainer: Any) -> None:
    """The fifth to twelfth sittings' per-row attention: every row through SDPA's flash kernel."""
    from transformers import AttentionInterface

    from formtune import packing

    def flash_form(*args: Any, **kwargs: Any) -> Any:
        saved, packing.MATMUL_ROWS_UP_TO = packing.MATMUL_ROWS_UP_TO, 0
        try:
            return packing.varlen_attention(*args, **kwargs)
        finally:
            packing.MATMUL_ROWS_UP_TO = saved

    AttentionInterface.register(packing.ATTENTION, flash_form)


def _peft_lora_forward(trainer: Any) -> None:
    from formtune import fused_lora

    fused_lora.uninstall(trainer.model)


def _unfused_adamw(trainer: Any) -> None:
    trainer.args.optim = "adamw_torch"


def _eager_norms(trainer: Any) -> None:
    from formtune import compiled

    compiled.uninstall_norms(trainer.model)


def _eager_cross_entropy(trainer: Any) -> Callable[[], None]:
    from formtune import loss

    compiled_form, loss.cross_entropy = loss.cross_entropy, loss._cross_entropy

    def undo() -> None:
        loss.cross_entropy = compiled_form

    return undo


def _every_dim_dynamic(trainer: Any) -> Callable[[], None]:
    """The compiled graphs as they were before the twenty-sixth sitting: every dimension symbolic, the width too."""
    import torch

    from formtune import compiled, loss

    # torch.compile is looked up at each Compiled's first call: the norms of this variant's model, and a new loss
    plain_compile = torch.compile
    torch.compile = lambda fn, **kwargs: plain_compile(fn, **{**kwargs, "dynamic": True})
    compiled_form, loss.cross_entropy = loss.cross_entropy, compiled.Compiled("the loss")(loss._cross_entropy)

    def undo() -> None:
        torch.compile, loss.cross_entropy = plain_compile, compiled_form

    return undo


def _peft_input_casts(trainer: Any) -> None:
    for module in trainer.model.modules():
        if hasattr(module, "cast_input_dtype_enabled"):
            module.cast_input_dtype_enabled = True


#: name -> (TrainConfig overrides, a change to the built trainer, which may return its undo)
VARIANTS: dict[str, tuple[dict[str, Any], Callable[[Any], Callable[[], None] | None] | None]] = {
    "all levers": ({}, None),
    "float32 frozen model (bf16 autocast only)": ({"dtype": "float32"}, None),
    "no bf16 at all": ({"bf16": False}, None),
    "PEFT's input casts back on": ({}, _peft_input_casts),
    "no packing (padded, length-grouped)": ({"packing": False}, None),
    "packing, SDPA with a block-diagonal mask": ({}, _sdpa_block_mask),
    "per-row attention by the flash kernel (not matmuls)": ({}, _attention_by_flash_kernel),
    "PEFT's LoRA forward (not fused)": ({}, _peft_lora_forward),
    "TRL's loss (full head, every position)": ({}, _trl_loss),
    "gradient checkpointing": ({"gradient_checkpointing": True}, None),
    "unfused AdamW": ({}, _unfused_adamw),
    "eager RMSNorms (not compiled)": ({}, _eager_norms),
    "eager cross-entropy (not compiled)": ({}, _eager_cross_entropy),
    "compiled norms and loss, every dimension dynamic": ({}, _every_dim_dynamic),
}


def run(name: str, rows: list[dict], steps: int, work: Path) -> float:
    """Tokens/s of steps 3..``steps`` of one variant."""
    import torch
    import yaml
    from transformers import TrainerCallback

    from formtune.models import load_model
    from formtune.train import _make_trainer, to_prompt_completion
    from formtune.train_config import TrainConfig

    overrides, change = VARIANTS[name]
    training = yaml.safe_load((ROOT / "examples/support-ticket/task.yaml").read_text())["training"]
    config = TrainConfig(**{**training, **overrides, "max_steps": steps, "save_steps": 10**6}).resolved()
    torch.set_num_threads(config.threads)
    torch._dynamo.reset()  # each variant compiles afresh (from the disk cache), in its first two steps
    model, tokenizer = load_model(None, for_training=True, dtype=config.dtype)
    trainer = _make_trainer(model, tokenizer, to_prompt_completion(rows), None, config, work / "ckpt", work / "log")
    undo = change(trainer) if change else None

    marks: list[tuple[float, int]] = []

    class Clock(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):  # noqa: ANN001
            marks.append((time.perf_counter(), state.num_input_tokens_seen))

    trainer.add_callback(Clock())
    try:
        trainer.train()
    finally:
        if undo:
            undo()
    (t0, n0), (t1, n1) = marks[1], marks[-1]
    del trainer, model
    gc.collect()
    return (n1 - n0) / (t1 - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="a dataset folder (formtune generate ... --out DIR)")
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", nargs="+", choices=list(VARIANTS), default=list(VARIANTS),
                        help="these variants ('all levers' is always measured)")
    args = parser.parse_args()

    from formtune.dataset import read_rows

    rows = read_rows(args.data / "train.jsonl")
    work = Path(tempfile.mkdtemp(prefix="formtune-levers-"))
    results: dict[str, list[float]] = {name: [] for name in VARIANTS if name == "all levers" or name in args.only}
    for _ in range(args.rounds):
        for name in results:
            results[name].append(run(name, rows, args.steps, work))
            print(f"  {name}: {results[name][-1]:.0f} tokens/s", flush=True)
    best = sum(results["all levers"]) / args.rounds
    for name, runs in results.items():
        mean = sum(runs) / len(runs)
        print(f"{name:45s} {' / '.join(f'{r:5.0f}' for r in runs)} tokens/s   all levers / this = {best / mean:.2f}x")


if __name__ == "__main__":
    main()
