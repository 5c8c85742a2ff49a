"""The Python API as README.md shows it, run top to bottom (on the tiny model standing in for
the default one)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest

from conftest import sized
from formtune.api import render_instances, sample_instances, validate_files
from formtune.errors import SamplingError
from formtune.scaffold import scaffold_task
from formtune.schema.compile import compile_schema, violations


def test_the_readme_loop(tmp_path, monkeypatch, tiny_default_cache):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FORMTUNE_CACHE", str(tiny_default_cache))  # the "default model" is the tiny one
    task_file = scaffold_task("people", Path("people"))
    task_file.write_text(sized(task_file.read_text(), train=12, eval=3)
                         + "training: {max_steps: 2, batch_size: 4, lora_r: 2, threads: 1, bf16: false}\n")

    # -- as in README.md ---------------------------------------------------------------------
    from formtune.dataset import build_dataset
    from formtune.task import load_task

    task = load_task("people/task.yaml")
    summary = build_dataset(task, Path("data/people"))
    assert summary.accepted == {"eval": 3, "train": 12}
    assert isinstance(summary.rejected, Counter) and summary.rejected.most_common(3) == []
    instances = sample_instances(Path("people/schema.json"), n=3, seed=1)
    validator = compile_schema(json.loads(Path("people/schema.json").read_text()))
    assert len(instances) == 3 and all(violations(validator, i) == [] for i in instances)

    from formtune.report import write_report
    from formtune.runs import eval_run, train_task

    run = train_task(Path("people/task.yaml"))
    report = eval_run(run)
    page = write_report(run)
    # ----------------------------------------------------------------------------------------

    assert run == Path("runs") / "people"
    assert (run / "adapter" / "adapter_config.json").is_file()
    assert json.loads((run / "train_metrics.json").read_text())["global_step"] == 2
    assert list(report["variants"]) == ["base", "base+constrained", "tuned", "tuned+constrained"]
    assert json.loads((run / "metrics.json").read_text()) == report
    assert {p.name for p in (run / "predictions").iterdir()} == {f"{v}.jsonl" for v in report["variants"]}
    assert all(scores["n"] == 3 for scores in report["variants"].values())
    assert page == run / "report.html" and page.is_file()


def test_sample_instances_are_valid_and_seeded(tmp_path):
    schema = tmp_path / "s.json"
    schema.write_text(json.dumps({"type": "object", "properties": {"n": {"type": "integer", "minimum": 3}},
                                  "required": ["n"], "additionalProperties": False}))
    first = sample_instances(schema, n=20, seed=5)
    assert first == sample_instances(schema, n=20, seed=5) != sample_instances(schema, n=20, seed=6)
    assert all(set(i) == {"n"} and isinstance(i["n"], int) and i["n"] >= 3 for i in first)
    assert render_instances(schema, 2, seed=5) == [json.dumps(i) for i in first[:2]]
    assert sample_instances(schema, n=0) == []


def test_sample_instances_check_what_a_generator_makes(tmp_path):
    from formtune.plugins import build_registry
    import formtune.plugins

    plugin = tmp_path / "careless.py"
    plugin.write_text("from formtune import hookimpl, Draft\n"
                      "class Careless:\n    name = 'careless'\n"
                      "    def draft(self, task, *, seed, index):\n        return Draft(output={'n': 'x'})\n"
                      "@hookimpl\ndef register_generators(register):\n    register(Careless())\n")
    schema = tmp_path / "s.json"
    schema.write_text(json.dumps({"properties": {"n": {"type": "integer"}}}))
    formtune.plugins.add_local_plugins([plugin])
    try:
        with pytest.raises(SamplingError, match=r"generator 'careless' made an invalid instance: .* at /n"):
            sample_instances(schema, n=1, generator="careless")
    finally:
        formtune.plugins._local_files.remove(plugin)
    assert "careless" not in build_registry().generators


def test_validate_files_reports_each_file(tmp_path):
    schema = tmp_path / "s.json"
    schema.write_text(json.dumps({"type": "object", "required": ["id"]}))
    good, bad, fenced = tmp_path / "good.json", tmp_path / "bad.json", tmp_path / "fenced.json"
    good.write_text('{"id": 1}')
    bad.write_text("{}")
    fenced.write_text('```json\n{"id": 1}\n```')
    results = validate_files(schema, [good, bad, fenced])
    assert [(r.file, r.valid) for r in results] == [(str(good), True), (str(bad), False), (str(fenced), False)]
    assert results[1].to_dict()["valid"] is False
    assert results[1].to_dict()["errors"] == [{"path": "", "message": "'id' is a required property"}]
    assert not validate_files(schema, [fenced], lenient=True)[0].valid  # lenient successes are never valid
    [missing] = validate_files(schema, [tmp_path / "missing.json"])
    assert not missing.valid and "missing.json" in missing.file


def test_a_rerun_continues_a_build_cut_short(tmp_path):
    from formtune.dataset import build_dataset, read_rows
    from formtune.task import load_task

    data = Path(__file__).parent / "data"
    (tmp_path / "person.schema.json").write_text((data / "person.schema.json").read_text())
    task_file = tmp_path / "task.yaml"
    task_file.write_text((data / "person.task.yaml").read_text().replace("train: 40", "train: 12"))
    build_dataset(load_task(task_file), tmp_path / "fresh", progress=False)
    build_dataset(load_task(task_file), tmp_path / "cut", progress=False)
    # Cut the build short as a kill would: five whole rows, then half a row.
    rows = (tmp_path / "cut" / "train.jsonl").read_text().splitlines(keepends=True)
    (tmp_path / "cut" / "train.jsonl").write_text("".join(rows[:5]) + rows[5][:20])
    again = build_dataset(load_task(task_file), tmp_path / "cut", progress=False)
    assert again.resumed == {"eval": 10, "train": 5} and again.accepted == {"eval": 10, "train": 12}
    for split in ("train", "eval"):
        assert read_rows(tmp_path / "cut" / f"{split}.jsonl") == read_rows(tmp_path / "fresh" / f"{split}.jsonl")


# -- the sampler's own final check: no instance leaves it unvalidated ---------------------------

BOUNDED = {"type": "object", "properties": {"n": {"type": "integer", "minimum": 3}, "s": {"enum": ["a", "b"]}},
           "required": ["n"]}


def scripted_draws(monkeypatch, *values):
    """Make the sampler's draws return ``values`` in turn (the last one forever)."""
    from formtune.schema.sampler import core

    drawn = list(values)
    monkeypatch.setattr(core.Draw, "value", lambda self, *args, **kwargs: drawn.pop(0) if len(drawn) > 1 else drawn[0])


def test_the_sampler_never_returns_an_instance_its_validator_rejects(monkeypatch):
    from formtune.schema.sampler.core import RETRIES, SchemaSampler

    sampler = SchemaSampler(BOUNDED)
    scripted_draws(monkeypatch, {"n": 1}, {"n": 2, "s": "c"}, {"n": 4})
    assert sampler.sample(0) == {"n": 4}  # the two invalid draws were retried

    long = "x" * 300
    many = [{"n": 5, "s": long}] * (RETRIES // 4) + [{"n": 1}] + [{"n": 0}] * RETRIES
    scripted_draws(monkeypatch, *many)
    with pytest.raises(SamplingError) as err:
        sampler.sample(0)
    # The most frequent failure is named, with jsonschema's message cut to 200 characters.
    assert (err.value.keyword, err.value.path) == ("minimum", "/properties/n")
    assert str(err.value) == "cannot satisfy 'minimum' at /properties/n: 1 is less than the minimum of 3"  # the first
    scripted_draws(monkeypatch, {"n": 5, "s": long})
    with pytest.raises(SamplingError) as err:
        sampler.sample(0)
    assert (err.value.keyword, err.value.path) == ("enum", "/properties/s")
    prefix = "cannot satisfy 'enum' at /properties/s: "
    assert str(err.value).startswith(prefix + f"'{long[:50]}") and len(str(err.value)) == len(prefix) + 200


def crash_validator(sampler, crashes):
    """Make the sampler's validator raise RecursionError on the instances ``crashes`` picks."""
    real = sampler.validator

    def iter_errors(instance):
        if crashes(instance):
            raise RecursionError("too deep")
        return real.iter_errors(instance)

    sampler.validator = SimpleNamespace(iter_errors=iter_errors, _resolver=real._resolver)


def test_the_sampler_counts_a_validator_crash_as_a_failure(monkeypatch):
    from formtune.schema.sampler.core import SchemaSampler

    sampler = SchemaSampler(BOUNDED)
    scripted_draws(monkeypatch, {"n": 4})
    calls = []
    crash_validator(sampler, lambda instance: calls.append(instance) or len(calls) == 1 or instance == "always")
    assert sampler.sample(0) == {"n": 4} and len(calls) == 2  # the crash was one failed attempt
    scripted_draws(monkeypatch, "always")
    with pytest.raises(SamplingError) as err:
        sampler.sample(0)
    assert (err.value.keyword, err.value.path) == ("validator", "/")
    assert str(err.value) == "cannot satisfy 'validator' at /: jsonschema fails on this instance: RecursionError('too deep')"


@pytest.mark.parametrize("most, fewer", [("invalid", "unsat"), ("unsat", "invalid"), ("unsat", "crash"),
                                         ("crash", "unsat"), ("crash", "invalid"), ("invalid", "crash")])
def test_the_failure_met_most_is_named_whatever_its_kind(monkeypatch, most, fewer):
    # Twelve attempts fail one way and eight another (RETRIES is 20): each kind counts once per attempt.
    from formtune.schema.sampler import core
    from formtune.schema.sampler.keywords import Unsat

    sampler = core.SchemaSampler(BOUNDED)
    crash_validator(sampler, lambda instance: instance == "crash")
    outcomes = {"invalid": {"n": 1}, "crash": "crash", "unsat": Unsat("pattern", "/a", "no string matches")}
    script = [outcomes[fewer]] * 8 + [outcomes[most]] * 12

    def draw(self, *args, **kwargs):
        outcome = script.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    monkeypatch.setattr(core.Draw, "value", draw)
    with pytest.raises(SamplingError) as err:
        sampler.sample(0)
    named = {"invalid": ("minimum", "/properties/n"), "crash": ("validator", "/"), "unsat": ("pattern", "/a")}
    assert (err.value.keyword, err.value.path) == named[most] and script == []


def test_running_out_of_time_names_the_work_unless_an_attempt_failed_first(monkeypatch):
    from formtune.schema.sampler import budget, core
    from formtune.schema.sampler.keywords import Unsat

    monkeypatch.setattr(budget, "SECONDS", -1.0)  # the deadline has passed before the first step
    with pytest.raises(SamplingError) as err:
        core.SchemaSampler(BOUNDED).sample(0)
    assert (err.value.keyword, err.value.path, str(err.value)) == (
        "type", "/", "cannot satisfy 'type' at /: no instance within -1 s of CPU time (most work went to 'type')")

    outcomes = [Unsat("pattern", "/a", "no string matches"), budget.OutOfTime("items", "/b", "out of time")]

    def draw(self, *args, **kwargs):
        raise outcomes.pop(0)

    monkeypatch.setattr(core.Draw, "value", draw)
    with pytest.raises(SamplingError) as err:
        core.SchemaSampler(BOUNDED).sample(0)
    assert str(err.value) == "cannot satisfy 'pattern' at /a: no string matches"  # and no attempt after the clock


def test_boolean_schemas():
    from formtune.schema.sampler.core import SchemaSampler

    with pytest.raises(SamplingError) as err:
        SchemaSampler(False).sample(0)
    assert (err.value.keyword, err.value.path, str(err.value)) == (
        "false", "/", "cannot satisfy 'false' at /: the schema accepts nothing")
    SchemaSampler(True).sample(0)  # anything will do, and it must not raise


def test_the_sampler_names_the_failure_it_met_most(monkeypatch):
    from formtune.schema.sampler import core
    from formtune.schema.sampler.keywords import Unsat

    failures = [Unsat("pattern", "/a", "no string matches")] * 3
    failures += [Unsat("minimum", "/n", "too small")] * (core.RETRIES - 3)

    def fail(self, *args, **kwargs):
        raise failures.pop(0)

    monkeypatch.setattr(core.Draw, "value", fail)
    with pytest.raises(SamplingError) as err:
        core.SchemaSampler(BOUNDED).sample(0)
    assert (err.value.keyword, err.value.path, str(err.value)) == ("minimum", "/n", "cannot satisfy 'minimum' at /n: too small")
