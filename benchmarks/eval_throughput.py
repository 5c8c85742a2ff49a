"""Evaluator generation vs a one-example-at-a-time ``model.generate`` loop, measured in one run.

    python benchmarks/eval_throughput.py [N] [--variant base|tuned] [--adapter RUN/adapter] [--data DIR]

Both arms decode the same N held-out prompts of the demo task (support-ticket) greedily with the
default model. The plain arm is what a user writes first: float32 weights, one prompt at a time,
to the token limit. The formtune arm is the evaluator's ``generate``: bf16 where the hardware has
it natively, length-sorted batches (``generation.BATCH_SIZE`` rows), hopeless rows stopped early,
on the GPU when there is one. A third arm, one at a time in the formtune arm's dtype, isolates
batching and early stop from the dtype and is the reference for the output check: every formtune
completion must equal it, or be a prefix of it that the format already judged hopeless (it could
never become valid, and the full text is invalid too). Prints a table and ends with ``speedup: <ratio>`` (formtune over
the plain loop, examples per second).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TASK = ROOT / "examples" / "support-ticket" / "task.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=16, help="held-out prompts to decode")
    parser.add_argument("--variant", choices=["base", "tuned"], default="base")
    parser.add_argument("--adapter", type=Path, help="LoRA adapter for --variant tuned")
    parser.add_argument("--data", type=Path, help="an existing dataset folder of the task (default: generate one)")
    args = parser.parse_args()

    import torch

    from formtune.dataset import build_dataset
    from formtune.evaluate import _max_new_tokens, load_examples
    from formtune.generation import BATCH_SIZE, generate
    from formtune.hardware import bf16_supported
    from formtune.task import load_task
    from formtune.train import load_tuned

    task = load_task(TASK)
    data = args.data
    if data is None:
        data = Path(tempfile.mkdtemp(prefix="eval-throughput-"))
        build_dataset(task, data, progress=False)
    examples = load_examples(data / "eval.jsonl", task)[: args.n]
    system = task.format.prompt(task) if args.variant == "base" else task.spec.instructions
    conversations = [task.format.conversation(task, e.input, system=system) for e in examples]
    device = "cuda" if torch.cuda.is_available() else "cpu"
    fast_dtype = "bfloat16" if bf16_supported() else "float32"
    adapter = args.adapter if args.variant == "tuned" else None

    def arm(dtype: str, batch_size: int, early_stop: bool) -> tuple[list[dict], float]:
        model, tokenizer = load_tuned(None, adapter, dtype=dtype)
        model.to(device)
        limit = _max_new_tokens(tokenizer, task, examples)
        viable = task.format.viable if early_stop else None
        began = time.perf_counter()
        if batch_size == 1:
            outputs = [generate(model, tokenizer, [c], max_new_tokens=limit, batch_size=1, viable=viable)[0]
                       for c in conversations]
        else:
            outputs = generate(model, tokenizer, conversations, max_new_tokens=limit, batch_size=batch_size,
                               viable=viable)
        if device == "cuda":
            torch.cuda.synchronize()
        return outputs, time.perf_counter() - began

    plain, plain_s = arm("float32", 1, early_stop=False)
    reference, reference_s = arm(fast_dtype, 1, early_stop=False)
    fast, fast_s = arm(fast_dtype, BATCH_SIZE, early_stop=True)

    same = prefix = differ = 0
    for f, r in zip(fast, reference):
        if f["completion"] == r["completion"]:
            same += 1
        elif f["hopeless"] and r["completion"].startswith(f["completion"]) and not task.format.viable(r["completion"]):
            prefix += 1
        else:
            differ += 1
    valid = [sum(task.format.parse(o["completion"]).parsed for o in outs) for outs in (plain, reference, fast)]

    print(f"device: {device}; {len(examples)} {args.variant} prompts; threads {torch.get_num_threads()}")
    print(f"{'arm':<44}{'s':>8}{'examples/s':>12}{'parsed':>8}")
    for name, seconds, parsed in (("plain: float32, one at a time", plain_s, valid[0]),
                                  (f"reference: {fast_dtype}, one at a time", reference_s, valid[1]),
                                  (f"formtune: {fast_dtype}, batch {BATCH_SIZE}, early stop", fast_s, valid[2])):
        print(f"{name:<44}{seconds:>8.1f}{len(examples) / seconds:>12.3f}{parsed:>8}")
    print(f"outputs vs reference: {same} identical, {prefix} hopeless prefixes, {differ} different")
    print(f"speedup over the same-dtype loop: {reference_s / fast_s:.2f}")
    print(f"speedup: {plain_s / fast_s:.2f}")
    if differ:
        sys.exit(1)


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
