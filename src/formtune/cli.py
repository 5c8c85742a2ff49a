"""The ``formtune`` command: a thin shell over the Python API.

Exit codes: 0 success; 1 the work found a problem (an invalid file, a failed build);
2 a usage error, a bad task, schema or plugin. Errors print one ``ERROR:`` line, no traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from formtune.errors import FormtuneError, PluginError, SchemaError, TaskError, UsageError

USER_ERRORS = (UsageError, TaskError, SchemaError, PluginError)


class _Group(click.Group):
    """Turns formtune errors into one ``ERROR:`` line and the right exit code."""

    def invoke(self, ctx: click.Context):  # type: ignore[no-untyped-def]
        try:
            return super().invoke(ctx)
        except FormtuneError as exc:
            click.echo(f"ERROR: {exc}", err=True)
            sys.exit(2 if isinstance(exc, USER_ERRORS) else 1)
        except KeyboardInterrupt:
            click.echo("interrupted; what was finished is kept — rerun the same command to continue", err=True)
            sys.exit(130)


@click.group(cls=_Group)
@click.version_option(package_name="formtune")
@click.option("--plugin", "plugin_files", multiple=True, type=click.Path(path_type=Path),
              help="Load a local plugin file (repeatable).")
def cli(plugin_files: tuple[Path, ...]) -> None:
    """Fine-tune small language models until they reliably speak a machine format."""
    if plugin_files:
        from formtune.plugins import add_local_plugins

        add_local_plugins(plugin_files)


@cli.command()
@click.option("--schema", required=True, type=click.Path(path_type=Path), help="JSON Schema file.")
@click.option("--format", "fmt", default="json", show_default=True, help="Output format of the files.")
@click.option("--lenient", is_flag=True, help="Extract documents from fences or prose (still reported invalid).")
@click.option("--json", "as_json", is_flag=True, help="Print results as JSON.")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def validate(schema: Path, fmt: str, lenient: bool, as_json: bool, files: tuple[Path, ...]) -> None:
    """Check that each FILE is exactly one valid document of the schema."""
    from formtune.api import validate_files

    results = validate_files(schema, list(files), fmt, lenient)
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in results], indent=2, ensure_ascii=False))
    else:
        for r in results:
            click.echo(f"{r.file}: {'valid' if r.valid else 'INVALID'}")
            for v in r.errors:
                click.echo(f"  {v.path or '/'}: {v.message}")
    sys.exit(0 if all(r.valid for r in results) else 1)


@cli.command()
@click.option("--schema", required=True, type=click.Path(path_type=Path), help="JSON Schema file.")
@click.option("-n", "count", default=1, show_default=True, type=click.IntRange(min=0), help="How many instances.")
@click.option("--seed", default=0, show_default=True, help="Seed; the same seed prints the same instances.")
@click.option("--generator", default="schema-sampler", show_default=True, help="Registered generator to use.")
def sample(schema: Path, count: int, seed: int, generator: str) -> None:
    """Print valid instances of a schema, one JSON document per line."""
    from formtune.api import sample_instances

    for instance in sample_instances(schema, count, seed, generator):
        click.echo(json.dumps(instance, ensure_ascii=False))


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def plugins(as_json: bool) -> None:
    """List the loaded plugins and what each contributes."""
    from formtune.plugins import KINDS, get_registry

    rows = get_registry().describe()
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("plugin", *KINDS)
    for row in rows:
        table.add_row(row["name"], *(", ".join(row[k]) or "-" for k in KINDS))
    Console().print(table)


@cli.command()
@click.argument("name")
@click.option("--dir", "folder", type=click.Path(path_type=Path), help="Where to create it (default: ./NAME).")
def init(name: str, folder: Path | None) -> None:
    """Scaffold a task folder: task.yaml, a schema and an input template."""
    from formtune.scaffold import scaffold_task

    path = scaffold_task(name, folder or Path(name))
    click.echo(f"created {path}; next: formtune generate {path}")


@cli.command()
@click.argument("task_file", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), help="Dataset folder (default: data/<task name>).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def generate(task_file: Path, out: Path | None, quiet: bool) -> None:
    """Build the task's validated dataset; rerun to continue an interrupted build."""
    from formtune.dataset import build_dataset
    from formtune.task import load_task

    task = load_task(task_file)
    summary = build_dataset(task, out or Path("data") / task.name, progress=not quiet)
    accepted = ", ".join(f"{n} {split}" for split, n in summary.accepted.items())
    click.echo(f"{summary.folder}: accepted {accepted}; rejected {sum(summary.rejected.values())}")
    for reason, n in summary.rejected.most_common(5):
        click.echo(f"  {n:5d}  {reason}")


@cli.command("schema")
def task_schema() -> None:
    """Print the JSON Schema of task files (kept in schemas/task.schema.json)."""
    from formtune.task import dump_task_json_schema

    click.echo(dump_task_json_schema(), nl=False)


def main() -> None:
    cli(prog_name="formtune")
