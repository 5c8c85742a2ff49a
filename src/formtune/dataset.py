"""The dataset store: validated examples as JSONL, built so that nothing made is ever lost.

A dataset folder holds ``train.jsonl`` and ``eval.jsonl`` — rows in TRL's conversational shape
(``{"messages": [...]}``) plus ``input``, ``output`` and ``provenance`` — and ``rejected.jsonl``
with every candidate that failed and why. Each row is flushed as soon as it is accepted, so an
interrupted build keeps what it made, and a rerun continues from the next index of each stream.
Invalid candidates never reach ``train.jsonl``.

The split is deterministic: evaluation and training examples come from separate seeded streams
(evaluation first, so it never changes when you ask for more training data), optionally from
separate templates (``data.holdout_templates``), and an evaluation input never reappears in
training.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import jinja2

from formtune.check import check
from formtune.contrib import Draft, derive_seed
from formtune.errors import FormtuneError
from formtune.progress import progress_bar
from formtune.task import Task

SPLITS = ("eval", "train")  # build order: evaluation first
MAX_ATTEMPTS_PER_EXAMPLE = 20


def chat_messages(instructions: str, input_text: str, output_text: str | None = None) -> list[dict[str, str]]:
    """The conversation for one example; the assistant turn is left out when ``output_text`` is None."""
    messages = [{"role": "system", "content": instructions}, {"role": "user", "content": input_text}]
    if output_text is not None:
        messages.append({"role": "assistant", "content": output_text})
    return messages


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSONL file; a torn last line (from a kill mid-write) is ignored."""
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


def _dedup_key(input_text: str) -> str:
    normalized = re.sub(r"\s+", " ", input_text.strip().lower())
    return hashlib.sha256(normalized.encode()).hexdigest()


@dataclass
class BuildSummary:
    """What a build produced: accepted counts per split and rejection reasons."""

    folder: Path
    accepted: dict[str, int] = field(default_factory=dict)
    rejected: Counter[str] = field(default_factory=Counter)
    resumed: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"folder": str(self.folder), "accepted": self.accepted,
                "rejected": dict(self.rejected.most_common()), "resumed": self.resumed}


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as fh:
        fh.seek(-1, 2)
        return fh.read(1) == b"\n"


class _Appender:
    """Append-only JSONL writer that flushes every row."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: TextIO = path.open("a", encoding="utf-8")
        # A torn last line from a killed run would glue onto the next row: end it first.
        if self._fh.tell() and not _ends_with_newline(path):
            self._fh.write("\n")

    def write(self, row: dict[str, Any]) -> None:
        self._fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        self._fh.flush()

    def close(self) -> None:
        self._fh.close()


class DatasetBuilder:
    """Makes, validates and stores a task's examples (see the module docstring)."""

    def __init__(self, task: Task, folder: Path) -> None:
        self.task = task.check()
        self.folder = Path(folder)
        self.format = task.format
        self.generator = task.generator
        holdout = set(task.spec.data.holdout_templates)
        names = list(task.templates)
        self.templates = {
            "train": [n for n in names if n not in holdout] or names,
            "eval": [n for n in names if n in holdout] or names,
        }

    # -- one candidate ----------------------------------------------------------------------

    def _candidate(self, split: str, index: int) -> tuple[dict[str, Any] | None, str | None]:
        """A finished row, or ``None`` and the reason it was rejected."""
        seed = self.task.spec.data.seed
        try:
            draft: Draft = self.generator.draft(self.task, seed=derive_seed(seed, split), index=index)
        except FormtuneError as exc:
            return None, f"generator: {exc}"
        template = None
        input_text = draft.input
        if input_text is None:
            if not self.templates[split]:
                raise FormtuneError(f"task {self.task.name!r}: generator {self.generator.name!r} writes "
                                    "outputs only; add input templates to the task")
            rng = random.Random(derive_seed(seed, split, index, "template"))
            template = rng.choice(self.templates[split])
            try:
                input_text = self.task.templates[template].render(draft.output, rng)
            except jinja2.TemplateError as exc:
                return None, f"template {template}: {exc}"
        return self._row(split, index, input_text, draft.output, {
            "source": "synthetic", "generator": self.generator.name, "template": template,
            **draft.meta})

    def _row(self, split: str, index: int, input_text: str, output: Any,
             provenance: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
        output_text = self.format.render(output)
        checked = check(output_text, self.task)
        if not checked.valid:
            first = (checked.violations or [None])[0]
            return None, f"invalid: {first.kind} at {first.path or '/'}" if first else "invalid"
        provenance = {**provenance, "seed": self.task.spec.data.seed, "index": index, "validation": "valid"}
        return {
            "messages": chat_messages(self.task.spec.instructions, input_text, output_text),
            "input": input_text, "output": output, "split": split, "provenance": provenance,
        }, None

    # -- the build --------------------------------------------------------------------------

    def _seed_rows(self) -> Iterator[tuple[dict[str, Any] | None, str | None]]:
        for i, example in enumerate(self.task.spec.examples):
            yield self._row("train", i, example.input, example.output,
                            {"source": "task-example", "generator": None, "template": None})

    def build(self, progress: bool = True) -> BuildSummary:
        """Make the missing examples of every split; rerun it to continue after an interruption."""
        data = self.task.spec.data
        targets = {"eval": data.eval, "train": data.train}
        existing = {split: read_rows(self.folder / f"{split}.jsonl") for split in SPLITS}
        rejected_before = read_rows(self.folder / "rejected.jsonl")
        seen = {_dedup_key(row["input"]) for rows in existing.values() for row in rows}
        done = {(r["split"], r["provenance"]["source"], r["provenance"]["index"])
                for rows in existing.values() for r in rows}
        done |= {(r["split"], r["source"], r["index"]) for r in rejected_before}
        summary = BuildSummary(self.folder, resumed={s: len(existing[s]) for s in SPLITS})
        summary.rejected.update(r["reason"] for r in rejected_before)
        writers = {s: _Appender(self.folder / f"{s}.jsonl") for s in SPLITS}
        rejects = _Appender(self.folder / "rejected.jsonl")

        def keep(split: str, source: str, index: int, row: dict[str, Any] | None, reason: str | None) -> bool:
            if row is not None and _dedup_key(row["input"]) in seen:
                row, reason = None, "duplicate input"
            if row is None:
                summary.rejected[reason or "invalid"] += 1
                rejects.write({"split": split, "source": source, "index": index, "reason": reason})
                return False
            seen.add(_dedup_key(row["input"]))
            writers[split].write(row)
            return True

        counts = {s: len(existing[s]) for s in SPLITS}
        try:
            with progress_bar(progress, "generating", sum(targets.values()), sum(counts.values())) as advance:
                for i, (row, reason) in enumerate(self._seed_rows()):
                    if ("train", "task-example", i) not in done and keep("train", "task-example", i, row, reason):
                        counts["train"] += 1
                        advance()
                for split in SPLITS:
                    synthetic = [r["provenance"]["index"] for r in existing[split]
                                 if r["provenance"]["source"] == "synthetic"]
                    tried = [r["index"] for r in rejected_before if r["split"] == split and r["source"] == "synthetic"]
                    index = max(synthetic + tried, default=-1) + 1
                    budget = MAX_ATTEMPTS_PER_EXAMPLE * max(targets[split], 1)
                    while counts[split] < targets[split]:
                        if index >= budget:
                            reasons = "; ".join(f"{r} ({n})" for r, n in summary.rejected.most_common(3))
                            raise FormtuneError(f"{split}: only {counts[split]} of {targets[split]} examples "
                                                f"after {index} candidates; top rejections: {reasons}")
                        if keep(split, "synthetic", index, *self._candidate(split, index)):
                            counts[split] += 1
                            advance()
                        index += 1
        finally:
            for writer in [*writers.values(), rejects]:
                writer.close()
        summary.accepted = counts
        (self.folder / "summary.json").write_text(json.dumps(summary.to_dict(), indent=2) + "\n")
        return summary


def build_dataset(task: Task, folder: Path, *, progress: bool = True) -> BuildSummary:
    """Make (or complete) the dataset of ``task`` in ``folder``."""
    return DatasetBuilder(task, folder).build(progress=progress)
