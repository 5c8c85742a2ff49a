"""Run folders and the whole loop: generate → train → evaluate → report.

A run folder (``runs/<task>/`` unless ``--out`` names another) holds ``run.json`` (which task,
data and model it is about), what the trainer writes (``config.json``, ``adapter/``, logs,
checkpoints), and what the evaluator writes (``metrics.json``, ``predictions/``), then
``report.html``. The default folder is stable, so rerunning an interrupted ``formtune train``
resumes it; a finished run is never overwritten by accident (``--fresh`` starts over).
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import time
from pathlib import Path
from typing import Any

from formtune.dataset import build_dataset, read_rows
from formtune.errors import PluginError, UsageError
from formtune.evaluate import EvalExample, Variant, evaluate, load_examples, standard_variants
from formtune.generation import BATCH_SIZE
from formtune.task import Task, load_task
from formtune.train_config import TrainConfig


def default_run_dir(task: Task, root: Path = Path("runs")) -> Path:
    return root / task.name


def training_finished(run: Path) -> bool:
    """True when ``run`` holds a training run that ran to its end (not interrupted)."""
    path = Path(run) / "train_metrics.json"
    try:
        return not json.loads(path.read_text())["interrupted"]
    except (OSError, ValueError, KeyError):
        return False


def claim_run(run: Path, *, fresh: bool) -> None:
    """Make ``run`` ready for training: resume an interrupted run, start over with ``fresh``, and
    refuse to overwrite a finished one."""
    if fresh and run.exists():
        shutil.rmtree(run)
    elif training_finished(run):
        raise UsageError(f"{run} already holds a finished training run; evaluate it with `formtune eval {run}`, "
                         "train again from scratch with --fresh, or pick another folder with --out")


def default_data_dir(task: Task) -> Path:
    return Path("data") / task.name


def write_run_info(run: Path, task_file: Path, data: Path | None, model: str | None,
                   adapter: Path | None = None) -> None:
    """Record what the run is about; ``adapter`` defaults to the run's own ``adapter/``."""
    run.mkdir(parents=True, exist_ok=True)
    info = {"task": str(Path(task_file).resolve()), "data": str(Path(data).resolve()) if data else None,
            "model": model, "adapter": str(Path(adapter).resolve()) if adapter else None}
    (run / "run.json").write_text(json.dumps(info, indent=2) + "\n")


def read_run_info(run: Path) -> dict[str, Any]:
    path = Path(run) / "run.json"
    if not path.is_file():
        raise UsageError(f"{run} is not a formtune run folder (no run.json); make one with `formtune train`")
    return json.loads(path.read_text())


def train_config(task: Task, overrides: dict[str, Any] | None = None) -> TrainConfig:
    """The task's ``training:`` settings (checked when the task was loaded) with ``overrides`` on top."""
    from pydantic import ValidationError

    settings = task.spec.training.model_dump(exclude_unset=True)
    try:
        return TrainConfig(**{**settings, **(overrides or {})})
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        raise UsageError(f"option {field}: {err['msg']}") from None


def _train_in(run: Path, task: Task, data: Path, model: str | None, overrides: dict[str, Any] | None) -> None:
    """Fine-tune on the dataset in ``data``, writing into ``run``; Ctrl-C stops after a checkpoint."""
    from formtune.train import train

    result = train(model, read_rows(data / "train.jsonl"), None, train_config(task, overrides), run)
    if result.interrupted:
        raise KeyboardInterrupt


def train_task(task_file: Path, *, model: str | None = None, data: Path | None = None,
               run: Path | None = None, overrides: dict[str, Any] | None = None, fresh: bool = False,
               progress: bool = True) -> Path:
    """Make the task's dataset if needed, fine-tune on it, and return the run folder.

    The run folder defaults to ``runs/<task>``: rerunning after an interruption resumes there.
    """
    task = load_task(task_file)
    train_config(task, overrides)  # a bad setting fails before any data is made
    data = data or default_data_dir(task)
    run = run or default_run_dir(task)
    claim_run(run, fresh=fresh)
    build_dataset(task, data, progress=progress)
    write_run_info(run, task_file, data, model)
    _train_in(run, task, data, model, overrides)
    return run


def eval_examples(task: Task, info: dict[str, Any], data_file: Path | None, limit: int | None) -> list[EvalExample]:
    """Labelled examples from ``--data``, else the run's held-out split."""
    if data_file is None:
        if not info.get("data"):
            raise UsageError("no dataset is known for this run; pass --data FILE.jsonl")
        data_file = Path(info["data"]) / "eval.jsonl"
    examples = load_examples(data_file, task)
    return examples[:limit] if limit else examples


def eval_run(run: Path, *, data_file: Path | None = None, variants: list[str] | None = None,
             limit: int | None = None, batch_size: int = BATCH_SIZE, progress: bool = True) -> dict[str, Any]:
    """Evaluate the run's variants (all standard ones unless ``variants`` names some)."""
    info = read_run_info(run)
    task = load_task(info["task"])
    chosen = _chosen(standard_variants(info.get("model"), run_adapter(run, info)), variants)
    return evaluate(task, eval_examples(task, info, data_file, limit), chosen, Path(run),
                    batch_size=batch_size, progress=progress)


def run_adapter(run: Path, info: dict[str, Any]) -> Path | None:
    """The run's LoRA adapter (its own ``adapter/`` or the one ``eval --adapter`` named), None before training."""
    adapter = Path(info.get("adapter") or Path(run) / "adapter")
    trained = (adapter / "adapter_config.json").is_file()
    if info.get("adapter") and not trained:  # named by the user (eval --adapter): say it is not one
        raise UsageError(f"{adapter} holds no LoRA adapter (no adapter_config.json); give the adapter/ folder "
                         "of a training run")
    return adapter if trained else None


def _chosen(available: list[Variant], names: list[str] | None) -> list[Variant]:
    """The variants ``names`` picks out of ``available`` (all of them when None)."""
    if not names:
        return available
    unknown = set(names) - {v.name for v in available}
    if unknown:
        raise UsageError(f"unknown variant(s) {sorted(unknown)}; this run has: {[v.name for v in available]}")
    return [v for v in available if v.name in names]


def eval_model(task_file: Path, *, model: str | None, adapter: Path | None, data_file: Path | None,
               run: Path | None = None, **kwargs: Any) -> Path:
    """Evaluate any model (and adapter) on a task without a training run; returns the new run folder."""
    task = load_task(task_file)
    data_dir = default_data_dir(task) if data_file is None else None
    if data_dir is not None:
        build_dataset(task, data_dir, progress=kwargs.get("progress", True))
    run = run or Path("runs") / f"{task.name}-eval-{time.strftime('%Y%m%d-%H%M%S')}"
    write_run_info(run, task_file, data_dir, model, adapter)
    eval_run(run, data_file=data_file, **kwargs)
    return run


def demo(task_file: Path, out: Path, *, progress: bool = True) -> Path:
    """The whole loop on one task: data, baselines, training, tuned model, report."""
    from formtune.report import print_table, write_report

    task = load_task(task_file)
    data, run = out / "data", out / "run"
    claim_run(run, fresh=training_finished(run))  # a finished demo starts over; an interrupted one resumes
    timings: dict[str, float] = {}

    def step(name: str, began: float) -> None:
        timings[name] = round(time.perf_counter() - began, 1)
        print(f"[demo] {name}: {timings[name]} s", flush=True)

    began = time.perf_counter()
    build_dataset(task, data, progress=progress)
    write_run_info(run, task_file, data, None)
    step("generate", began)
    began = time.perf_counter()
    eval_run(run, variants=["base", "base+constrained"], progress=progress)
    step("evaluate base models", began)
    began = time.perf_counter()
    _train_in(run, task, data, None, None)
    step("train", began)
    began = time.perf_counter()
    eval_run(run, variants=["tuned", "tuned+constrained"], progress=progress)
    step("evaluate tuned model", began)
    (run / "timings.json").write_text(json.dumps(timings, indent=2) + "\n")
    print_table(run)
    print(f"report: {write_report(run)}")
    return run


def benchmark_run(name: str, source: Path, *, run: Path | None = None, task_file: Path | None = None,
                  model: str | None = None, adapter: Path | None = None, variants: list[str] | None = None,
                  limit: int | None = None, batch_size: int = BATCH_SIZE,
                  progress: bool = True) -> tuple[Path, dict[str, dict[str, Any]]]:
    """Run a plugin's benchmark (``formtune eval --benchmark``) on the base model and, when there is
    an adapter, the tuned one. Returns the JSON file the results were written to, inside ``run``
    (``<run>/benchmarks/<name>-<source stem>.json``) or a new folder under ``runs/``, and the results
    by variant."""
    from formtune.plugins import get_registry

    try:
        benchmark = get_registry().get("benchmarks", name)
    except PluginError as exc:
        raise UsageError(f"--benchmark: {exc}") from None
    if not Path(source).exists():
        raise UsageError(f"{source}: no such file (--data names the benchmark's source)")
    task = None
    if run is not None:
        info = read_run_info(run)
        task, model, adapter = load_task(info["task"]), info.get("model"), run_adapter(run, info)
    elif task_file is not None:
        task = load_task(task_file)
    available = [Variant("base", model)] + ([Variant("tuned", model, adapter=adapter)] if adapter else [])
    results = {}
    for variant in _chosen(available, variants):
        result = benchmark.run(Path(source), model=model, adapter=variant.adapter, task=task, limit=limit,
                               batch_size=batch_size, progress=progress)
        results[variant.name] = dataclasses.asdict(result)
    folder = Path(run) if run is not None else Path("runs") / f"{name}-eval-{time.strftime('%Y%m%d-%H%M%S')}"
    out = folder / "benchmarks" / f"{name}-{Path(source).stem}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"benchmark": name, "source": str(source), "model": model,
                               "adapter": str(adapter) if adapter else None, "variants": results},
                              indent=1, ensure_ascii=False), encoding="utf-8")
    return out, results
