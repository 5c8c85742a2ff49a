"""How far bf16 training's LoRA gradients are from float32's, for one batch, on this machine.

    python benchmarks/bf16_gradients.py DATA [ROWS] [--rank R] [--adapter DIR] [--skip N] [--save FILE.pt]

One batch of ``ROWS`` (16) training rows of the dataset folder ``DATA`` goes through formtune's own
trainer path (``train._make_trainer``: packing, the fused LoRA layers, ``compute_loss`` under the
trainer's autocast) twice, with the frozen model in float32 and then in bf16, from the same
adapter weights: random (``lora_B`` nonzero so that ``lora_A`` has gradients too, drawn on the CPU
so that every machine starts from the same ones), or a trained adapter's (``--adapter``, a run's
``adapter`` or checkpoint folder, to see the error late in training).  ``--skip`` starts the batch
that many rows into the dataset.  It prints the relative error of the bf16
gradients per adapted module, and overall with the cosine.  ``--save`` keeps both gradients of a
few modules to compare machines (the CPU against a GPU, RESULTS.md "(h)").
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

import torch

from formtune.loss import IGNORE
from formtune.models import load_model, resolve_model
from formtune.train import _make_trainer, to_prompt_completion
from formtune.train_config import TrainConfig


def gradients(rows: list, rank: int, bf16: bool, adapter: Path | None) -> tuple[float, dict[str, torch.Tensor]]:
    """``(loss, {parameter name: gradient})`` of one batch, float32 or bf16 (formtune's settings)."""
    config = TrainConfig(batch_size=len(rows), lora_r=rank, lora_alpha=2 * rank, bf16=bf16,
                         dtype="bfloat16" if bf16 else "float32").resolved()
    model, tokenizer = load_model(resolve_model(None), for_training=True, dtype=config.dtype)
    with tempfile.TemporaryDirectory() as tmp:  # the trainer's output folder; nothing is saved there
        folder = Path(tmp)
        trainer = _make_trainer(model, tokenizer, rows, None, config, folder / "checkpoints", folder / "log.jsonl")
        return _one_step(trainer, adapter)


def _one_step(trainer: Any, adapter: Path | None) -> tuple[float, dict[str, torch.Tensor]]:
    """Set the adapter weights (a trained adapter's, or random), then one forward and backward pass."""
    if adapter is not None:
        from peft import set_peft_model_state_dict
        from safetensors.torch import load_file

        set_peft_model_state_dict(trainer.model, load_file(adapter / "adapter_model.safetensors"))
    else:
        draw = torch.Generator().manual_seed(1)
        with torch.no_grad():
            for name, p in trainer.model.named_parameters():
                if p.requires_grad:
                    scale = 0.02 if "lora_B" in name else 0.05
                    p.copy_((torch.randn(p.shape, generator=draw) * scale).to(p.device, p.dtype))
    batch = next(iter(trainer.get_train_dataloader()))
    batch = {k: v.to(trainer.model.device) if hasattr(v, "to") else v for k, v in batch.items()}
    trainer.model.train()
    loss = trainer.compute_loss(trainer.model, batch, num_items_in_batch=(batch["labels"][:, 1:] != IGNORE).sum())
    loss.backward()
    grads = {k: p.grad.detach().float().cpu() for k, p in trainer.model.named_parameters() if p.requires_grad}
    return loss.item(), grads


def relative(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a.double() - b.double()).norm() / b.double().norm()).item()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("rows", type=int, nargs="?", default=16)
    parser.add_argument("--rank", type=int, default=64)
    parser.add_argument("--adapter", type=Path)
    parser.add_argument("--skip", type=int, default=0)
    parser.add_argument("--save", type=Path)
    args = parser.parse_args()
    with (args.data / "train.jsonl").open(encoding="utf-8") as f:
        lines = [line for i, line in zip(range(args.skip + args.rows), f) if i >= args.skip]
    rows = to_prompt_completion([json.loads(line) for line in lines])
    (loss32, g32), (loss16, g16) = (gradients(rows, args.rank, bf16, args.adapter) for bf16 in (False, True))
    print(f"device {'cuda' if torch.cuda.is_available() else 'cpu'}, torch {torch.__version__}")
    by_module: dict[str, list[float]] = {}
    for name in g32:
        module = name.split(".")[-4] + (".A" if "lora_A" in name else ".B")  # ...q_proj.lora_A.default.weight
        by_module.setdefault(module, []).append(relative(g16[name], g32[name]))
    for module, errors in sorted(by_module.items()):
        print(f"{module:12} relative error mean {sum(errors) / len(errors):.4f} max {max(errors):.4f}")
    flat32, flat16 = (torch.cat([g.flatten() for g in grads.values()]).double() for grads in (g32, g16))
    cosine = torch.nn.functional.cosine_similarity(flat16, flat32, 0).item()
    print(f"all: relative error {relative(flat16, flat32):.4f}, cosine {cosine:.6f}, "
          f"loss float32 {loss32:.5f} bf16 {loss16:.5f}")
    if args.save:
        keep = [k for k in g32 if "q_proj" in k and any(f"layers.{i}." in k for i in (0, 15, 29))]
        torch.save({"float32": {k: g32[k] for k in keep}, "bf16": {k: g16[k] for k in keep}}, args.save)


if __name__ == "__main__":
    main()
