"""The benchmark seam: ``formtune eval --benchmark NAME --data SOURCE`` runs a plugin's public test
suite on the base model and a run's tuned one, and keeps every answer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_formtune
from formtune import plugins
from formtune.errors import UsageError
from formtune.runs import benchmark_run, write_run_info

ROOT = Path(__file__).resolve().parents[1]
TASK = ROOT / "examples" / "support-ticket" / "task.yaml"

# A suite whose items are lines of its source; it records what formtune handed it, so the test can
# check that the base model gets no adapter, the tuned one the run's, and both the run's task.
ECHO = '''
import json
from formtune import BenchmarkResult, hookimpl

class Echo:
    name = "echo"
    description = "scores 1 on an item iff the adapter is given"

    def run(self, source, *, model, adapter, task, limit, batch_size, progress):
        items = source.read_text().split()[:limit]
        answers = [{"id": i, "model": model, "adapter": adapter and adapter.name, "task": task and task.name,
                    "batch_size": batch_size} for i in items]
        right = len(items) if adapter else 0
        return BenchmarkResult(right / len(items), len(items), {} if adapter else {"untuned": len(items)}, answers)

@hookimpl
def register_benchmarks(register):
    register(Echo())
'''


@pytest.fixture
def echo(tmp_path, monkeypatch) -> Path:
    plugin = tmp_path / "echo_plugin.py"
    plugin.write_text(ECHO)
    monkeypatch.setattr(plugins, "_local_files", [plugin])
    source = tmp_path / "items.txt"
    source.write_text("a b c d\n")
    return source


def test_a_run_is_benchmarked_base_and_tuned_with_its_task(echo, tmp_path):
    run = tmp_path / "run"
    (run / "adapter").mkdir(parents=True)
    (run / "adapter" / "adapter_config.json").write_text("{}")
    write_run_info(run, TASK, None, "some-model")
    out, results = benchmark_run("echo", echo, run=run, limit=3, batch_size=5, progress=False)
    assert out == run / "benchmarks" / "echo-items.json"
    saved = json.loads(out.read_text())
    assert saved["benchmark"] == "echo" and saved["model"] == "some-model" and saved["variants"] == results
    base, tuned = saved["variants"]["base"], saved["variants"]["tuned"]
    assert (base["score"], base["n"], base["errors"]) == (0.0, 3, {"untuned": 3})
    assert (tuned["score"], tuned["n"], tuned["errors"]) == (1.0, 3, {})
    assert [a["adapter"] for a in base["answers"]] == [None] * 3
    assert {a["adapter"] for a in tuned["answers"]} == {"adapter"}
    assert {(a["task"], a["model"], a["batch_size"]) for a in base["answers"] + tuned["answers"]} == \
        {("support-ticket", "some-model", 5)}
    only, _ = benchmark_run("echo", echo, run=run, variants=["tuned"], progress=False)
    assert list(json.loads(only.read_text())["variants"]) == ["tuned"]


def test_a_model_without_a_run_has_only_the_base_variant(echo, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out, _ = benchmark_run("echo", echo, model="m", progress=False)
    assert out.parent.parent.parent == Path("runs") and list(json.loads(out.read_text())["variants"]) == ["base"]
    assert json.loads(out.read_text())["variants"]["base"]["answers"][0]["task"] is None
    with pytest.raises(UsageError, match=r"unknown variant\(s\) \['tuned'\]; this run has: \['base'\]"):
        benchmark_run("echo", echo, model="m", variants=["tuned"], progress=False)


def test_bad_benchmark_requests_are_clear_errors(echo, tmp_path):
    with pytest.raises(UsageError, match=r"--benchmark: no benchmark named 'nope' \(available: bfcl, echo\)"):
        benchmark_run("nope", echo, progress=False)
    with pytest.raises(UsageError, match="missing.json: no such file"):
        benchmark_run("echo", tmp_path / "missing.json", progress=False)


def test_eval_benchmark_on_the_command_line(tmp_path):
    plugin = tmp_path / "echo_plugin.py"
    plugin.write_text(ECHO)
    (tmp_path / "items.txt").write_text("x y\n")
    result = run_formtune("--plugin", str(plugin), "eval", "--benchmark", "echo", "--data", "items.txt",
                          "--model", "m", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == ["base     echo 0.000 (0/2)", "      2  untuned"]
    assert lines[2].startswith("answers: runs/echo-eval-") and (tmp_path / lines[2].split()[1]).is_file()
    missing = run_formtune("--plugin", str(plugin), "eval", "--benchmark", "echo", cwd=tmp_path)
    assert missing.returncode == 2 and "--benchmark needs --data" in missing.stderr
