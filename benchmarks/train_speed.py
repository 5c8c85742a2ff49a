"""Training speed: formtune's trainer defaults vs plain TRL defaults, same data, same LoRA, one run.

    .venv/bin/python benchmarks/train_speed.py [N]      # N training rows of the demo task (default 96)

Prints tokens/s of both and their ratio. Plain TRL defaults = ``SFTConfig()`` as shipped (bf16,
gradient checkpointing, batch 8, full-vocabulary loss) with the same LoRA settings.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(n: int) -> None:
    from datasets import Dataset
    from peft import LoraConfig
    from trl import SFTConfig, SFTTrainer

    from formtune.dataset import build_dataset, read_rows
    from formtune.models import load_model
    from formtune.task import load_task
    from formtune.train import to_prompt_completion, train
    from formtune.train_config import TrainConfig

    work = Path(tempfile.mkdtemp(prefix="formtune-bench-"))
    build_dataset(load_task(ROOT / "examples/support-ticket/task.yaml"), work / "data", progress=False)
    rows = read_rows(work / "data" / "train.jsonl")[:n]

    model, tokenizer = load_model(None, for_training=True)
    config = TrainConfig()
    plain = SFTTrainer(
        model=model, processing_class=tokenizer, train_dataset=Dataset.from_list(to_prompt_completion(rows)),
        args=SFTConfig(output_dir=str(work / "plain"), report_to="none", use_cpu=True, num_train_epochs=1,
                       save_strategy="no", include_num_input_tokens_seen="non_padding"),
        peft_config=LoraConfig(task_type="CAUSAL_LM", r=config.lora_r, lora_alpha=config.lora_alpha,
                               target_modules=config.target_modules))
    began = time.perf_counter()
    plain.train()
    plain_tps = plain.state.num_input_tokens_seen / (time.perf_counter() - began)
    del plain, model

    result = train(None, rows, None, TrainConfig(epochs=1, save_steps=10_000), work / "formtune")
    ours_tps = result.metrics["tokens_per_second"]
    print(f"rows={n} plain_trl={plain_tps:.0f} tok/s formtune={ours_tps:.0f} tok/s ratio={ours_tps / plain_tps:.2f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 96)
