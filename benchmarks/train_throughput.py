"""Training throughput: plain TRL vs formtune's trainer, same model, same rows, same tokens, one process.

    .venv/bin/python benchmarks/train_throughput.py            # the demo's 300 rows
    .venv/bin/python benchmarks/train_throughput.py --rows 64 --no-quality   # quick

Run it alone on the machine, without ``OMP_WAIT_POLICY=PASSIVE``: that setting (which keeps two torch
jobs from slowing each other down) puts OpenMP's threads to sleep between operations, and the
wake-ups made a training step of small operations 1.5-1.7x slower (``benchmarks/RESULTS.md``).

Both arms fine-tune the default model (SmolLM2-135M-Instruct) with LoRA on the demo's training set
(``formtune generate examples/support-ticket/task.yaml``), with the task's learning rate, batch
size and epochs, so both see the same tokens in the same optimizer steps:

(a) plain TRL: ``SFTTrainer`` + ``SFTConfig`` with TRL's own defaults for everything else
    (bf16, gradient checkpointing, padded batches, loss over every token of the conversational
    rows), LoRA through ``peft_config`` with formtune's rank and modules;
(b) formtune: ``formtune.train.train`` with the task's ``training:`` block, as ``formtune train`` runs it.

For each arm it prints real (non-padding) tokens/s of the training loop, the peak memory (process
RSS on a CPU, allocated memory on CUDA), the final logged training loss (note: plain TRL's is over
every token, formtune's over the answer only), and, unless ``--no-quality``, the held-out rate of
schema-valid answers and the field F1 (greedy decoding of the eval rows with the tuned adapter).
The bf16 matmul throughput is measured before, between and after the arms on the model's own
shapes; the ceiling is ``GFLOP/s * 1e9 / (4 * parameters)`` tokens/s (a LoRA step: forward and the
input gradients, no weight gradients for the frozen base).  formtune runs twice (before and after
plain TRL) so that drift in a shared machine's load shows; its tokens/s is the mean of the two.
The last two lines are ``roofline: <fraction of the ceiling reached by formtune>`` and
``speedup: <formtune tokens/s / plain TRL tokens/s>``.  Runs unchanged on CUDA.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TASK = ROOT / "examples" / "support-ticket" / "task.yaml"
SCHEMA = ROOT / "examples" / "support-ticket" / "schema.json"


# --------------------------------------------------------------------------------------------
# measurements


def matmul_gflops(device: str, tokens: int, seconds: float = 1.0) -> float:
    """bf16 matmul throughput on the 135M model's linear shapes, ``tokens`` rows at a time."""
    import torch

    hidden, inner, kv = 576, 1536, 192
    shapes = [(hidden, hidden), (hidden, kv), (hidden, inner), (inner, hidden)]
    mats = [(torch.randn(tokens, k, dtype=torch.bfloat16, device=device),
             torch.randn(k, n, dtype=torch.bfloat16, device=device)) for k, n in shapes]  # fmt: skip
    flops_per_round = sum(2 * tokens * k * n for k, n in shapes)
    for a, b in mats:  # warm-up
        a @ b
    rounds, began = 0, time.perf_counter()
    while time.perf_counter() - began < seconds:
        for a, b in mats:
            a @ b
        rounds += 1
    if device == "cuda":
        torch.cuda.synchronize()
    return flops_per_round * rounds / (time.perf_counter() - began) / 1e9


class PeakMemory:
    """Peak memory inside a ``with`` block: CUDA's allocator peak, or the process's RSS high-water mark.

    On Linux the RSS high-water mark (VmHWM) is reset to the current RSS by writing 5 to
    /proc/self/clear_refs, so each arm gets its own peak.
    """

    def __init__(self, device: str) -> None:
        self.device, self.peak_gib = device, float("nan")

    def __enter__(self) -> PeakMemory:
        if self.device == "cuda":
            import torch

            torch.cuda.reset_peak_memory_stats()
        else:
            try:
                Path("/proc/self/clear_refs").write_text("5")
            except OSError:
                pass
        return self

    def __exit__(self, *exc: object) -> None:
        if self.device == "cuda":
            import torch

            self.peak_gib = torch.cuda.max_memory_allocated() / 2**30
            return
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                self.peak_gib = int(line.split()[1]) / 2**20


# --------------------------------------------------------------------------------------------
# the arms


def plain_trl(rows: list[dict], training: dict[str, Any], lora: dict[str, Any], out: Path,
              where: str, seed: int) -> dict[str, Any]:
    """(a) ``SFTTrainer`` as a user writes it: conversational rows, LoRA via ``peft_config``, TRL defaults.

    On a CPU a user must pass ``use_cpu=True`` (transformers refuses bf16 without it).
    """
    from datasets import Dataset
    from peft import LoraConfig
    from trl import SFTConfig, SFTTrainer

    from formtune.models import load_model

    model, tokenizer = load_model(None, for_training=True)
    trainer = SFTTrainer(
        model=model,
        processing_class=tokenizer,
        train_dataset=Dataset.from_list([{"messages": r["messages"]} for r in rows]),
        args=SFTConfig(output_dir=str(out / "checkpoints"), report_to="none", save_strategy="no", seed=seed,
                       use_cpu=where == "cpu", num_train_epochs=training["epochs"],
                       learning_rate=training["learning_rate"], per_device_train_batch_size=training["batch_size"]),
        peft_config=LoraConfig(task_type="CAUSAL_LM", **lora),
    )
    output = trainer.train()
    trainer.save_model(str(out / "adapter"))
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]  # TRL logs every 10 steps
    loss = losses[-1] if losses else output.metrics["train_loss"]
    result = {"seconds": output.metrics["train_runtime"], "loss": loss, "adapter": out / "adapter"}
    del trainer, model
    gc.collect()
    return result


def formtune_arm(rows: list[dict], training: dict[str, Any], out: Path, seed: int) -> dict[str, Any]:
    """(b) formtune's trainer with the task's settings, exactly as ``formtune train`` runs it."""
    from formtune.train import train
    from formtune.train_config import TrainConfig

    result = train(None, rows, None, TrainConfig(**training, save_steps=10**6, resume=False, seed=seed), out)
    gc.collect()
    return {"seconds": result.metrics["train_runtime_s"], "loss": result.metrics["last_loss"],
            "adapter": result.adapter_dir}  # fmt: skip


# --------------------------------------------------------------------------------------------
# held-out quality


def leaves(value: Any, pointer: str = "") -> set[tuple[str, str]]:
    """``(JSON pointer, JSON value)`` of every leaf: ``{"a": {"b": 1}}`` -> ``{("/a/b", "1")}``."""
    if isinstance(value, dict) and value:
        return set().union(*(leaves(v, f"{pointer}/{k}") for k, v in value.items()))
    if isinstance(value, list) and value:
        return set().union(*(leaves(v, f"{pointer}/{i}") for i, v in enumerate(value)))
    return {(pointer, json.dumps(value, sort_keys=True))}


def field_f1(predicted: Any, gold: Any) -> float:
    pred, true = leaves(predicted), leaves(gold)
    hits = len(pred & true)
    return 0.0 if hits == 0 else 2 * hits / (len(pred) + len(true))


def held_out_quality(adapter: Path, rows: list[dict], device: str, batch: int = 16) -> tuple[float, float]:
    """``(schema-valid rate, mean field F1)`` of greedy answers to the eval rows (invalid JSON scores 0)."""
    import jsonschema
    import torch

    from formtune.train import load_tuned

    model, tokenizer = load_tuned(None, adapter)
    model.to(device)
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text()))
    valid, f1 = 0, 0.0
    for i in range(0, len(rows), batch):
        part = rows[i : i + batch]
        prompts = [tokenizer.apply_chat_template(r["messages"][:-1], add_generation_prompt=True, tokenize=False)
                   for r in part]  # fmt: skip
        enc = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(device)
        with torch.no_grad():
            out = model.generate(**enc, max_new_tokens=256, do_sample=False)
        for row, ids in zip(part, out[:, enc["input_ids"].shape[1] :], strict=True):
            try:
                answer = json.loads(tokenizer.decode(ids, skip_special_tokens=True))
            except ValueError:
                continue
            gold = json.loads(row["messages"][-1]["content"])
            valid += validator.is_valid(answer)
            f1 += field_f1(answer, gold)
    del model
    gc.collect()
    return valid / len(rows), f1 / len(rows)


# --------------------------------------------------------------------------------------------


def real_tokens(rows: list[dict], epochs: float) -> int:
    """Tokens of every row's whole conversation (no padding), times the epochs."""
    from transformers import AutoTokenizer

    from formtune.models import resolve_model

    tokenizer = AutoTokenizer.from_pretrained(resolve_model(None))
    per_epoch = sum(len(tokenizer(tokenizer.apply_chat_template(r["messages"], tokenize=False),
                                  add_special_tokens=False)["input_ids"]) for r in rows)  # fmt: skip
    return round(per_epoch * epochs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=None, help="use only the first N training rows")
    parser.add_argument("--data", type=Path, help="an existing dataset folder (default: generate one)")
    parser.add_argument("--eval-rows", type=int, default=None, help="decode only the first N held-out rows")
    parser.add_argument("--no-quality", action="store_true", help="skip the held-out decoding")
    parser.add_argument("--seed", type=int, default=0, help="the training seed of both arms (LoRA init, row order)")
    args = parser.parse_args()

    import torch
    import yaml

    from formtune.dataset import read_rows
    from formtune.hardware import available_cpus, device
    from formtune.models import load_model
    from formtune.train_config import TrainConfig

    work = Path(tempfile.mkdtemp(prefix="formtune-throughput-"))
    data = args.data
    if data is None:
        data = work / "data"
        subprocess.run([sys.executable, "-m", "formtune", "generate", str(TASK), "--out", str(data)], check=True,
                       capture_output=True)  # fmt: skip
    rows = read_rows(data / "train.jsonl")[: args.rows]
    eval_rows = read_rows(data / "eval.jsonl")[: args.eval_rows]
    training = yaml.safe_load(TASK.read_text())["training"]
    defaults = TrainConfig()
    lora = {"r": defaults.lora_r, "lora_alpha": defaults.lora_alpha, "target_modules": defaults.target_modules}
    where = device()
    torch.set_num_threads(available_cpus())

    tokens = real_tokens(rows, training["epochs"])
    params = sum(p.numel() for p in load_model(None, for_training=True)[0].parameters())
    step_tokens = round(tokens / training["epochs"] / len(rows) * training["batch_size"])
    print(f"device {where}, {torch.get_num_threads()} threads; {len(rows)} rows x {training['epochs']} epochs = "
          f"{tokens} real tokens; {params / 1e6:.1f}M parameters; seed {args.seed}; "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}")

    gflops = [matmul_gflops(where, step_tokens)]
    arms: dict[str, list[dict[str, Any]]] = {"formtune": [], "plain TRL": []}
    for name in ("formtune", "plain TRL", "formtune"):
        with PeakMemory(where) as peak:
            out = work / f"{name.replace(' ', '-')}-{len(arms[name])}"
            if name == "formtune":
                arm = formtune_arm(rows, training, out, args.seed)
            else:
                arm = plain_trl(rows, training, lora, out, where, args.seed)
        arm.update(tokens_per_s=tokens / arm["seconds"], peak_gib=peak.peak_gib)
        arms[name].append(arm)
        gflops.append(matmul_gflops(where, step_tokens))
        print(f"  {name:10s} run {len(arms[name])}: {arm['tokens_per_s']:7.0f} tokens/s ({arm['seconds']:.1f} s), "
              f"matmul after it {gflops[-1]:.0f} GFLOP/s", flush=True)

    for name, runs in arms.items():
        first = runs[0]
        quality = ""
        if not args.no_quality:
            valid, f1 = held_out_quality(first["adapter"], eval_rows, where)
            quality = f"  held-out valid {valid:.2f}  field F1 {f1:.3f} ({len(eval_rows)} rows)"
        tps = sum(r["tokens_per_s"] for r in runs) / len(runs)
        print(f"{name:10s} {tps:7.0f} tokens/s  peak memory {first['peak_gib']:.2f} GiB  "
              f"final loss {first['loss']:.4f}{quality}")

    ceiling = (sum(gflops) / len(gflops)) * 1e9 / (4 * params)
    ours = sum(r["tokens_per_s"] for r in arms["formtune"]) / len(arms["formtune"])
    plain = arms["plain TRL"][0]["tokens_per_s"]
    spread = [f"{r['tokens_per_s']:.0f}" for r in arms["formtune"]]
    print(f"bf16 matmul {' / '.join(f'{g:.0f}' for g in gflops)} GFLOP/s (before, between and after the runs); "
          f"ceiling {ceiling:.0f} tokens/s; formtune before/after plain TRL: {' / '.join(spread)} tokens/s")
    print(f"roofline: {ours / ceiling:.3f}")
    print(f"speedup: {ours / plain:.2f}")


if __name__ == "__main__":
    main()
