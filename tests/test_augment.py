"""Augmenters: varied training inputs whose answers never change, recorded in the provenance."""

from __future__ import annotations

import random
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from formtune.dataset import build_dataset, read_rows
from formtune.errors import TaskError
from formtune.keep import kept_spans, kept_values, lost_values, outside
from formtune.plugins import build_registry
from formtune.task import load_task
from formtune_augment import AUGMENTERS
from formtune_augment.noise import TYPO_RATE, _wrap

ROOT = Path(__file__).resolve().parents[1]
TICKET = ROOT / "examples" / "support-ticket" / "task.yaml"
EVENT = ROOT / "examples" / "event-registration" / "task.yaml"
NAMES = [a.name for a in AUGMENTERS]


def _task_copy(tmp_path: Path, source: Path, **data: object) -> Path:
    """The example task, copied with its files into a new folder under ``tmp_path``, with ``data``
    settings replaced."""
    folder = tmp_path / f"{source.parent.name}-{len(list(tmp_path.iterdir()))}"
    folder.mkdir(parents=True)
    for path in source.parent.rglob("*"):
        if path.is_file():
            (folder / path.relative_to(source.parent)).parent.mkdir(parents=True, exist_ok=True)
            (folder / path.relative_to(source.parent)).write_bytes(path.read_bytes())
    spec = yaml.safe_load((folder / "task.yaml").read_text())
    spec["data"].update(data)
    (folder / "task.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return folder / "task.yaml"


@pytest.fixture(scope="module")
def ticket_rows(tmp_path_factory):
    """Training rows of the demo task before any augmenter: (input, output) pairs."""
    tmp = tmp_path_factory.mktemp("plain")
    task = load_task(_task_copy(tmp, TICKET, augment={}, train=80, eval=5))
    build_dataset(task, tmp / "data", progress=False)
    return task, [(r["input"], r["output"]) for r in read_rows(tmp / "data" / "train.jsonl")]


def test_every_builtin_augmenter_is_registered():
    registry = build_registry()
    assert set(NAMES) <= set(registry.augmenters)
    assert {registry.owners[("augmenters", n)] for n in NAMES} == {"augment"}
    assert NAMES == ["greeting", "signature", "reply-chain", "forward", "whitespace", "casing", "typos",
                     "shuffle-fields", "distractors"]


@pytest.mark.parametrize("name", NAMES)
def test_an_augmenter_keeps_every_answer_value_that_was_in_the_text(ticket_rows, name):
    """The rule: every answer value that appears verbatim before still appears verbatim after."""
    task, rows = ticket_rows
    augmenter = task.registry.get("augmenters", name)
    changed = 0
    for i, (text, output) in enumerate(rows):
        keep = kept_values(text, output)
        assert keep, "the templates write the answer's values"
        new = augmenter.augment(text, output=output, keep=keep, rng=random.Random(i), task=task)
        assert lost_values(new, keep) == [], (name, text, new)
        changed += new != text
    assert changed >= len(rows) // 4, f"{name} changed only {changed} of {len(rows)} inputs"


def test_augmented_rows_keep_their_values_and_record_their_augmenters(tmp_path):
    """Through the builder, every augmenter at rate 1: each training row says which augmenters ran,
    its answer is valid, and its strings still appear in the input when the template wrote them."""
    task = load_task(_task_copy(tmp_path, TICKET, augment={n: 1.0 for n in NAMES}, train=40, eval=10))
    build_dataset(task, tmp_path / "data", progress=False)
    plain = load_task(_task_copy(tmp_path, TICKET, augment={}, train=40, eval=10))
    build_dataset(plain, tmp_path / "plain", progress=False)
    augmented = read_rows(tmp_path / "data" / "train.jsonl")
    originals = {(r["provenance"]["index"]): r for r in read_rows(tmp_path / "plain" / "train.jsonl")}
    assert len(augmented) == 40
    for row in augmented:
        assert row["provenance"]["augmenters"] == NAMES
        before = originals.get(row["provenance"]["index"])
        if before is not None and before["output"] == row["output"]:
            assert lost_values(row["input"], kept_values(before["input"], before["output"])) == []
            assert row["input"] != before["input"]
    # Evaluation inputs are never augmented: the held-out wording is measured as written.
    assert [r["input"] for r in read_rows(tmp_path / "data" / "eval.jsonl")] == \
        [r["input"] for r in read_rows(tmp_path / "plain" / "eval.jsonl")]
    assert not any("augmenters" in r["provenance"] for r in read_rows(tmp_path / "data" / "eval.jsonl"))


LOSSY = '''
from formtune import hookimpl

class DropDigits:
    name = "drop-digits"
    description = "breaks the rule on purpose"

    def augment(self, text, *, output, keep, rng, task):
        return "".join(c for c in text if not c.isdigit())

@hookimpl
def register_augmenters(register):
    register(DropDigits())
'''


def test_a_row_whose_augmenter_loses_a_value_is_rejected_naming_it(tmp_path):
    plugin = tmp_path / "lossy.py"
    plugin.write_text(LOSSY)
    registry = build_registry([plugin])
    task = load_task(_task_copy(tmp_path, TICKET, augment={"drop-digits": 0.5}, train=20, eval=5), registry)
    summary = build_dataset(task, tmp_path / "data", progress=False)
    assert summary.rejected["augmenter drop-digits lost an answer value"] > 0
    for row in read_rows(tmp_path / "data" / "train.jsonl"):
        assert "drop-digits" not in row["provenance"].get("augmenters", [])


def test_an_unknown_augmenter_is_an_error_at_its_line(tmp_path):
    path = _task_copy(tmp_path, TICKET, augment={"greting": 0.2})
    line = next(n for n, text in enumerate(path.read_text().splitlines(), start=1) if "greting" in text)
    with pytest.raises(TaskError, match=rf"task.yaml:{line}: data.augment: no augmenter named 'greting' "
                                        r"\(available: .*greeting"):
        build_dataset(load_task(path), tmp_path / "data", progress=False)


def test_a_rate_outside_zero_to_one_is_refused_with_its_line(tmp_path):
    path = _task_copy(tmp_path, TICKET, augment={"typos": 1.5})
    with pytest.raises(TaskError, match=r"task.yaml:\d+: field 'data.augment.typos': Input should be less than "
                                        r"or equal to 1"):
        load_task(path)


def test_augmenters_change_the_fingerprint(tmp_path):
    from formtune.dataset.fingerprint import fingerprint_parts

    a = fingerprint_parts(load_task(_task_copy(tmp_path, TICKET, augment={"typos": 0.1})))
    b = fingerprint_parts(load_task(_task_copy(tmp_path, TICKET, augment={"typos": 0.2})))
    assert a["data.augment"].startswith("typos (formtune ") and a["data.augment"].endswith(": 0.1")
    assert a["data.augment"] != b["data.augment"]


# -- the helpers and each augmenter's own promise ----------------------------------------------


def test_outside_edits_only_between_kept_values():
    text = "Jane Roe wrote: ORDER ORD-123456 for Jane Roe."
    assert kept_spans(text, ["Jane Roe", "ORD-123456"]) == [(0, 8), (22, 32), (37, 45)]
    assert outside(text, ["Jane Roe", "ORD-123456"], str.upper) == "Jane Roe WROTE: ORDER ORD-123456 FOR Jane Roe."
    assert kept_values(text, {"name": "Jane Roe", "n": 7, "ok": True, "id": "ORD-123456", "x": "absent"}) == \
        ["ORD-123456", "Jane Roe"]


def test_typos_hit_about_their_rate_of_long_words_and_never_a_value():
    typos = next(a for a in AUGMENTERS if a.name == "typos")
    words = " ".join(["please", "refund", "delivery", "package"] * 500)
    new = typos.augment(words + " ABCD-1234", output={"sku": "ABCD-1234"}, keep=["ABCD-1234"],
                        rng=random.Random(0), task=None)
    changed = sum(a != b for a, b in zip(words.split(), new.split()))
    assert abs(changed / 2000 - TYPO_RATE) < 0.03
    assert new.endswith(" ABCD-1234")


def test_wrapping_never_breaks_inside_a_value():
    text = "My name is Maria de la Cruz and my e-mail is maria.cruz@example.org, thanks a lot for the help."
    for width in range(10, 40):
        wrapped = _wrap(text, ["Maria de la Cruz"], width)
        assert "Maria de la Cruz" in wrapped and wrapped.replace("\n", " ") == text
        assert all(len(line) <= width or " " not in line.strip() or "Maria de la Cruz" in line
                   for line in wrapped.split("\n"))


def test_shuffle_fields_moves_whole_key_value_lines_only():
    shuffle = next(a for a in AUGMENTERS if a.name == "shuffle-fields")
    text = "Web form\nName: Ada\nEmail: ada@example.org\nOrder: ORD-123456\n\nMessage: hello. Bye: now"
    orders = set()
    for seed in range(20):
        new = shuffle.augment(text, output={}, keep=[], rng=random.Random(seed), task=None)
        lines = new.split("\n")
        assert lines[0] == "Web form" and lines[4:] == ["", "Message: hello. Bye: now"]
        assert sorted(lines[1:4]) == sorted(text.split("\n")[1:4])
        orders.add(tuple(lines[1:4]))
    assert len(orders) == 6


def test_casing_changes_everything_but_the_values():
    casing = next(a for a in AUGMENTERS if a.name == "casing")
    seen = set()
    for seed in range(10):
        new = casing.augment("Hello, I am Ada Lovelace.", output={}, keep=["Ada Lovelace"], rng=random.Random(seed),
                             task=None)
        seen.add(new)
    assert seen == {"hello, i am Ada Lovelace.", "HELLO, I AM Ada Lovelace."}


def test_distractors_mention_only_absent_optional_fields(ticket_rows):
    task, rows = ticket_rows
    distractors = task.registry.get("augmenters", "distractors")
    mentions = Counter()
    for i, (text, output) in enumerate(rows):
        new = distractors.augment(text, output=output, keep=kept_values(text, output), rng=random.Random(i), task=task)
        added = new.replace(text, " ") if text in new else new
        for label, field in (("order", "order_id"), ("compan", "company"), ("organi", "company")):
            said = re.search(rf"(don't have the|No|not sure what the|can't find the|have no) {label}", added, re.I)
            if said:
                mentions[field] += 1
                present = field in output or field in output["customer"]
                assert not present, (added, output)
    assert mentions["order_id"] > 0 and mentions["company"] > 0


def test_the_demo_held_out_set_is_the_one_main_measured(tmp_path):
    """The demo's held-out wording (voicemail) and its 60 evaluation rows are exactly those the
    earlier numbers came from: the wording machinery changes training data only."""
    import hashlib
    import json

    task = load_task(TICKET)
    assert task.spec.data.holdout_templates == ["voicemail"]
    build_dataset(task, tmp_path / "data", progress=False)
    rows = read_rows(tmp_path / "data" / "eval.jsonl")
    digest = hashlib.sha256(json.dumps([[r["input"], r["output"]] for r in rows], sort_keys=True).encode())
    assert digest.hexdigest() == "3b18536aa25ba0cc5a6a6e731bf3bb41f366f2ecacd2e861fb874cf96825fab9"
