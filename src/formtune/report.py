"""``formtune report``: one self-contained HTML page (charts + worst failures) and a terminal table."""

from __future__ import annotations

import base64
import html
import io
import json
import os
from pathlib import Path
from typing import Any

from formtune.dataset import read_rows
from formtune.errors import UsageError
from formtune.metrics import CORE_METRICS

COSTS = {"prompt_tokens": "prompt tokens per example", "latency_s": "seconds per example"}
#: Costs of constrained decoding, shown in the tables only (unconstrained variants have none).
CONSTRAINT_COSTS = ("constraint_ms_per_token", "constraint_compile_s")
#: The breakdown of the headline metrics per input template, and the core metrics among them
#: (every plugin metric that is not in a group of its own is a headline metric).
BY_TEMPLATE = "per input template (held-out wording)"
BY_TEMPLATE_CORE = ("schema_valid", "field_f1")


def load_metrics(run: Path) -> dict[str, Any]:
    """The ``metrics.json`` of a run folder, or a UsageError saying how to make it."""
    path = Path(run) / "metrics.json"
    if not path.is_file():
        raise UsageError(f"{path} does not exist; run `formtune eval {run}` first")
    return json.loads(path.read_text())


def _rate_names(variants: dict[str, dict[str, float]], meta: dict[str, dict[str, Any]] | None = None) -> list[str]:
    """The scored metrics, the core's first in their own order, then the plugins' by name; those
    of a group (a breakdown, see :func:`breakdowns`) are left to their own tables."""
    present = {k for scores in variants.values() for k in scores
               if k not in COSTS and k not in CONSTRAINT_COSTS and k != "n" and not (meta or {}).get(k, {}).get("group")}
    return [m for m in CORE_METRICS if m in present] + sorted(present - set(CORE_METRICS))


def breakdowns(run: Path, metrics: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Grouped metrics (``Metric.group``: adherence per rule, per branch …) as rows per group:
    ``{"metric", "scores": {variant: score}, "counts": {variant: examples scored}}``, in the order
    the plugin registered them. Counts come from the predictions, since an average alone hides
    that a branch had two examples. Last, when the inputs came from several templates, the
    headline metrics per template (:data:`BY_TEMPLATE`)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    variants = metrics["variants"]
    counts = {v: _counts(Path(run) / "predictions" / f"{v}.jsonl") for v in variants}
    for name, info in metrics.get("metrics", {}).items():
        if info.get("group") and any(name in scores for scores in variants.values()):
            groups.setdefault(info["group"], []).append({
                "metric": name, "scores": {v: scores.get(name) for v, scores in variants.items()},
                "counts": {v: counts[v].get(name, 0) for v in variants}})
    by_template = metrics.get("by_template", {})
    templates = sorted({t for per_variant in by_template.values() for t in per_variant})
    headline = [m for m in _rate_names(variants, metrics.get("metrics", {}))
                if m in BY_TEMPLATE_CORE or m not in CORE_METRICS]
    for template in templates:
        for name in headline:
            cells = {v: by_template.get(v, {}).get(template, {}) for v in variants}
            groups.setdefault(BY_TEMPLATE, []).append({
                "metric": f"{template}: {name}", "scores": {v: cell.get(name) for v, cell in cells.items()},
                "counts": {v: cell.get("n", 0) for v, cell in cells.items()}})
    return groups


def _counts(path: Path) -> dict[str, int]:
    found: dict[str, int] = {}
    for row in read_rows(path):
        for name, value in row.get("scores", {}).items():
            if value is not None:
                found[name] = found.get(name, 0) + 1
    return found


def _breakdown_html(group: str, rows: list[dict[str, Any]], variants: list[str]) -> str:
    head = "".join(f"<th>{html.escape(v)}</th>" for v in ["metric", *variants, "n"])
    body = "".join(
        f"<tr><td>{html.escape(r['metric'])}</td>" + "".join(
            f"<td>{r['scores'][v]:.3g}</td>" if r["scores"][v] is not None else "<td>–</td>" for v in variants)
        + f"<td>{max(r['counts'].values(), default=0)}</td></tr>" for r in rows)
    return f"<h2>{html.escape(group)}</h2><table><tr>{head}</tr>{body}</table>"


def _label(name: str, meta: dict[str, dict[str, Any]]) -> str:
    """A metric's name, marked when lower is better."""
    return f"{name} (lower is better)" if not meta.get(name, {}).get("higher_is_better", True) else name


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode()


def _charts(variants: dict[str, dict[str, float]], meta: dict[str, dict[str, Any]]) -> list[str]:
    """Base64 PNGs: grouped bars of every rate metric per variant, then one chart per cost."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names, rates = list(variants), _rate_names(variants, meta)
    charts = []
    fig, ax = plt.subplots(figsize=(max(6, 1.3 * len(rates) + 2), 3.6))
    width = 0.8 / max(len(names), 1)
    for i, variant in enumerate(names):
        xs = [j + i * width for j in range(len(rates))]
        bars = ax.bar(xs, [variants[variant].get(m, 0.0) for m in rates], width, label=variant)
        ax.bar_label(bars, fmt="%.2f", fontsize=7)
    ax.set_xticks([j + width * (len(names) - 1) / 2 for j in range(len(rates))],
                  [_label(m, meta) for m in rates], rotation=20, ha="right")
    ax.set_ylim(0, 1.1)
    ax.set_title("quality per variant")
    ax.legend(fontsize=8)
    charts.append(_png(fig))
    plt.close(fig)
    fig, axes = plt.subplots(1, len(COSTS), figsize=(9, 3))
    for ax, (key, label) in zip(axes, COSTS.items()):
        bars = ax.bar(names, [variants[v].get(key, 0.0) for v in names], color="#888")
        ax.bar_label(bars, fmt="%.3g", fontsize=8)
        ax.set_title(f"{label} (lower is better)", fontsize=9)
        ax.tick_params(axis="x", labelrotation=15, labelsize=8)
    charts.append(_png(fig))
    plt.close(fig)
    return charts


def worst_failures(run: Path, variant: str, limit: int = 5) -> list[dict[str, Any]]:
    """The invalid outputs first, then the lowest field F1, of one variant."""
    rows = read_rows(Path(run) / "predictions" / f"{variant}.jsonl")
    failing = [r for r in rows if not r["valid"] or (r["scores"].get("exact_match") == 0.0)]
    failing.sort(key=lambda r: (r["valid"], r["scores"].get("field_f1") or 0.0))
    return failing[:limit]


def _failure_html(row: dict[str, Any]) -> str:
    problems = "".join(f"<li><code>{html.escape(v['path'] or '/')}</code> {html.escape(v['message'])}</li>"
                       for v in row["violations"]) or "<li>valid, but not the expected value</li>"
    expected = html.escape(row.get("expected_text") or "(no reference)")
    shown = row["input"] if isinstance(row["input"], str) else "\n".join(  # a multi-turn input, turn by turn
        f"[{t.get('role')}] {t.get('content')}" for t in row["input"])
    return (f"<div class=fail><p><b>input</b></p><pre>{html.escape(shown)}</pre>"
            f"<p><b>output</b></p><pre>{html.escape(row['completion'] or '(empty)')}</pre>"
            f"<p><b>expected</b></p><pre>{expected}</pre><ul>{problems}</ul></div>")


def write_report(run: Path) -> Path:
    """Write ``report.html`` into the run folder and return its path."""
    run = Path(run)
    metrics = load_metrics(run)
    variants, meta = metrics["variants"], metrics.get("metrics", {})
    columns = _rate_names(variants, meta) + list(COSTS) + [c for c in CONSTRAINT_COSTS if any(c in v for v in variants.values())]
    head = "".join(f"<th>{html.escape(_label(c, meta))}</th>" for c in ["variant", *columns, "n"])
    body = "".join(
        "<tr><td>" + html.escape(v) + "</td>" + "".join(
            f"<td>{scores[c]:.3g}</td>" if scores.get(c) is not None else "<td>–</td>" for c in [*columns, "n"]) + "</tr>"
        for v, scores in variants.items())
    images = "".join(f'<img src="data:image/png;base64,{png}">' for png in _charts(variants, meta))
    notes = "".join(f"<p class=note><b>{html.escape(v)}</b>: {html.escape(text)}</p>"
                    for v, text in metrics.get("notes", {}).items())
    tables = "".join(_breakdown_html(group, rows, list(variants)) for group, rows in breakdowns(run, metrics).items())
    failures = "".join(
        f"<h3>{html.escape(v)}</h3>" + ("".join(_failure_html(r) for r in worst_failures(run, v)) or "<p>none</p>")
        for v in variants)
    page = f"""<!doctype html><meta charset=utf-8><title>formtune report: {html.escape(run.name)}</title>
<style>body{{font:14px system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}
td:first-child{{text-align:left}}pre{{background:#f6f6f6;padding:6px;white-space:pre-wrap}}
.fail{{border-left:3px solid #c33;padding-left:10px;margin:10px 0}}img{{max-width:100%}}</style>
<h1>formtune report: {html.escape(run.name)}</h1>
<table><tr>{head}</tr>{body}</table>
{notes}{images}{tables}
<h2>Worst failures</h2>{failures}"""
    path = run / "report.html"
    path.write_text(page, encoding="utf-8")
    return path


def _without_shared_prefix(names: list[str]) -> list[str]:
    """The names less the prefix they all share up to a ``/`` or ``:`` (``rules:branch/``), which
    the breakdown's title already says; unchanged when that would leave a name empty."""
    shared = os.path.commonprefix(names)
    cut = max(shared.rfind("/"), shared.rfind(":")) + 1
    return [n[cut:] for n in names] if all(len(n) > cut for n in names) else names


def score_lines(score: float, n: int, errors: dict[str, int]) -> list[str]:
    """A suite's score as ``0.310 (31/100)``, then each failure class with its count, one a line."""
    return [f"{score:.3f} ({round(score * n)}/{n})",
            *(f"  {count:5d}  {kind.replace('_', ' ')}" for kind, count in errors.items())]


def print_table(run: Path) -> None:
    """The metrics of every variant as a rich table."""
    from rich.console import Console
    from rich.table import Column, Table

    metrics = load_metrics(run)
    variants, meta = metrics["variants"], metrics.get("metrics", {})
    # One row per metric, one column per variant: stays readable in a narrow terminal. A long
    # metric name is folded onto more lines rather than cut, so that two names never look alike.
    table = Table(Column("metric", overflow="fold"), *variants, title=f"formtune: {Path(run).name}")
    for metric in [*_rate_names(variants, meta), *COSTS, *CONSTRAINT_COSTS, "n"]:
        if any(s.get(metric) is not None for s in variants.values()):
            table.add_row(_label(metric, meta),
                          *(f"{s[metric]:.3g}" if s.get(metric) is not None else "–" for s in variants.values()))
    console = Console()
    console.print(table)
    for group, rows in breakdowns(run, metrics).items():
        sub = Table(Column("metric", overflow="fold"), *variants, "n", title=group)
        for r, name in zip(rows, _without_shared_prefix([r["metric"] for r in rows])):
            sub.add_row(name, *(f"{r['scores'][v]:.3g}" if r["scores"][v] is not None else "–" for v in variants),
                        str(max(r["counts"].values(), default=0)))
        console.print(sub)
    for variant, text in metrics.get("notes", {}).items():
        console.print(f"{variant}: {text}")
