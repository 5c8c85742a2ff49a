"""Making a task's dataset: validated examples as JSONL, built so that nothing made is ever lost,
nothing is made twice, and a folder only ever holds the rows of one version of its task.

A dataset folder holds ``train.jsonl`` and ``eval.jsonl`` — rows in TRL's conversational shape
(``{"messages": [...]}``) plus ``input``, ``output`` and ``provenance`` — ``rejected.jsonl``
(why candidates failed, bounded: see :mod:`formtune.dataset.rejections`), ``dataset.json`` (the
fingerprint of the task, see :mod:`formtune.dataset.fingerprint`) and ``summary.json``.

Guarantees:

- **One writer.** A build holds an exclusive lock on the folder; a second one stops at once with
  an error naming the holder.
- **Fail fast.** Before the first candidate, the hand-written examples are validated, the
  generator is asked for a few outputs and every template renders them; a broken task is one
  :class:`TaskError` (exit 2) and nothing is written. A template that fails later is a task error
  too: dropping the examples it cannot write would silently bias the data. A build whose
  rejection rate shows that the target cannot be reached stops early, naming the top reasons.
- **Resume exactly.** Rows are written whole and flushed as they are accepted; an unfinished last
  row (a kill, a full disk) is cut on the next run, and the build continues from the next
  candidate of each stream. The result is byte-identical to an uninterrupted build.
- **One task version per folder.** Every row carries the task's fingerprint. When the task
  changes, a folder holding rows is refused (the message says what changed) until the build is
  run with ``rebuild``; a folder with no rows yet simply starts over.
- **Exactly the requested count.** Raising ``data.train`` extends the training split; lowering
  it trims the split to its first ``train`` rows (the rows a fresh build would make). Changing
  ``data.eval`` changes the fingerprint, since evaluation rows decide which training inputs are
  duplicates.

The split is deterministic: evaluation and training examples come from separate seeded streams
(evaluation first), optionally from separate templates (``data.holdout_templates``), and an
evaluation input never reappears in training.

Training rows, and only they, get the task's wording machinery, each recorded in the row's
provenance: optional fields dropped from a share of answers (``data.absent``), a share of inputs
written by layouts from the schema (``data.layouts``, :mod:`formtune.layouts`), and augmenters
(``data.augment``), after each of which every answer value that was in the text must still be
there (:mod:`formtune.keep`). Evaluation inputs are written as the held-out templates write them.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from formtune.check import check
from formtune.contrib import Augmenter, Draft, derive_seed
from formtune.conversation import Input, input_key
from formtune.dataset.fingerprint import describe_changes, fingerprint, fingerprint_parts, read_manifest
from formtune.dataset.rejections import RejectionLog, trimmed
from formtune.dataset.store import (Appender, FolderLock, cut_torn_tail, read_rows, write_atomically,
                                    write_rows_atomically)
from formtune.errors import FormtuneError, PluginError, TaskError, UsageError
from formtune.keep import kept_values, lost_values
from formtune.layouts import KINDS as LAYOUTS
from formtune.layouts import Layout, SchemaView, drop_optional
from formtune.progress import progress_bar
from formtune.task import Task
from formtune.violations import Checked

SPLITS = ("eval", "train")  # build order: evaluation first
MAX_ATTEMPTS_PER_EXAMPLE = 20
#: After this many candidates of a split, an acceptance rate under half of what the attempt budget
#: needs stops the build early.
EARLY_STOP_AFTER = 100
#: Outputs drawn to probe the generator and templates before the build.
PROBE_DRAFTS = 5
MANIFEST = "dataset.json"
DATA_FILES = ("eval.jsonl", "train.jsonl", "rejected.jsonl", "summary.json")


@dataclass
class BuildSummary:
    """What a build produced: accepted counts per split, rejection reasons, and what it repaired."""

    folder: Path
    accepted: dict[str, int] = field(default_factory=dict)
    rejected: Counter[str] = field(default_factory=Counter)
    resumed: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    fingerprint: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"folder": str(self.folder), "fingerprint": self.fingerprint, "accepted": self.accepted,
                "rejected": dict(self.rejected.most_common()), "resumed": self.resumed, "notes": self.notes}


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
        self.augmenters = self._augmenters()
        self._parts: dict[str, str] = {}
        self._fingerprint = ""  # set by build(), stored in every row

    def _task_error(self, field_name: str, message: str) -> TaskError:
        return TaskError(f"{self.task.source or self.task.name}: {field_name}: {message}")

    def _augmenters(self) -> list[tuple[Augmenter, float]]:
        """The task's ``data.augment``, resolved: a name nobody registered is an error naming the line."""
        chosen = []
        for name, rate in self.task.spec.data.augment.items():
            try:
                chosen.append((self.task.registry.get("augmenters", name), rate))
            except PluginError as exc:
                raise TaskError(f"{self.task.where('data', 'augment', name)}: data.augment: {exc}") from None
        return chosen

    @property
    def view(self) -> SchemaView:
        """The task's JSON Schema as layouts and absent fields read it (other schemas: an error)."""
        if not isinstance(self.task.schema, dict):
            raise self._task_error("data", f"layouts and data.absent need a JSON Schema; the {self.task.spec.format} "
                                   "format's schema is not one: write templates and set data.layouts and "
                                   "data.absent to 0")
        return self.task.memo("layouts-view", lambda: SchemaView(self.task.schema))

    # -- before any work --------------------------------------------------------------------

    def probe(self) -> None:
        """Stop a broken task before it writes anything: every hand-written example must be valid,
        the generator must make valid outputs, and every template must render them."""
        spec = self.task.spec
        if len(spec.examples) > spec.data.train:
            raise self._task_error("data.train", f"{spec.data.train} is fewer than the {len(spec.examples)} "
                                   "hand-written examples; raise it")
        for i, example in enumerate(spec.examples):
            checked = check(self.format.render(example.output), self.task)
            if not checked.valid:
                raise self._task_error(f"examples[{i}]", f"the output breaks the task at {_why(checked)}; "
                                       "fix the example")
        drafts: list[Draft] = []
        failures: list[str] = []
        for index in range(PROBE_DRAFTS):
            try:
                drafts.append(self.generator.draft(self.task, seed=derive_seed(spec.data.seed, "train"), index=index))
            except TaskError:
                raise  # the generator names the task file's line (a wrong hint)
            except FormtuneError as exc:
                failures.append(str(exc))
        if not drafts:
            raise self._task_error("data.generator", f"{self.generator.name} cannot make an output: {failures[0]}")
        verdicts = [check(self.format.render(d.output), self.task) for d in drafts]
        if not any(v.valid for v in verdicts):
            raise self._task_error("data.generator", f"{self.generator.name} makes outputs that break the task "
                                   f"({_why(verdicts[0])})")
        if spec.data.layouts or spec.data.absent or (not self.task.templates and any(d.input is None for d in drafts)):
            self.view  # noqa: B018 - layouts need a JSON Schema: say so before any work
        unwritten = [d for d in drafts if d.input is None]  # a draft with its own input needs no template
        for template in self.task.templates.values():
            for draft in unwritten:
                template.render(draft.output, random.Random(0))  # a bug raises TaskError

    def _claim(self, rebuild: bool) -> list[str]:
        """Make the folder ours for this fingerprint: continue it, or start over (see the module
        docstring); returns notes for the user."""
        manifest_path = self.folder / MANIFEST
        manifest = read_manifest(manifest_path)
        has_rows = any((self.folder / f"{s}.jsonl").is_file() and (self.folder / f"{s}.jsonl").stat().st_size
                       for s in SPLITS)
        has_files = manifest is not None or any((self.folder / f).exists() for f in DATA_FILES)
        if manifest is not None and manifest.get("fingerprint") == self._fingerprint and not rebuild:
            return []
        notes = []
        if has_files:
            if manifest and "parts" in manifest:
                changes = describe_changes(manifest["parts"], self._parts) or "nothing that shapes the data"
            else:
                changes = "it was made without a fingerprint (an older formtune, or an edited folder)"
            if has_rows and not rebuild:
                source = self.task.source or "TASK_FILE"
                raise UsageError(f"{self.folder} holds rows made for another version of the task ({changes}); "
                                 f"make them again with `formtune generate {source} --out {self.folder} "
                                 "--rebuild`, or write into another folder")
            notes.append(f"started over: {changes}" if not rebuild else "rebuilt from scratch")
            manifest_path.unlink(missing_ok=True)  # first: a folder without a manifest is never continued
            for name in DATA_FILES:
                (self.folder / name).unlink(missing_ok=True)
        manifest = {"fingerprint": self._fingerprint, "parts": self._parts}
        write_atomically(manifest_path, json.dumps(manifest, indent=2) + "\n")
        return notes

    # -- one candidate ----------------------------------------------------------------------

    def _candidate(self, split: str, index: int, stream: str | None = None) -> tuple[dict[str, Any] | None, str | None]:
        """A finished row, or ``None`` and the reason it was rejected. ``stream`` names the seeded
        stream of candidates (default: the split's); training rows, of any stream, get the task's
        absent fields, layouts and augmenters."""
        seed = self.task.spec.data.seed
        stream = stream or split
        try:
            draft: Draft = self.generator.draft(self.task, seed=derive_seed(seed, stream), index=index)
        except FormtuneError as exc:
            return None, f"generator: {exc}"
        output, meta = draft.output, dict(draft.meta)
        training = split == "train"
        if training and self.task.spec.data.absent and draft.input is None:
            rng = random.Random(derive_seed(seed, stream, index, "absent"))
            output, dropped = drop_optional(output, self.view, rng, self.task.spec.data.absent)
            if dropped:
                meta["absent"] = dropped
        template = None
        input_text = draft.input
        if input_text is None:
            input_text, template, layout = self._write(split, stream, index, output)
            if layout:
                meta["layout"] = layout
        if training and self.augmenters and isinstance(input_text, str):
            input_text, used, lost = self._augment(input_text, output, stream, index)
            if used:
                meta["augmenters"] = used
            if lost:
                return None, f"augmenter {lost[0]} lost an answer value"
        return self._row(split, index, input_text, output, {
            "source": "synthetic", "generator": self.generator.name, "template": template,
            **({"stream": stream} if stream != split else {}), **meta})

    def draw(self, stream: str, index: int) -> tuple[dict[str, Any] | None, str | None]:
        """The ``index``-th training-style candidate of a stream of its own (``"fix"``,
        ``"regression"``), made like training rows but apart from them: a row, or ``None`` and why."""
        if not self._fingerprint:
            self._parts = fingerprint_parts(self.task)
            self._fingerprint = fingerprint(self._parts)
        return self._candidate("train", index, stream=stream)

    def _write(self, split: str, stream: str, index: int, output: Any) -> tuple[str, str | None, str | None]:
        """The input for ``output``: ``(text, template, layout)``. Training inputs come from a
        layout with the share ``data.layouts``; a task without templates uses layouts only."""
        seed = self.task.spec.data.seed
        share = self.task.spec.data.layouts if split == "train" else 0.0
        if self.task.templates and share:
            chooser = random.Random(derive_seed(seed, stream, index, "layout"))
            use_layout = chooser.random() < share
        else:
            use_layout = not self.task.templates
        if use_layout:
            rng = random.Random(derive_seed(seed, stream, index, "layout", "write"))
            kind = rng.choice(LAYOUTS)
            return Layout(self.view, rng, self.task.spec.phrases).render(kind, output), None, kind
        rng = random.Random(derive_seed(seed, stream, index, "template"))
        template = rng.choice(self.templates[split])
        return self.task.templates[template].render(output, rng), template, None

    def _augment(self, text: str, output: Any, stream: str, index: int) -> tuple[str, list[str], list[str]]:
        """``text`` through the task's augmenters, each with its chance: the new text, the names of
        those applied, and the name of the first that lost an answer value (then nothing else runs)."""
        rng = random.Random(derive_seed(self.task.spec.data.seed, stream, index, "augment"))
        keep = kept_values(text, output)
        used = []
        for augmenter, rate in self.augmenters:
            if rng.random() >= rate:
                continue
            text = augmenter.augment(text, output=output, keep=keep, rng=rng, task=self.task)
            used.append(augmenter.name)
            if lost_values(text, keep):
                return text, used, [augmenter.name]
        return text, used, []

    def _row(self, split: str, index: int, input_text: Input, output: Any,
             provenance: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
        output_text = self.format.render(output)
        checked = check(output_text, self.task)
        if not checked.valid:
            first = (checked.violations or [None])[0]
            return None, f"invalid: {first.kind} at {first.path or '/'}" if first else "invalid"
        provenance = {**provenance, "seed": self.task.spec.data.seed, "index": index, "validation": "valid",
                      "fingerprint": self._fingerprint}
        return {
            **self.format.conversation(self.task, input_text, output_text),
            "input": input_text, "output": output, "split": split, "provenance": provenance,
        }, None

    # -- the build --------------------------------------------------------------------------

    def build(self, progress: bool = True, rebuild: bool = False) -> BuildSummary:
        """Make the missing examples of every split; rerun it to continue after an interruption.
        ``rebuild`` discards what the folder holds and starts over."""
        if self.folder.exists() and not self.folder.is_dir():
            raise UsageError(f"{self.folder} is a file, not a dataset folder; give a folder")
        self.probe()
        self._parts = fingerprint_parts(self.task)
        self._fingerprint = fingerprint(self._parts)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"cannot create the dataset folder {self.folder} ({exc.strerror})") from None
        with FolderLock(self.folder):
            return self._build_locked(progress, notes=self._claim(rebuild))

    def _existing(self, notes: list[str]) -> tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]]]:
        """The rows and rejections already in the folder, with unfinished rows cut and splits
        trimmed to their targets."""
        data = self.task.spec.data
        targets = {"eval": data.eval, "train": data.train}
        paths = {name: self.folder / f"{name}.jsonl" for name in (*SPLITS, "rejected")}
        for path in paths.values():
            if (line := cut_torn_tail(path)) is not None:
                notes.append(f"removed an unfinished row at {path}:{line}")
        try:
            rows = {s: read_rows(paths[s]) for s in SPLITS}
            rejected = read_rows(paths["rejected"])
        except UsageError as exc:
            raise UsageError(f"{exc}; the folder was edited or damaged: make it again with --rebuild") from None
        for split in SPLITS:
            for number, row in enumerate(rows[split], start=1):
                if row.get("provenance", {}).get("fingerprint") != self._fingerprint:
                    raise UsageError(f"{paths[split]}:{number}: a row of another task version; make the folder "
                                     "again with --rebuild")
            if len(rows[split]) > targets[split]:
                kept = rows[split][:targets[split]]
                last = max((r["provenance"]["index"] for r in kept if r["provenance"]["source"] == "synthetic"),
                           default=-1)
                rejected = trimmed(rejected, split, "synthetic", last)
                write_rows_atomically(paths["rejected"], rejected)
                write_rows_atomically(paths[split], kept)
                notes.append(f"trimmed {paths[split].name} from {len(rows[split])} to {len(kept)} rows "
                             f"(data.{split} is {targets[split]})")
                rows[split] = kept
        return rows, rejected

    def _build_locked(self, progress: bool, notes: list[str]) -> BuildSummary:
        data = self.task.spec.data
        targets = {"eval": data.eval, "train": data.train}
        existing, rejected_before = self._existing(notes)
        seen = {input_key(row["input"]) for rows in existing.values() for row in rows}
        summary = BuildSummary(self.folder, resumed={s: len(existing[s]) for s in SPLITS}, notes=notes,
                               fingerprint=self._fingerprint)
        rejects = RejectionLog(self.folder / "rejected.jsonl", rejected_before)
        writers = {s: Appender(self.folder / f"{s}.jsonl") for s in SPLITS}
        counts = {s: len(existing[s]) for s in SPLITS}

        def next_index(split: str, source: str) -> int:
            made = [r["provenance"]["index"] for r in existing[split] if r["provenance"]["source"] == source]
            return max(max(made, default=-1) + 1, rejects.next_index(split, source))

        def keep(split: str, source: str, index: int, row: dict[str, Any] | None, reason: str | None) -> bool:
            if row is not None and input_key(row["input"]) in seen:
                row, reason = None, "duplicate input"
            if row is None:
                rejects.add(split, source, index, reason or "invalid")
                return False
            rejects.flush()  # every rejection before this row is on disk before the row is
            seen.add(input_key(row["input"]))
            writers[split].write(row)
            counts[split] += 1
            return True

        try:
            with progress_bar(progress, "generating", sum(targets.values()), sum(counts.values())) as advance:
                examples = self.task.spec.examples
                for i in range(next_index("train", "task-example"), len(examples)):
                    example = examples[i]
                    row, reason = self._row("train", i, example.input, example.output,
                                            {"source": "task-example", "generator": None, "template": None})
                    if keep("train", "task-example", i, row, reason):
                        advance()
                for split in SPLITS:
                    index = next_index(split, "synthetic")
                    made = sum(r["provenance"]["source"] == "synthetic" for r in existing[split])
                    while counts[split] < targets[split]:
                        self._give_up_if_hopeless(split, index, made, counts[split], rejects)
                        if keep(split, "synthetic", index, *self._candidate(split, index)):
                            made += 1
                            advance()
                        index += 1
        finally:
            try:
                rejects.close()
            finally:
                for writer in writers.values():
                    writer.close()
        summary.accepted = counts
        summary.rejected = rejects.total()
        write_atomically(self.folder / "summary.json", json.dumps(summary.to_dict(), indent=2) + "\n")
        return summary

    def _give_up_if_hopeless(self, split: str, index: int, made: int, count: int, rejects: RejectionLog) -> None:
        """Stop when the attempt budget is spent, or early when so few candidates are accepted
        that the budget cannot be enough (a task error: the schema, templates or generator)."""
        target = getattr(self.task.spec.data, split)
        budget = MAX_ATTEMPTS_PER_EXAMPLE * max(target, 1)
        hopeless = index >= EARLY_STOP_AFTER and made * 2 * MAX_ATTEMPTS_PER_EXAMPLE < index
        if index < budget and not hopeless:
            return
        reasons = "; ".join(f"{r} ({n})" for r, n in rejects.counts.get(split, Counter()).most_common(3))
        raise TaskError(f"{split}: only {count} of {target} examples after {index} candidates "
                        f"({made} accepted), too few to reach {target}; top rejections: {reasons or 'none'}")


def _why(checked: Checked) -> str:
    """``path: message`` of the first violation of an invalid document, for the probe's errors. A
    format may call its own rendering invalid without a violation (it parsed only leniently)."""
    if not checked.violations:
        return "/: the format rejects its own rendering and gives no reason"
    first = checked.violations[0]
    return f"{first.path or '/'}: {first.message}"


def build_dataset(task: Task, folder: Path, *, progress: bool = True, rebuild: bool = False) -> BuildSummary:
    """Make (or complete) the dataset of ``task`` in ``folder``; ``rebuild`` starts it over."""
    return DatasetBuilder(task, folder).build(progress=progress, rebuild=rebuild)
