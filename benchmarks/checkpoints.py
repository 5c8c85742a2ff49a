"""A training's held-out scores at every checkpoint, and for the exact average of the last few.

    python benchmarks/checkpoints.py TASK RUN [--average K] [--out DIR]

Does a bad training (refund-rules: one in four ends at 0.63-0.86 where the others reach 0.93) go
bad late, so that an earlier checkpoint, or the average of the last ones, would be better?  Train
with ``save_steps`` at one epoch's steps and a ``save_total_limit`` that keeps every checkpoint
(``training:`` in a copy of the task file); this script then evaluates each checkpoint's adapter
as ``formtune eval --variant tuned`` would, on the run's held-out rows, and the exact mean of the
last K adapters' weight changes (PEFT's ``add_weighted_adapter`` with ``cat``: rank K * r, no
approximation).  Per adapter it prints the overall and per-template scores and, for a rules task,
which boundary values (``provenance.boundary``, e.g. ``delivered = -31``) the rows whose decision
does not follow the answer's own stated facts sit on, against how often each occurs in all rows.
Each evaluation is kept under ``--out`` (default ``RUN/checkpoint-evals``) and not redone.
Numbers: ``benchmarks/RESULTS.md``, "(n)".
"""

import argparse
import collections
import json
import shutil
from pathlib import Path

from formtune.dataset import read_rows
from formtune.runs import eval_model, read_run_info
from formtune.train import complete_checkpoints

SHOWN = ("rules:adherence", "rules:facts_read", "rules:follows_own_facts", "schema_valid", "field_f1")


def average(model_spec: str | None, adapters: list[Path], out: Path) -> Path:
    """Write the adapter whose weight change is the mean of ``adapters``' (trained on ``model_spec``) to ``out``."""
    from peft import PeftModel

    from formtune.models import load_model

    if (out / "adapter_config.json").is_file():
        return out
    model, tokenizer = load_model(model_spec, for_training=False)
    names = [f"a{i}" for i in range(len(adapters))]
    peft = PeftModel.from_pretrained(model, adapters[0], adapter_name=names[0])
    for name, adapter in zip(names[1:], adapters[1:], strict=True):
        peft.load_adapter(adapter, adapter_name=name)
    peft.add_weighted_adapter(names, [1 / len(names)] * len(names), "mean", combination_type="cat")
    for name in names:
        peft.delete_adapter(name)
    peft.save_pretrained(out / "saving", selected_adapters=["mean"])  # PEFT writes it to saving/mean/
    shutil.copytree(out / "saving" / "mean", out, dirs_exist_ok=True)
    shutil.rmtree(out / "saving")
    tokenizer.save_pretrained(out)
    return out


def report(name: str, run: Path, rows: list[dict]) -> None:
    """Print one adapter's scores and where its decisions leave its own facts."""
    metrics = json.loads((run / "metrics.json").read_text())
    overall = metrics["variants"]["tuned"]
    by_template = metrics.get("by_template", {}).get("tuned", {})
    parts = [f"{key.removeprefix('rules:')} {overall[key]:.3f}" for key in SHOWN if key in overall]
    key = next((k for k in SHOWN if k in overall), None)
    if key:
        parts += [f"{template} {scores[key]:.3f}" for template, scores in by_template.items()]
    print(f"{name:28s} " + ", ".join(parts))
    predictions = read_rows(run / "predictions" / "tuned.jsonl")
    astray = [row for row, p in zip(rows, predictions, strict=True)
              if p.get("scores", {}).get("rules:follows_own_facts") == 0]
    if astray:
        everywhere = collections.Counter(b for row in rows for b in row.get("provenance", {}).get("boundary", []))
        there = collections.Counter(b for row in astray for b in row.get("provenance", {}).get("boundary", []))
        print(f"{'':28s} {len(astray)} of {len(rows)} rows decide against their own facts; on boundaries "
              + ", ".join(f"{b}: {n} (of {everywhere[b]})" for b, n in there.most_common()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("task", type=Path)
    parser.add_argument("run", type=Path)
    parser.add_argument("--average", type=int, default=0, help="also the mean of the last K checkpoints")
    parser.add_argument("--out", type=Path, help="where the evaluations go (default RUN/checkpoint-evals)")
    args = parser.parse_args()
    out = args.out or args.run / "checkpoint-evals"
    info = read_run_info(args.run)
    data = Path(info["data"]) / "eval.jsonl"
    rows = read_rows(data)
    checkpoints = complete_checkpoints(args.run / "checkpoints")
    adapters = [(c.name, c) for c in checkpoints]
    if args.average:
        last = checkpoints[-args.average:]
        name = "mean of " + ", ".join(c.name.split("-")[-1] for c in last)
        adapters.append((name, average(info.get("model"), last, out / "adapters" / f"mean-{len(last)}")))
    for name, adapter in adapters:
        run = out / adapter.name
        if not (run / "metrics.json").is_file():
            eval_model(args.task, model=info.get("model"), adapter=adapter, data_file=data, run=run, variants=["tuned"],
                       progress=False)
        report(name, run, rows)


if __name__ == "__main__":
    main()
