"""A run's scores per input template, for predictions saved before ``formtune eval`` did this itself.

    python benchmarks/by_template.py RUN/predictions/tuned.jsonl DATA/eval.jsonl [metric,metric,...]

Since the eleventh sitting ``metrics.json`` holds ``by_template`` and the report shows it; older
prediction rows lack their template, so it is read from the evaluation rows' provenance here and
the same averages (:func:`formtune.evaluate.template_averages`) are printed for the metrics named
(the rules task's defaults otherwise).
"""
import json
import sys

from formtune.evaluate import template_averages

DEFAULT = "schema_valid,rules:adherence,rules:facts_read,rules:follows_own_facts,field_f1"


def main() -> None:
    pred_path, eval_path = sys.argv[1], sys.argv[2]
    keys = (sys.argv[3] if len(sys.argv) > 3 else DEFAULT).split(",")
    rows = [json.loads(line) for line in open(eval_path, encoding="utf-8")]
    preds = [json.loads(line) for line in open(pred_path, encoding="utf-8")]
    if len(rows) != len(preds):
        sys.exit(f"{pred_path} has {len(preds)} predictions for {len(rows)} rows: not the same evaluation set")
    for row, pred in zip(rows, preds):
        if row["input"] != pred["input"]:
            sys.exit(f"{pred_path}: predictions are not in the order of {eval_path}")
        pred["template"] = row.get("provenance", {}).get("template", "?")
    overall = template_averages([*preds, *({**p, "template": "all"} for p in preds)])
    for template, scores in overall.items():
        print(f"{template:12s} n={scores['n']:3d}  " + "  ".join(f"{k}={scores[k]:.3f}" for k in keys if k in scores))


if __name__ == "__main__":
    main()
