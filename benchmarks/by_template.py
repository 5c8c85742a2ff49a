"""A run's scores per input template: its predictions joined with the evaluation rows' provenance.

    python benchmarks/by_template.py RUN/predictions/tuned.jsonl DATA/eval.jsonl [metric,metric,...]

An evaluation set written by several held-out wordings (``data.holdout_templates``) scores them
together; this prints each wording apart, and all of them, for the metrics named (the rules
task's defaults otherwise).
"""
import collections
import json
import sys

DEFAULT = "schema_valid,rules:adherence,rules:facts_read,rules:follows_own_facts,field_f1"


def main() -> None:
    pred_path, eval_path = sys.argv[1], sys.argv[2]
    keys = (sys.argv[3] if len(sys.argv) > 3 else DEFAULT).split(",")
    rows = [json.loads(line) for line in open(eval_path, encoding="utf-8")]
    preds = [json.loads(line) for line in open(pred_path, encoding="utf-8")]
    if len(rows) != len(preds):
        sys.exit(f"{pred_path} has {len(preds)} predictions for {len(rows)} rows: not the same evaluation set")
    by: dict[str, dict[str, list[float]]] = collections.defaultdict(lambda: collections.defaultdict(list))
    for row, pred in zip(rows, preds):
        if row["input"] != pred["input"]:
            sys.exit(f"{pred_path}: predictions are not in the order of {eval_path}")
        for template in (row.get("provenance", {}).get("template", "?"), "all"):
            for key in keys:
                if pred["scores"].get(key) is not None:
                    by[template][key].append(pred["scores"][key])
    for template, scores in by.items():
        n = max(len(v) for v in scores.values())
        print(f"{template:12s} n={n:3d}  " + "  ".join(f"{k}={sum(v) / len(v):.3f}" for k, v in scores.items()))


if __name__ == "__main__":
    main()
