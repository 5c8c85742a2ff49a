"""The plugin's commands: ``formtune tools check``, ``formtune tools bfcl`` and ``formtune score-calls``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from formtune.errors import SchemaError, UsageError


def _print_summary(summary: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(summary))
        return
    from formtune.report import score_lines

    headline, *failures = score_lines(summary["accuracy"], summary["n"], summary["errors"])
    click.echo("\n".join([f"accuracy {headline}", *failures]))


def _dialect(name: str) -> Any:
    from formtune.errors import PluginError
    from formtune.plugins import get_registry

    try:
        return get_registry().get("dialects", name)
    except PluginError as exc:
        raise UsageError(f"--dialect: {exc}") from None


def add_commands(cli: click.Group) -> None:
    @cli.group()
    def tools() -> None:
        """Tool sets and tool-calling models (the tool-calls format)."""

    @tools.command()
    @click.argument("files", nargs=-1, type=click.Path(path_type=Path))
    @click.option("--set", "sets", multiple=True, help="A registered tool set to check (repeatable).")
    @click.option("--dialect", help="Also check that this dialect can write every tool's calls.")
    @click.option("--json", "as_json", is_flag=True, help="Print the tools as JSON.")
    def check(files: tuple[Path, ...], sets: tuple[str, ...], dialect: str | None, as_json: bool) -> None:
        """Validate tool set FILEs (OpenAI or MCP definitions, JSON or YAML) and registered sets."""
        from formtune.plugins import get_registry
        from formtune_tools.toolset import load_tool_file, registered_tools

        if not files and not sets:
            raise UsageError("give a tool set FILE or --set NAME")
        checker = getattr(_dialect(dialect), "check_tools", None) if dialect else None
        found, failed = {}, False
        sources = [(str(f), lambda f=f: load_tool_file(f)) for f in files]
        sources += [(f"tool set {s!r}", lambda s=s: registered_tools(get_registry(), s)) for s in sets]
        for label, load in sources:
            try:
                tools = load()
                if checker is not None:
                    checker(tools)
            except SchemaError as exc:
                click.echo(f"{exc}", err=True)
                failed = True
                continue
            found[label] = tools
            if not as_json:
                click.echo(f"{label}: {len(tools)} tools ok: {', '.join(t['name'] for t in tools)}")
        if as_json:
            click.echo(json.dumps(found, indent=2, ensure_ascii=False))
        sys.exit(1 if failed else 0)

    @tools.command("bfcl")
    @click.argument("questions", type=click.Path(path_type=Path))
    @click.option("--dialect", help="How the model writes calls (default: the --task's, else python).")
    @click.option("--model", help="Model (default: the embedded SmolLM2-135M-Instruct).")
    @click.option("--adapter", type=click.Path(path_type=Path), help="A LoRA adapter (a run's adapter/ folder).")
    @click.option("--task", "task_file", type=click.Path(path_type=Path),
                  help="Take the instructions, dialect and tool listing from this task, as its tuned model was trained.")
    @click.option("--prompt", type=click.Choice(["full", "short"]),
                  help="full: instructions + the dialect's rules (default without --adapter); short: instructions only.")
    @click.option("--limit", type=int, help="Only the first N questions.")
    @click.option("--batch-size", default=8, show_default=True)
    @click.option("--answers", "answers_out", type=click.Path(path_type=Path), help="Write the answers here (JSONL).")
    @click.option("--json", "as_json", is_flag=True, help="Print {accuracy, n, errors} as JSON.")
    def bfcl(questions: Path, dialect: str | None, model: str | None, adapter: Path | None, task_file: Path | None,
             prompt: str | None, limit: int | None, batch_size: int, answers_out: Path | None, as_json: bool) -> None:
        """Run a model on a BFCL question file and print BFCL-comparable accuracy (AST categories,
        irrelevance). QUESTIONS is e.g. ../shared/corpora/bfcl/data/BFCL_v4_simple_python.json."""
        from formtune.task import load_task
        from formtune_tools.bfcl_run import prompt_settings, run, summarize_rows, write_answers

        instructions, listing, dialect = prompt_settings(load_task(task_file) if task_file else None, dialect)
        rows = run(questions, _dialect(dialect), model=model, adapter=adapter, instructions=instructions,
                   listing=listing,
                   rules=(prompt or ("short" if adapter else "full")) == "full", limit=limit, batch_size=batch_size,
                   progress=not as_json)
        if answers_out is not None:
            write_answers(rows, answers_out)
        _print_summary(summarize_rows(rows), as_json)

    @cli.command("score-calls")
    @click.option("--bfcl", "questions", required=True, type=click.Path(path_type=Path),
                  help="A BFCL question file (BFCL_v4_<category>.json); its possible answers are read from "
                  "possible_answer/ beside it.")
    @click.option("--answers", required=True, type=click.Path(path_type=Path),
                  help='JSONL, one {"id": …, "calls": [{"name": …, "arguments": {…}}]} per line ([]: no call).')
    @click.option("--possible", type=click.Path(path_type=Path), help="The possible-answer file, if elsewhere.")
    @click.option("--json", "as_json", is_flag=True, help='Print {"accuracy", "n", "errors"} as JSON.')
    def score_calls(questions: Path, answers: Path, possible: Path | None, as_json: bool) -> None:
        """Score any model's answers to a BFCL question file as BFCL's AST checker does."""
        from formtune_tools.bfcl import score_file
        from formtune_tools.scoring import summarize

        _print_summary(summarize(score_file(questions, answers, possible)), as_json)
