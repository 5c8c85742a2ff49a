"""The evaluator: the same held-out inputs through several model variants, scored by the
plugins' metrics, with prompt tokens and latency per example.

Variants say what they are:

- ``base``: the untuned model with the full prompt (instructions + the schema, as the task's
  format shows it);
- ``base+constrained``: the same, decoding constrained by outlines to what the format's
  ``constraint`` admits;
- ``tuned``: the fine-tuned model with the short prompt (the instructions only);
- ``tuned+constrained``: the fine-tuned model under the same constraint.

A format that offers no constraint for a task makes its task "unconstrained only": the
constrained variants are skipped and ``metrics.json`` says why under ``notes``.

Each variant writes ``predictions/<variant>.jsonl`` (every output with its violations and
scores) and its averages into ``metrics.json`` as ``{"variants": {"<variant>": {...}}, "metrics":
{"<metric>": {"description", "higher_is_better"}}, "notes": {...}}``.  When the inputs come from
more than one template (several held-out wordings), ``"by_template": {"<variant>": {"<template>":
{...}}}`` holds the averages of each wording apart, so that a wording the model never learns does
not hide behind one it reads well.  The model runs on the GPU when there is one.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from formtune.check import check
from formtune.contrib import Attempt, Metric
from formtune.conversation import Input
from formtune.dataset import numbered_rows, read_rows
from formtune.errors import UsageError
from formtune.generation import BATCH_SIZE, build_constraint, generate
from formtune.metrics import CORE_METRICS
from formtune.progress import progress_bar
from formtune.task import Task
from formtune.violations import Checked, Violation


@dataclass
class EvalExample:
    """An input (a text, or the messages before the answer) and, when known, the expected output."""

    input: Input
    expected: Any = None
    meta: dict[str, Any] = field(default_factory=dict)  # the row's provenance (facts a generator sampled)


@dataclass
class Variant:
    """One way of producing outputs: a model (+ adapter), a prompt style, constrained or not."""

    name: str
    model: str | None = None  # any spec formtune.models.resolve_model accepts
    adapter: Path | None = None
    prompt: str = "short"  # "short": instructions only; "full": instructions + schema
    constrained: bool = False


def standard_variants(model: str | None, adapter: Path | None) -> list[Variant]:
    """base and base+constrained; tuned and tuned+constrained when there is an adapter."""
    variants = [Variant("base", model, prompt="full"), Variant("base+constrained", model, prompt="full", constrained=True)]
    if adapter is not None:
        variants += [Variant("tuned", model, adapter=adapter, prompt="short"),
                     Variant("tuned+constrained", model, adapter=adapter, prompt="short", constrained=True)]
    return variants


def load_examples(path: Path, task: Task) -> list[EvalExample]:
    """Labelled examples from a JSONL file: ``{"input", "output"}`` rows or chat rows."""
    fmt = task.format
    examples = []
    if not Path(path).is_file():
        raise UsageError(f"{path}: no such file")
    for number, row in numbered_rows(Path(path)):  # an unreadable row is an error naming file:line
        meta = row.get("provenance") or {}
        if "input" in row:
            examples.append(EvalExample(row["input"], row.get("output"), meta))
        elif "messages" in row:
            turns = [m for m in row["messages"] if m["role"] != "system"]
            if not any(m["role"] == "user" for m in turns):
                raise UsageError(f"{path}:{number}: a chat row needs a user message")
            expected = None
            if turns[-1]["role"] == "assistant":  # the answer to score against
                answer = fmt.parse(turns.pop()["content"])
                if not answer.parsed:
                    raise UsageError(f"{path}:{number}: the answer does not parse: {answer.violations[0].message}")
                expected = answer.value
            single = len(turns) == 1 and isinstance(turns[0].get("content"), str)
            examples.append(EvalExample(turns[0]["content"] if single else turns, expected, meta))
        else:
            raise UsageError(f"{path}:{number}: expected {{\"input\": …, \"output\": …}} or {{\"messages\": […]}}")
    if not examples:
        raise UsageError(f"{path}: no examples")
    return examples


def _max_new_tokens(tokenizer: Any, task: Task, examples: list[EvalExample]) -> int:
    """Room for the longest reference answer and a margin; 512 when there are no references.
    (A row that runs out of it is decoded once more with twice the room: see :func:`evaluate`.)"""
    lengths = [len(tokenizer(task.format.render(e.expected), add_special_tokens=False)["input_ids"])
               for e in examples if e.expected is not None]
    return int(max(lengths) * 1.25) + 16 if lengths else 512


def task_metrics(task: Task) -> dict[str, Metric]:
    """The core metrics, the plugin metrics that apply to the task's format, and those plugins
    contribute for this task alone (``register_task_metrics``)."""
    return {**CORE_METRICS, **task.registry.metrics_for(task.spec.format), **task.registry.task_metrics(task)}


def _device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def evaluate(task: Task, examples: list[EvalExample], variants: list[Variant], out_dir: Path, *,
             batch_size: int = BATCH_SIZE, progress: bool = True) -> dict[str, Any]:
    """Run every variant on ``examples``; write predictions and ``metrics.json`` into ``out_dir``."""
    from formtune.hardware import bf16_supported
    from formtune.models import load_model
    from formtune.train import load_tuned

    out_dir = Path(out_dir)
    (out_dir / "predictions").mkdir(parents=True, exist_ok=True)
    metrics_path = out_dir / "metrics.json"
    report = json.loads(metrics_path.read_text()) if metrics_path.exists() else {}
    report.setdefault("variants", {})
    metrics = task_metrics(task)
    report["metrics"] = {name: {"description": m.description, "higher_is_better": m.higher_is_better,
                                **({"group": m.group} if m.group else {})}
                         for name, m in metrics.items()}
    decoding = task.format.constraint(task) if any(v.constrained for v in variants) else None
    dtype = "bfloat16" if bf16_supported() else "float32"  # AMX / modern GPUs decode fast in bf16
    device = _device()

    for variant in variants:
        if variant.constrained and decoding is None:
            report.setdefault("notes", {})[variant.name] = (
                f"skipped: the {task.spec.format} format offers no decoding constraint for this task "
                "(unconstrained only)")
            metrics_path.write_text(json.dumps(report, indent=2) + "\n")
            continue
        if variant.adapter is not None:
            model, tokenizer = load_tuned(variant.model, variant.adapter, dtype=dtype)
        else:
            model, tokenizer = load_model(variant.model, for_training=False, dtype=dtype)
        model.to(device)
        system = task.format.prompt(task) if variant.prompt == "full" else task.format.instructions(task)
        conversations = [task.format.conversation(task, e.input, system=system) for e in examples]
        constraint = build_constraint(model, tokenizer, decoding.output_type) if variant.constrained else None
        # A lenient task scores text around a document too, so no row is cut short there.
        viable = None if task.spec.lenient else task.format.viable
        room = _max_new_tokens(tokenizer, task, examples)
        with progress_bar(progress, f"eval {variant.name}", len(examples)) as advance:
            outputs = generate(model, tokenizer, conversations, batch_size=batch_size, constraint=constraint,
                               viable=viable, max_new_tokens=room, retry_room=2 * room, on_batch=advance)
        predictions = out_dir / "predictions" / f"{variant.name}.jsonl"
        scores = _score(task, examples, outputs, metrics, predictions, task.format.completion_reader(task, tokenizer))
        by_template = template_averages(read_rows(predictions))
        if by_template:
            report.setdefault("by_template", {})[variant.name] = by_template
        if constraint is not None:
            scores["constraint_ms_per_token"] = constraint.ms_per_token
            scores["constraint_compile_s"] = round(constraint.compile_s, 3)
            if decoding.notes:
                report.setdefault("notes", {})[variant.name] = "constraint guards: " + "; ".join(decoding.notes)
        report["variants"][variant.name] = scores
        metrics_path.write_text(json.dumps(report, indent=2) + "\n")  # kept after every variant
        del model
    return report


def _score(task: Task, examples: list[EvalExample], outputs: list[dict[str, Any]], metrics: dict[str, Metric],
           predictions_path: Path, reader: Callable[[str], str] | None = None) -> dict[str, float]:
    """Apply every metric; write one prediction row per example; return the averages. ``reader``
    (:meth:`formtune.Format.completion_reader`) turns each completion into the format's text
    first; the prediction row then keeps both (``completion``, ``read_as``)."""
    row_scores: list[dict[str, float | None]] = []
    with predictions_path.open("w", encoding="utf-8") as fh:
        for example, output in zip(examples, outputs):
            checked = _read_and_check(output, reader, task, example)
            attempt = Attempt(example.input, checked, example.expected, task, example.meta)
            scores = {name: metric.score(attempt) for name, metric in metrics.items()}
            row_scores.append(scores)
            expected_text = None if example.expected is None else task.format.render(example.expected)
            template = {"template": example.meta["template"]} if "template" in example.meta else {}
            fh.write(json.dumps({**output, "input": example.input, **template, "expected": example.expected,
                                 "expected_text": expected_text, "valid": checked.valid, "scores": scores,
                                 "violations": [v.to_dict() for v in checked.violations]},
                                ensure_ascii=False) + "\n")
    averages = mean_scores(row_scores)
    for key in ("prompt_tokens", "latency_s"):
        averages[key] = sum(o[key] for o in outputs) / len(outputs)
    averages["n"] = len(outputs)
    return averages


def mean_scores(rows: Iterable[dict[str, float | None]]) -> dict[str, float]:
    """Each metric's average over the rows that scored it (``None``: the metric does not apply)."""
    totals: dict[str, list[float]] = defaultdict(list)
    for scores in rows:
        for name, value in scores.items():
            if value is not None:
                totals[name].append(value)
    return {name: sum(values) / len(values) for name, values in totals.items()}


def template_averages(predictions: Iterable[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """:func:`mean_scores` per input template (prediction rows' ``template``), with ``n`` rows;
    empty unless the rows come from two templates or more."""
    by_template: dict[str, list[dict[str, float | None]]] = defaultdict(list)
    for row in predictions:
        if row.get("template") is not None:
            by_template[row["template"]].append(row["scores"])
    if len(by_template) < 2:
        return {}
    return {t: {**mean_scores(by_template[t]), "n": len(by_template[t])} for t in sorted(by_template)}


def _read_and_check(output: dict[str, Any], reader: Callable[[str], str] | None, task: Task,
                    example: EvalExample) -> Checked:
    """The check of one completion, read into the format's text first when the format has a
    reader; a completion the reader cannot read is a parse failure (``output`` gets ``read_as``)."""
    text = output["completion"]
    if reader is not None:
        try:
            text = output["read_as"] = reader(text)
        except ValueError as exc:
            output["read_as"] = None
            return Checked(output["completion"], violations=[Violation("", f"unreadable: {exc}", "parse")])
    return check(text, task, input=example.input, meta=example.meta)
