"""The CLI, run as a user runs it: exit codes (0 done, 1 the work found a problem, 2 a usage
error, 130 interrupted), messages, and the files each command leaves behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, run_formtune, sigint_as_in_a_terminal
from formtune.dataset import read_rows

DATA = Path(__file__).parent / "data"
SCHEMA = {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]}
INTERRUPTED = "interrupted; what was finished is kept — rerun the same command to continue"

# A person task small enough to train in seconds on the tiny model.
SMALL_TASK = """\
name: small
schema: person.schema.json
instructions: Extract the person as JSON.
templates:
  - {name: intro, text: "Hi, I'm {{ output.name }}. Mail: {{ output.email }}"}
  - {name: card, text: "Name: {{ output.name }} | Email: {{ output.email }}"}
data: {train: 8, eval: 2, holdout_templates: [card]}
training: {lora_r: 4, lora_alpha: 8, learning_rate: 0.001, save_steps: 100, threads: 1, bf16: false}
"""


@pytest.fixture
def small_task(tmp_path) -> Path:
    (tmp_path / "person.schema.json").write_text((DATA / "person.schema.json").read_text())
    (tmp_path / "task.yaml").write_text(SMALL_TASK)
    return tmp_path / "task.yaml"


def wait_for_lines(path: Path, n: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    """Poll until ``path`` has ``n`` lines (or the process ended, or ``timeout`` passed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if path.exists() and path.read_bytes().count(b"\n") >= n:
            return
        time.sleep(0.01)


# -- validate, sample, init, generate ----------------------------------------------------------

def test_validate_exit_codes_and_json_output(tmp_path):
    schema = tmp_path / "s.json"
    schema.write_text(json.dumps(SCHEMA))
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text('{"id": 1}')
    bad.write_text('```json\n{"id": 1}\n```')
    ok = run_formtune("validate", "--schema", str(schema), str(good))
    assert ok.returncode == 0 and ok.stdout == f"{good}: valid\n"
    result = run_formtune("validate", "--json", "--schema", str(schema), str(good), str(bad))
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert [r["file"] for r in report] == [str(good), str(bad)]
    assert [r["valid"] for r in report] == [True, False] and report[0]["errors"] == []
    assert report[1]["errors"][0]["path"] == "" and "not a single JSON document" in report[1]["errors"][0]["message"]
    lenient = run_formtune("validate", "--lenient", "--schema", str(schema), str(bad))
    assert lenient.returncode == 1 and "not valid" in lenient.stdout  # lenient is never valid


def test_validate_usage_errors_exit_2(tmp_path):
    schema = tmp_path / "s.json"
    schema.write_text('{"type": "nope"}')
    doc = tmp_path / "d.json"
    doc.write_text("1")
    for args in (["--schema", str(schema), str(doc)],                        # an invalid schema
                 ["--schema", str(tmp_path / "missing.json"), str(doc)],      # no schema file
                 ["--schema", str(schema)],                                   # no file to check
                 [str(doc)],                                                  # no --schema
                 ["--schema", str(schema), "--format", "nope", str(doc)]):    # no such format
        result = run_formtune("validate", *args)
        assert result.returncode == 2, (args, result.stderr)
        assert "Traceback" not in result.stderr and result.stdout == ""
    bad_schema = run_formtune("validate", "--schema", str(schema), str(doc))
    assert bad_schema.stderr.startswith("ERROR: ") and bad_schema.stderr.count("\n") == 1
    schema.write_text(json.dumps(SCHEMA))
    # A file that cannot be read is a result of its own, not a usage error: the others are still checked.
    unreadable = run_formtune("validate", "--schema", str(schema), str(tmp_path / "absent.json"))
    assert unreadable.returncode == 1 and unreadable.stdout.startswith(f"{tmp_path / 'absent.json'}: INVALID")
    assert "cannot read the file" in unreadable.stdout


def test_sample_prints_valid_documents(tmp_path):
    schema = tmp_path / "s.json"
    schema.write_text(json.dumps(SCHEMA))
    result = run_formtune("sample", "--schema", str(schema), "-n", "5", "--seed", "3")
    lines = result.stdout.splitlines()
    assert result.returncode == 0 and len(lines) == 5
    assert all(isinstance(json.loads(line)["id"], int) for line in lines)
    assert run_formtune("sample", "--schema", str(schema), "-n", "5", "--seed", "3").stdout == result.stdout
    assert run_formtune("sample", "--schema", str(schema), "-n", "5", "--seed", "4").stdout != result.stdout


def test_sample_says_why_it_cannot(tmp_path):
    schema = tmp_path / "s.json"
    schema.write_text(json.dumps({"type": "integer", "minimum": 5, "maximum": 1}))
    result = run_formtune("sample", "--schema", str(schema))
    # A schema that is well formed but admits nothing: the work failed (1), not the usage (2).
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith("ERROR: cannot satisfy") and "Traceback" not in result.stderr


def test_init_then_generate(tmp_path):
    created = run_formtune("init", "people", "--dir", str(tmp_path / "people"))
    assert created.returncode == 0
    assert created.stdout == f"created {tmp_path / 'people' / 'task.yaml'}; next: formtune generate " \
                             f"{tmp_path / 'people' / 'task.yaml'}\n"
    result = run_formtune("generate", str(tmp_path / "people" / "task.yaml"), "--out", str(tmp_path / "data"), "--quiet")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{tmp_path / 'data'}: accepted 60 eval, 300 train; rejected ")
    rows = read_rows(tmp_path / "data" / "train.jsonl")
    assert len(rows) == 300 and {r["provenance"]["template"] for r in rows} == {"intro"}
    assert {r["provenance"]["template"] for r in read_rows(tmp_path / "data" / "eval.jsonl")} == {"signature"}
    again = run_formtune("init", "people", "--dir", str(tmp_path / "people"))
    assert again.returncode == 2 and "already exists" in again.stderr


def test_ctrl_c_stops_generate_with_130_and_a_rerun_completes(tmp_path):
    (tmp_path / "person.schema.json").write_text((DATA / "person.schema.json").read_text())
    task = tmp_path / "task.yaml"
    task.write_text((DATA / "person.task.yaml").read_text().replace("train: 40", "train: 3000"))
    command = [sys.executable, "-m", "formtune", "generate", str(task), "--out", str(tmp_path / "out"), "--quiet"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=sigint_as_in_a_terminal)
    wait_for_lines(tmp_path / "out" / "train.jsonl", 5, proc)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.strip().endswith(INTERRUPTED) and "Traceback" not in err and out == ""
    kept = read_rows(tmp_path / "out" / "train.jsonl")
    assert 5 <= len(kept) < 3000, "the build must be interrupted mid-run"

    rerun = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert "accepted 10 eval, 3000 train" in rerun.stdout
    rows = read_rows(tmp_path / "out" / "train.jsonl")
    assert rows[:len(kept)] == kept and len({r["input"] for r in rows}) == 3000


def test_unknown_command_and_option_are_usage_errors():
    assert run_formtune("nope").returncode == 2
    assert run_formtune("generate", "--nope", "x").returncode == 2
    version = run_formtune("--version")
    assert version.returncode == 0 and "version" in version.stdout


# -- train, eval --adapter, demo ---------------------------------------------------------------

def test_train_flags_override_the_task_and_a_finished_run_is_kept(small_task, tiny_default_cache, tmp_path):
    env = {"FORMTUNE_CACHE": str(tiny_default_cache)}  # the "default model" is the tiny one
    data, run = tmp_path / "data", tmp_path / "run"
    args = ["train", str(small_task), "--data", str(data), "--out", str(run)]
    trained = run_formtune(*args, "--epochs", "1", "--lr", "0.005", "--batch-size", "2", "--max-steps", "3", env=env)
    assert trained.returncode == 0, trained.stderr[-3000:]
    assert trained.stdout.strip().endswith(f"trained: {run}; next: formtune eval {run}")
    settings = json.loads((run / "config.json").read_text())["train"]
    assert (settings["epochs"], settings["learning_rate"], settings["batch_size"], settings["max_steps"]) == (1, 0.005, 2, 3)
    assert (settings["lora_r"], settings["threads"]) == (4, 1)  # from the task's training: section
    assert json.loads((run / "train_metrics.json").read_text())["global_step"] == 3
    assert json.loads((run / "run.json").read_text()) == {
        "task": str(small_task.resolve()), "data": str(data.resolve()), "model": None, "adapter": None}
    assert len(read_rows(data / "train.jsonl")) == 8 and (run / "adapter" / "adapter_config.json").is_file()

    again = run_formtune(*args, env=env)
    assert again.returncode == 2 and again.stderr.startswith(f"ERROR: {run} already holds a finished training run")
    fresh = run_formtune(*args, "--fresh", "--max-steps", "1", "--batch-size", "2", env=env)
    assert fresh.returncode == 0, fresh.stderr[-3000:]
    assert json.loads((run / "train_metrics.json").read_text())["global_step"] == 1
    assert json.loads((run / "config.json").read_text())["train"]["learning_rate"] == 0.001  # the task's again

    bad = run_formtune("train", str(small_task), "--out", str(tmp_path / "bad"), "--batch-size", "0", env=env)
    assert bad.returncode == 2 and bad.stderr.startswith("ERROR: option batch_size:")
    assert not (tmp_path / "bad").exists()


def test_ctrl_c_stops_train_with_130_and_a_rerun_resumes(small_task, tiny_default_cache, tmp_path):
    env = {**os.environ, "FORMTUNE_CACHE": str(tiny_default_cache)}
    run = tmp_path / "run"
    command = [sys.executable, "-m", "formtune", "train", str(small_task), "--data", str(tmp_path / "data"),
               "--out", str(run), "--batch-size", "2", "--max-steps", "400"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=sigint_as_in_a_terminal)
    wait_for_lines(run / "train_log.jsonl", 2, proc)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-3000:]
    assert err.strip().endswith(INTERRUPTED) and "Traceback" not in err
    stopped = json.loads((run / "train_metrics.json").read_text())
    assert stopped["interrupted"] and 0 < stopped["global_step"] < 400
    assert (run / "adapter" / "adapter_config.json").is_file()

    # The same command with a nearer end, so that the test is short: it resumes from the checkpoint
    # that the interruption wrote.
    end = str(stopped["global_step"] + 2)
    rerun = subprocess.run([*command[:-1], end], capture_output=True, text=True, env=env, timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert "resuming from" in rerun.stderr and f"checkpoint-{stopped['global_step']}" in rerun.stderr
    done = json.loads((run / "train_metrics.json").read_text())
    assert not done["interrupted"] and done["global_step"] == int(end)


def test_eval_with_an_adapter_adds_the_tuned_variants(small_task, tiny_model, tmp_path):
    from formtune.train import train
    from formtune.train_config import TrainConfig

    rows = [{"messages": [{"role": "system", "content": "x"}, {"role": "user", "content": f"n{i}"},
                          {"role": "assistant", "content": "{}"}]} for i in range(4)]
    adapter = train(tiny_model, rows, None, TrainConfig(max_steps=1, batch_size=4, lora_r=2, threads=1, bf16=False),
                    tmp_path / "trained").adapter_dir
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"input": "Hi, I'm Ada. Mail: ada@example.org",
                                "output": {"name": "Ada", "email": "ada@example.org"}}) + "\n")
    result = run_formtune("eval", "--task", str(small_task), "--model", str(tiny_model), "--adapter", str(adapter),
                          "--data", str(gold), "--variant", "base", "--variant", "tuned", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    [run] = (tmp_path / "runs").iterdir()
    assert json.loads((run / "run.json").read_text())["adapter"] == str(adapter.resolve())
    metrics = json.loads((run / "metrics.json").read_text())
    assert list(metrics["variants"]) == ["base", "tuned"]
    # The tuned variant is prompted with the instructions alone, the base one with the schema too.
    assert metrics["variants"]["tuned"]["prompt_tokens"] < metrics["variants"]["base"]["prompt_tokens"]
    tuned = read_rows(run / "predictions" / "tuned.jsonl")
    assert [r["input"] for r in tuned] == ["Hi, I'm Ada. Mail: ada@example.org"]


def test_eval_with_a_folder_that_is_no_adapter_says_so(small_task, tiny_model, tmp_path):
    from formtune.errors import FormtuneError
    from formtune.runs import eval_model

    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"input": "Ada", "output": {"name": "Ada", "email": "ada@example.org"}}) + "\n")
    with pytest.raises(FormtuneError, match="adapter"):
        eval_model(small_task, model=str(tiny_model), adapter=tmp_path / "not-an-adapter", data_file=gold,
                   run=tmp_path / "run", variants=["base"], progress=False)


def test_demo_runs_the_whole_loop_on_a_task_file(tiny_default_cache, tmp_path):
    (tmp_path / "task.yaml").write_text(
        "name: badge\n"
        "schema: {type: object, properties: {name: {type: string, maxLength: 8}, role: {enum: [admin, user]}},\n"
        "         required: [name, role], additionalProperties: false}\n"
        "instructions: Write the badge as JSON.\n"
        "templates:\n"
        "  - {name: a, text: '{{ output.name }} is {{ output.role }}'}\n"
        "  - {name: b, text: 'role {{ output.role }} for {{ output.name }}'}\n"
        "data: {train: 6, eval: 2, holdout_templates: [b]}\n"
        "training: {max_steps: 2, batch_size: 3, lora_r: 2, threads: 1, bf16: false}\n")
    out = tmp_path / "demo"
    result = run_formtune("demo", "--task", str(tmp_path / "task.yaml"), "--out", str(out),
                          env={"FORMTUNE_CACHE": str(tiny_default_cache)}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    run = out / "run"
    assert result.stdout.strip().endswith(f"report: {run / 'report.html'}")
    assert json.loads((run / "timings.json").read_text()).keys() == {
        "generate", "evaluate base models", "train", "evaluate tuned model"}
    metrics = json.loads((run / "metrics.json").read_text())
    assert list(metrics["variants"]) == ["base", "base+constrained", "tuned", "tuned+constrained"]
    assert all(scores["n"] == 2 for scores in metrics["variants"].values())
    assert metrics["variants"]["base+constrained"]["schema_valid"] == 1.0
    assert metrics["variants"]["tuned+constrained"]["schema_valid"] == 1.0
    assert len(read_rows(out / "data" / "train.jsonl")) == 6
    assert json.loads((run / "train_metrics.json").read_text())["global_step"] == 2


def test_demo_names_the_examples_when_the_task_is_unknown(tmp_path):
    result = run_formtune("demo", "--task", "nope", cwd=tmp_path)
    examples = sorted(p.parent.name for p in (ROOT / "examples").glob("*/task.yaml"))
    assert result.returncode == 2
    assert result.stderr == f"ERROR: nope: neither a task file nor an example (examples: {', '.join(examples)})\n"
