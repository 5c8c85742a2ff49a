"""``formtune data stats``: branch, rule and boundary coverage of a generated or an imported dataset."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

from conftest import ROOT

from formtune.dataset import build_dataset, read_rows
from formtune.task import load_task
from rules_fixtures import RULES, write_task


def stats(*args):
    result = subprocess.run([sys.executable, "-m", "formtune", *args], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_generated_dataset(tmp_path):
    task_file = write_task(tmp_path, RULES + '  holdout_branches: ["big + vip"]\n')
    build_dataset(load_task(task_file), tmp_path / "data", progress=False)
    report = json.loads(stats("data", "stats", str(tmp_path / "data"), "--task", str(task_file), "--json"))
    train = report["splits"]["train"]
    expected = Counter(r["provenance"]["branch"] for r in read_rows(tmp_path / "data" / "train.jsonl"))
    assert train["branches"] == {b: expected.get(b, 0) for b in report["branches"]}
    assert train["branches_missing"] == ["big + vip"] and report["splits"]["eval"]["branches_missing"] == []
    assert train["rows"] == 60 and train["facts_unknown"] == 0 and train["answers_breaking_a_rule"] == 0
    assert train["rules"]["big"]["holds"] + train["rules"]["big"]["does_not_hold"] == 60
    assert any(k.startswith("amount = 50") for k in train["boundaries"])
    assert any(k.startswith("ordered = today - 10 days") for k in train["boundaries"])
    dates = {s: [(r["provenance"]["facts"]["today"], r["provenance"]["facts"]["ordered"])
                 for r in read_rows(tmp_path / "data" / f"{s}.jsonl")] for s in ("train", "eval")}  # fmt: skip
    repeats = sum(d in set(dates["train"]) for d in dates["eval"])
    assert report["splits"]["eval"]["dates_repeating_train"] == repeats and "dates_repeating_train" not in train
    text = stats("data", "stats", str(tmp_path / "data"), "--task", str(task_file))
    assert "big + vip (held out)" in text and "branches covered 5/6" in text
    assert f"{repeats} rows repeat a training row's dates" in text
    (tmp_path / "data" / "copy.jsonl").write_text((tmp_path / "data" / "train.jsonl").read_text())
    copied = json.loads(stats("data", "stats", str(tmp_path / "data"), "--task", str(task_file), "--json"))
    assert copied["splits"]["copy"]["dates_repeating_train"] == 60  # every row a training row's dates


def test_imported_dataset_read_by_an_extractor(tmp_path):
    rules = RULES.replace("rules:\n  facts:", "rules:\n  extractor: tiny-facts\n  facts:", 1)
    task_file = write_task(tmp_path, rules)
    rows = [  # big + vip, right; default, but labelled as if 'big' held; a text the extractor cannot read
        {"input": "Order of 80.0 EUR from a VIP, placed 1 days ago (today 2025-06-01).",
         "output": {"route": "manager", "priority": "high", "reply": "Thanks."}},
        {"input": "Order of 20.0 EUR, placed 3 days ago (today 2025-06-01).",
         "output": {"route": "manager", "priority": "normal", "reply": "Thanks."}},
        {"input": "hello", "output": {"route": "auto", "priority": "normal", "reply": "Thanks."}},
    ]
    gold = tmp_path / "gold.jsonl"
    gold.write_text("".join(json.dumps(r) + "\n" for r in rows))
    report = json.loads(stats("--plugin", str(ROOT / "tests" / "fixtures" / "rules_plugin.py"), "data", "stats",
                              str(gold), "--task", str(task_file), "--json"))
    split = report["splits"]["gold"]
    assert split["facts_unknown"] == 1 and split["answers_breaking_a_rule"] == 1
    assert {b: n for b, n in split["branches"].items() if n} == {"big + vip": 1, "default": 1}
