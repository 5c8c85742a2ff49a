"""Score a run's saved predictions again with this checkout's scorer, without generating anew.

    python benchmarks/gpu/rescore.py TASK_FILE EVAL_JSONL RUN [RUN ...] [--strip TEXT]

Each RUN's ``predictions/tuned.jsonl`` is read (its rows in the order of EVAL_JSONL: checked),
TEXT is cut from the end of each completion where given, and the rows are scored by formtune's
own evaluator; ``RUN/predictions/rescored.jsonl`` and ``RUN/rescored.json`` are written and the
headline numbers printed.  Used for the GPU sweep of benchmarks/RESULTS.md "(h)", whose machine's
transformers left the end-of-turn token on every answer (``--strip '<|im_end|>'``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from formtune.evaluate import _score, load_examples, task_metrics
from formtune.task import load_task

HEADLINE = ("schema_valid", "field_f1", "rules:adherence", "rules:facts_read", "rules:follows_own_facts",
            "rules:adherence_held_out_branches", "rules:adherence_conflicts")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("task", type=Path)
    parser.add_argument("eval", type=Path)
    parser.add_argument("runs", type=Path, nargs="+")
    parser.add_argument("--strip", default="", help="text cut from the end of each completion")
    args = parser.parse_args()
    task = load_task(args.task)
    examples = load_examples(args.eval, task)
    for run in args.runs:
        rows = [json.loads(line) for line in (run / "predictions" / "tuned.jsonl").open(encoding="utf-8")]
        if [r["input"] for r in rows] != [e.input for e in examples]:
            raise SystemExit(f"{run}: its predictions are not the rows of {args.eval}, in order")
        outputs = [{"completion": r["completion"].removesuffix(args.strip) if args.strip else r["completion"],
                    "prompt_tokens": r["prompt_tokens"], "latency_s": r["latency_s"]} for r in rows]
        scores = _score(task, examples, outputs, task_metrics(task), run / "predictions" / "rescored.jsonl")
        (run / "rescored.json").write_text(json.dumps(scores, indent=1) + "\n")
        print(run.name, *(f"{k.split(':')[-1]} {scores[k]:.3f}" for k in HEADLINE if k in scores))


if __name__ == "__main__":
    main()
