"""The core metrics on completions whose scores are known by construction, and how the evaluator
averages them (``None`` skipped) and keeps them across separate eval calls."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from formtune.check import check
from formtune.contrib import Attempt, Format
from formtune.evaluate import EvalExample, Variant, evaluate
from formtune.metrics import CORE_METRICS
from formtune.plugins import build_registry
from formtune.task import Task, load_task
from formtune.violations import Checked

DATA = Path(__file__).parent / "data"
ADA = {"name": "Ada", "email": "ada@example.org"}


@pytest.fixture(scope="module")
def person():
    return load_task(DATA / "person.task.yaml")


@pytest.fixture(scope="module")
def lenient_person(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lenient")
    (folder / "person.schema.json").write_text((DATA / "person.schema.json").read_text())
    (folder / "task.yaml").write_text((DATA / "person.task.yaml").read_text() + "lenient: true\n")
    return load_task(folder / "task.yaml")


@pytest.fixture(scope="module")
def anything(tmp_path_factory):
    """A task whose schema accepts every JSON document."""
    schema = tmp_path_factory.mktemp("anything") / "schema.json"
    schema.write_text("{}")
    return Task.from_schema(schema)


def scores(task, text: str, expected=None) -> dict[str, float | None]:
    attempt = Attempt("input", check(text, task), expected, task)
    return {name: metric.score(attempt) for name, metric in CORE_METRICS.items()}


NAMES = ["parse_rate", "schema_valid", "lenient_valid", "exact_match", "field_precision", "field_recall", "field_f1"]
# completion, expected value -> the seven core scores, in NAMES order
CASES = {
    "valid, keys reordered": ('{"email": "ada@example.org", "name": "Ada"}', ADA, [1, 1, 1, 1, 1, 1, 1]),
    "36 equals 36.0": ('{"name": "Ada", "email": "ada@example.org", "age": 36.0}', {**ADA, "age": 36},
                       [1, 1, 1, 1, 1, 1, 1]),
    "valid, one extra field": ('{"name": "Ada", "email": "ada@example.org", "age": 40}', ADA,
                               [1, 1, 1, 0, 2 / 3, 1, 0.8]),
    "valid, one wrong field": ('{"name": "Ada", "email": "ada@example.org", "age": 41}', {**ADA, "age": 40},
                               [1, 1, 1, 0, 2 / 3, 2 / 3, 2 / 3]),
    "parsed, schema-invalid": ('{"name": "Ada", "email": "nope"}', ADA, [1, 0, 0, 0, 0.5, 0.5, 0.5]),
    "parsed, missing a required field": ('{"name": "Ada"}', ADA, [1, 0, 0, 0, 1, 0.5, 2 / 3]),
    "fenced": ('```json\n{"name": "Ada", "email": "ada@example.org"}\n```', ADA, [0, 0, 0, 0, 0, 0, 0]),
    "prose": ("Ada, ada@example.org", ADA, [0, 0, 0, 0, 0, 0, 0]),
    "no reference": ('{"name": "Ada", "email": "ada@example.org"}', None, [1, 1, 1, None, None, None, None]),
}


@pytest.mark.parametrize("case", CASES)
def test_core_scores_of_known_completions(person, case):
    text, expected, want = CASES[case]
    assert scores(person, text, expected) == pytest.approx(dict(zip(NAMES, want)))


def test_lenient_task_counts_extracted_documents_apart(lenient_person):
    fenced = '```json\n{"name": "Ada", "email": "ada@example.org"}\n```'
    # Found only by lenient extraction: lenient_valid, never valid, and no credit for its fields.
    assert scores(lenient_person, fenced, ADA) == pytest.approx(dict(zip(NAMES, [0, 0, 1, 0, 0, 0, 0])))
    bad = 'Sure: {"name": "Ada", "email": "nope"}'
    assert scores(lenient_person, bad, ADA)["lenient_valid"] == 0
    strict = '{"name": "Ada", "email": "ada@example.org"}'
    assert scores(lenient_person, strict, ADA) == pytest.approx(dict(zip(NAMES, [1] * 7)))


def test_field_scores_compare_paths_and_values(person):
    def f1(pred, gold):
        return scores(person, json.dumps(pred), gold)["field_f1"]

    assert f1({"tags": ["a", "b"]}, {"tags": ["a", "b"]}) == 1
    assert f1({"tags": ["b", "a"]}, {"tags": ["a", "b"]}) == 0  # list positions are part of the path
    assert f1({"a": {"b": 1}}, {"a": {"b": 1, "c": 2}}) == pytest.approx(2 / 3)
    assert f1({"a": {}}, {"a": {}}) == 1  # an empty container is a leaf
    assert f1({"a": "1"}, {"a": 1}) == 0  # "1" is not 1
    assert f1({"a/b": 1}, {"a": {"b": 1}}) == 0  # "/" in a key is escaped, not a path step
    assert scores(person, "{}", {})["field_recall"] == 1


def test_exact_match_tells_booleans_from_numbers(anything):
    assert scores(anything, '{"flag": true}', {"flag": 1})["exact_match"] == 0
    assert scores(anything, '{"flag": 0}', {"flag": False})["exact_match"] == 0


def test_exact_match_compares_canonical_values(anything, person):
    assert scores(anything, '{"b": [1, {"c": 2}], "a": "x"}', {"a": "x", "b": [1.0, {"c": 2}]})["exact_match"] == 1
    assert scores(anything, '{"tags": [1, 2]}', {"tags": [2, 1]})["exact_match"] == 0  # lists keep their order
    assert scores(anything, '{"a": "1"}', {"a": 1})["exact_match"] == 0
    assert scores(anything, '{"a": null}', {})["exact_match"] == 0
    assert scores(anything, '{"a": 1}', {"a": 1, "b": 2})["exact_match"] == 0
    # Equal values still need a valid output: here the schema requires an email.
    assert scores(person, '{"name": "Ada"}', {"name": "Ada"})["exact_match"] == 0


def test_every_core_metric_is_described_and_higher_is_better():
    assert list(CORE_METRICS) == NAMES
    assert all(m.description and m.higher_is_better for m in CORE_METRICS.values())


# -- averaging in the evaluator ----------------------------------------------------------------

PLUGIN = '''
from formtune import hookimpl, Metric

@hookimpl
def register_metrics(register):
    # None for inputs it does not apply to: those are left out of the average.
    register(Metric("long", lambda a: None if a.input.startswith("skip") else float(len(a.checked.text) > 40),
                    "longer than 40 characters", formats=("json",), higher_is_better=False))
    register(Metric("yaml-only", lambda a: 1.0, "never applies to JSON tasks", formats=("yaml",)))
'''

EXAMPLES = [EvalExample("a", ADA),
            EvalExample("b", {"name": "Bo", "email": "bo@example.org", "age": 30}),
            EvalExample("skip c", {"name": "Cy", "email": "cy@example.org"}),
            EvalExample("d", {"name": "Di", "email": "di@example.org"}),
            EvalExample("skip e", None)]
COMPLETIONS = ['{"email": "ada@example.org", "name": "Ada"}',           # valid, exact
               '{"name": "Bo", "email": "bo@example.org", "age": 31}',  # valid, one field wrong
               '```json\n{"name": "Cy", "email": "cy@example.org"}\n```',  # fenced: invalid
               '{"name": "Di", "email": "nope"}',                       # schema-invalid
               '{"name": "Ed", "email": "ed@example.org"}']             # valid, no reference
# parse, valid, lenient_valid over 5; exact and fields over the 4 with a reference.
AVERAGES = {"parse_rate": 4 / 5, "schema_valid": 3 / 5, "lenient_valid": 3 / 5, "exact_match": 1 / 4,
            "field_precision": (1 + 2 / 3 + 0 + 0.5) / 4, "field_recall": (1 + 2 / 3 + 0 + 0.5) / 4,
            "field_f1": (1 + 2 / 3 + 0 + 0.5) / 4, "prompt_tokens": 30, "latency_s": 0.5, "n": 5}


@pytest.fixture
def scored_task(tmp_path):
    plugin = tmp_path / "lengths.py"
    plugin.write_text(PLUGIN)
    return load_task(DATA / "person.task.yaml", build_registry([plugin])), f"{plugin}:long"


def test_averages_skip_none_and_plugin_metrics_are_prefixed(scored_task, tiny_model, tmp_path, scripted_completions):
    task, long_metric = scored_task
    scripted_completions.append(COMPLETIONS)
    report = evaluate(task, EXAMPLES, [Variant("base", str(tiny_model), prompt="full")], tmp_path / "run",
                      progress=False)
    base = report["variants"]["base"]
    # "long" applies to a, b and d only: two of those three completions are over 40 characters.
    assert base == pytest.approx({**AVERAGES, long_metric: 2 / 3})
    assert report["metrics"][long_metric] == {"description": "longer than 40 characters", "higher_is_better": False}
    assert not any(name.endswith(":yaml-only") for name in report["metrics"])
    assert report["metrics"]["schema_valid"]["higher_is_better"] is True

    rows = [json.loads(line) for line in (tmp_path / "run" / "predictions" / "base.jsonl").read_text().splitlines()]
    assert [r["input"] for r in rows] == [e.input for e in EXAMPLES]
    assert [r["valid"] for r in rows] == [True, True, False, False, True]
    assert [r["scores"]["exact_match"] for r in rows] == [1.0, 0.0, 0.0, 0.0, None]
    assert [r["scores"][long_metric] for r in rows] == [1.0, 1.0, None, 0.0, None]
    assert rows[1]["expected_text"] == '{"name": "Bo", "email": "bo@example.org", "age": 30}'
    assert rows[4]["expected"] is None and rows[4]["expected_text"] is None
    assert [v["kind"] for v in rows[3]["violations"]] == ["schema:format"]
    assert rows[2]["violations"][0]["kind"] == "parse"


def test_a_metric_that_never_applies_is_left_out(person, tiny_model, tmp_path, scripted_completions):
    scripted_completions.append(['{"name": "Ada", "email": "ada@example.org"}'])
    report = evaluate(person, [EvalExample("no reference")], [Variant("base", str(tiny_model), prompt="full")],
                      tmp_path, progress=False)
    assert report["variants"]["base"] == pytest.approx(
        {"parse_rate": 1, "schema_valid": 1, "lenient_valid": 1, "prompt_tokens": 10, "latency_s": 0.5, "n": 1})


def test_separate_eval_calls_add_to_one_metrics_file(person, tiny_model, tmp_path, scripted_completions):
    examples = EXAMPLES[:2]
    base = Variant("base", str(tiny_model), prompt="full")
    constrained = Variant("base+constrained", str(tiny_model), prompt="full", constrained=True)
    scripted_completions.append(COMPLETIONS[:2])
    evaluate(person, examples, [base], tmp_path, progress=False)
    first = json.loads((tmp_path / "metrics.json").read_text())

    scripted_completions.append(["{}", "[]"])
    evaluate(person, examples, [constrained], tmp_path, progress=False)
    merged = json.loads((tmp_path / "metrics.json").read_text())
    assert list(merged["variants"]) == ["base", "base+constrained"]
    assert merged["variants"]["base"] == first["variants"]["base"]
    assert merged["variants"]["base+constrained"]["schema_valid"] == 0
    assert merged["variants"]["base+constrained"]["parse_rate"] == 1
    assert [c["constrained"] for c in scripted_completions.calls] == [False, True]
    assert {p.name for p in (tmp_path / "predictions").iterdir()} == {"base.jsonl", "base+constrained.jsonl"}

    # Evaluating a variant again replaces its scores and leaves the others alone.
    scripted_completions.append(['{"name": "Ada", "email": "ada@example.org"}'] * 2)
    evaluate(person, examples, [base], tmp_path, progress=False)
    again = json.loads((tmp_path / "metrics.json").read_text())
    assert again["variants"]["base+constrained"] == merged["variants"]["base+constrained"]
    assert again["variants"]["base"]["schema_valid"] == 1 and again["variants"]["base"]["exact_match"] == 0.5


def test_variants_get_their_own_prompts(person, tiny_model, tmp_path, scripted_completions):
    scripted_completions.extend([["{}"], ["{}"]])
    evaluate(person, [EvalExample("Hi, I'm Ada", ADA)],
             [Variant("base", str(tiny_model), prompt="full"), Variant("short", str(tiny_model), prompt="short")],
             tmp_path, progress=False)
    full, short = (call["conversations"][0]["messages"] for call in scripted_completions.calls)
    assert full[0] == {"role": "system", "content": person.format.prompt(person)}
    assert short[0] == {"role": "system", "content": person.spec.instructions}
    assert full[1] == short[1] == {"role": "user", "content": "Hi, I'm Ada"}
    assert '"required": ["name", "email"]' in full[0]["content"]


class _Lists(Format):
    """A format whose values may have no fields at all: a list's fields are its items."""

    name = "lists"

    def fields(self, value):
        return {(str(i), repr(v)) for i, v in enumerate(value)}


def list_field_scores(pred: list, gold: list) -> list[float | None]:
    attempt = Attempt("input", Checked(text=repr(pred), value=pred, parsed=True), gold,
                      SimpleNamespace(format=_Lists()))
    return [CORE_METRICS[m].score(attempt) for m in ("field_precision", "field_recall", "field_f1")]


def test_field_scores_when_a_format_gives_no_fields():
    assert list_field_scores(["a"], []) == [0.0, 0.0, 0.0]
    assert list_field_scores([], ["a"]) == [0.0, 0.0, 0.0]
    assert list_field_scores(["a", "c"], ["a", "b"]) == [0.5, 0.5, 0.5]


def test_nothing_expected_and_nothing_emitted_is_a_perfect_score():
    assert list_field_scores([], []) == [1.0, 1.0, 1.0]
