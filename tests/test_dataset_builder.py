"""The dataset builder's own contract, in this process: what a broken task is told before any work,
what a folder's owner is told, what the summary and each row's provenance record, and that the
wording machinery is seeded (a build is reproducible, and its streams are independent)."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

import pytest
from reliability import PERSON_TASK, person_task

from formtune.check import check
from formtune.contrib import derive_seed
from formtune.dataset import DatasetBuilder, build_dataset, read_rows
from formtune.dataset.builder import PROBE_DRAFTS
from formtune.dataset.fingerprint import fingerprint, fingerprint_parts
from formtune.errors import TaskError, UsageError
from formtune.plugins import build_registry
from formtune.task import load_task

ROOT = Path(__file__).resolve().parents[1]
KV = ROOT / "tests" / "fixtures" / "kv_format.py"

GENERATORS = """
from formtune import Draft, hookimpl
from formtune.errors import FormtuneError


class Recording:
    \"\"\"Valid people; remembers every (seed, index) it was asked for.\"\"\"
    name = "recording"

    def __init__(self):
        self.calls = []

    def draft(self, task, *, seed, index):
        self.calls.append((seed, index))
        return Draft(output={"name": f"P{index}", "email": f"p{index}@example.org"})


class Failing:
    \"\"\"Can never make an output; each failure says which draft it was.\"\"\"
    name = "failing"

    def draft(self, task, *, seed, index):
        raise FormtuneError(f"no draft {index}")


class Broken:
    \"\"\"Its first output breaks the schema twice (a number for a name, an age too low), the others at the root.\"\"\"
    name = "broken"

    def draft(self, task, *, seed, index):
        return Draft(output={"name": 5, "email": "a@example.org", "age": 3} if index == 0 else "not a person")


class YoungThirds:
    \"\"\"Every third person is too young for the schema.\"\"\"
    name = "young-thirds"

    def draft(self, task, *, seed, index):
        return Draft(output={"name": f"P{index}", "email": f"p{index}@example.org", "age": 3 if index % 3 == 0 else 30})


class Uneven:
    \"\"\"Every third person is too young, every seventh is not an object, and names repeat after 40.\"\"\"
    name = "uneven"

    def draft(self, task, *, seed, index):
        if index % 7 == 0:
            return Draft(output=["P", index], input=f"P{index} in a list")  # no template could write it
        age = 3 if index % 3 == 0 else 30
        return Draft(output={"name": f"P{index % 40}", "email": f"p{index % 40}@example.org", "age": age})


class Mixed:
    \"\"\"Hopeless on purpose: one person, then four kinds of rejection, each rarer than the one before.\"\"\"
    name = "mixed"

    def draft(self, task, *, seed, index):
        person = {"name": "Ann", "email": "ann@example.org"}
        kind = index % 10
        output = person if kind < 4 else {**person, "age": 3} if kind < 7 else {**person, "age": "old"} \
            if kind < 9 else {**person, "nick": "A"}
        return Draft(output=output, input=f"Ann ({kind})" if kind >= 4 else "Ann")


class Scalar:
    \"\"\"Its outputs break the schema at the root.\"\"\"
    name = "scalar"

    def draft(self, task, *, seed, index):
        return Draft(output="not a person")


class Worded:
    \"\"\"Writes its own inputs.\"\"\"
    name = "worded"

    def draft(self, task, *, seed, index):
        return Draft(output={"name": f"P{index}", "email": f"p{index}@example.org"}, input=f"person number {index}")


@hookimpl
def register_generators(register):
    for generator in (Recording(), Failing(), Broken(), YoungThirds(), Uneven(), Mixed(), Scalar(), Worded()):
        register(generator)
"""

TWO_EXAMPLES = PERSON_TASK.replace("examples:\n", "examples:\n  - input: Bo, bo@example.org\n"
                                                 "    output: {name: Bo, email: bo@example.org}\n")


def person(tmp_path: Path, text: str = PERSON_TASK, generator: str | None = None):
    """The test person task, optionally with one of the generators above."""
    if generator:
        text = text.replace("data:\n", f"data:\n  generator: {generator}\n")
    task_file = person_task(tmp_path, text)
    (tmp_path / "generators.py").write_text(GENERATORS)
    return task_file, load_task(task_file, build_registry([tmp_path / "generators.py"]))


def error_of(task, folder: Path, kind: type[Exception] = TaskError) -> str:
    """The message of the error (of ``kind``) a build of ``task`` into ``folder`` stops with."""
    with pytest.raises(kind) as caught:
        build_dataset(task, folder, progress=False)
    return str(caught.value)


def failure(task, folder: Path) -> str:
    """The message of the task error a build of ``task`` stops with before it writes anything."""
    message = error_of(task, folder)
    assert not folder.exists()
    return message


# -- before any work -------------------------------------------------------------------------

def test_more_examples_than_training_rows_is_refused_and_as_many_is_fine(tmp_path):
    task_file, task = person(tmp_path, TWO_EXAMPLES.replace("train: 40", "train: 1"))
    assert failure(task, tmp_path / "out") == (f"{task_file}: data.train: 1 is fewer than the 2 hand-written "
                                               "examples; raise it")
    _, task = person(tmp_path, TWO_EXAMPLES.replace("train: 40", "train: 2").replace("eval: 10", "eval: 0"))
    assert build_dataset(task, tmp_path / "out", progress=False).accepted == {"eval": 0, "train": 2}


def test_a_broken_example_is_named_with_its_first_violation(tmp_path):
    bad = PERSON_TASK.replace("output: {name: Ada Lovelace, email: ada@example.org, age: 36}",
                              "output: {name: 5, email: ada@example.org, age: 3}")
    task_file, task = person(tmp_path, bad)
    first = check(task.format.render({"name": 5, "email": "ada@example.org", "age": 3}), task).violations
    assert len(first) == 2 and first[0].path  # so that naming the second one, or "/", would be seen
    assert failure(task, tmp_path / "out") == (f"{task_file}: examples[0]: the output breaks the task at "
                                               f"{first[0].path}: {first[0].message}; fix the example")

    task_file, task = person(tmp_path, PERSON_TASK.replace("output: {name: Ada Lovelace, email: ada@example.org, "
                                                           "age: 36}", "output: [Ada]"))
    message = failure(task, tmp_path / "out")
    assert message.startswith(f"{task_file}: examples[0]: the output breaks the task at /: ")


def test_a_generator_that_cannot_make_anything_is_named_with_its_first_failure(tmp_path):
    task_file, task = person(tmp_path, generator="failing")
    assert failure(task, tmp_path / "out") == (f"{task_file}: data.generator: failing cannot make an output: "
                                               "no draft 0")


def test_a_generator_whose_outputs_all_break_the_task_is_named_with_the_first_violation(tmp_path):
    task_file, task = person(tmp_path, generator="broken")
    first = check(task.format.render({"name": 5, "email": "a@example.org", "age": 3}), task).violations
    assert len(first) == 2 and first[0].path
    assert failure(task, tmp_path / "out") == (f"{task_file}: data.generator: broken makes outputs that break "
                                               f"the task ({first[0].path}: {first[0].message})")


def test_an_output_broken_at_its_root_is_located_at_slash(tmp_path):
    _, task = person(tmp_path, generator="scalar")
    assert "scalar makes outputs that break the task (/: " in failure(task, tmp_path / "out")


def test_the_probe_draws_the_first_candidates_of_the_training_stream(tmp_path):
    # The probe's drafts are the ones the build then makes first, so probing costs no extra
    # variety and a generator that fails only on them fails the probe.
    _, task = person(tmp_path, PERSON_TASK.replace("eval: 10", "eval: 10\n  seed: 5"), generator="recording")
    DatasetBuilder(task, tmp_path / "out").probe()
    assert task.generator.calls == [(derive_seed(5, "train"), i) for i in range(PROBE_DRAFTS)]


@pytest.mark.parametrize("data", ["layouts: 0.5", "absent: 0.3", "templates: none"])
def test_wording_that_needs_a_json_schema_is_refused_before_any_work(tmp_path, data):
    templates = "" if data == "templates: none" else "templates: [{name: t, text: 'I am {{ output.name }}'}]\n"
    options = "" if data == "templates: none" else f", {data}"
    (tmp_path / "task.yaml").write_text(f"name: kv\nformat: kv\nschema: {{required: [name]}}\ninstructions: x\n"
                                        f"{templates}data: {{train: 5, eval: 2{options}}}\n")
    task = load_task(tmp_path / "task.yaml", build_registry([KV]))
    assert "layouts and data.absent need a JSON Schema" in failure(task, tmp_path / "out")


def test_a_format_without_a_json_schema_builds_from_templates(tmp_path):
    (tmp_path / "task.yaml").write_text("name: kv\nformat: kv\nschema: {required: [name]}\ninstructions: x\n"
                                        "templates: [{name: t, text: 'I am {{ output.name }}'}]\n"
                                        "data: {train: 3, eval: 2}\n")  # the kv generator knows 6 names
    task = load_task(tmp_path / "task.yaml", build_registry([KV]))
    assert build_dataset(task, tmp_path / "out", progress=False).accepted == {"eval": 2, "train": 3}


# -- the folder and what a build reports ---------------------------------------------------

def test_the_summary_file_says_what_the_build_did(tmp_path):
    _, task = person(tmp_path, generator="young-thirds")
    build_dataset(task, tmp_path / "out", progress=False)
    manifest = json.loads((tmp_path / "out" / "dataset.json").read_text())
    assert manifest == {"fingerprint": fingerprint(fingerprint_parts(task)), "parts": fingerprint_parts(task)}
    first = json.loads((tmp_path / "out" / "summary.json").read_text())
    rejected = (tmp_path / "out" / "rejected.jsonl").read_text().splitlines()
    logged = Counter(json.loads(line)["reason"] for line in rejected)
    assert logged == {"invalid: schema:minimum at /age": 5 + 20}  # eval 0..14, train 0..58
    assert first == {"folder": str(tmp_path / "out"), "fingerprint": manifest["fingerprint"],
                     "accepted": {"eval": 10, "train": 40}, "rejected": dict(logged.most_common()),
                     "resumed": {"eval": 0, "train": 0}, "notes": []}
    # A second build, asked for fewer rows, resumes, trims and says so.
    _, task = person(tmp_path, PERSON_TASK.replace("train: 40", "train: 30"), generator="young-thirds")
    build_dataset(task, tmp_path / "out", progress=False)
    second = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert second["resumed"] == {"eval": 10, "train": 30} and second["accepted"] == {"eval": 10, "train": 30}
    assert second["notes"] == ["trimmed train.jsonl from 40 to 30 rows (data.train is 30)"]


def test_a_rebuild_says_so_and_a_fresh_folder_has_nothing_to_say(tmp_path):
    _, task = person(tmp_path)
    assert build_dataset(task, tmp_path / "out", progress=False).notes == []
    assert build_dataset(task, tmp_path / "out", progress=False, rebuild=True).notes == ["rebuilt from scratch"]


def test_a_folder_of_another_task_version_is_refused_with_the_command_that_remakes_it(tmp_path):
    task_file, task = person(tmp_path)
    out = tmp_path / "out"
    build_dataset(task, out, progress=False)
    changed = load_task(person_task(tmp_path, PERSON_TASK.replace("Extract the person", "Give the person")))
    assert error_of(changed, out, UsageError) == (
        f"{out} holds rows made for another version of the task (instructions changed); make them again with "
        f"`formtune generate {task_file} --out {out} --rebuild`, or write into another folder")
    changed.source = None  # a task made in code has no file to name
    assert f"`formtune generate TASK_FILE --out {out} --rebuild`" in error_of(changed, out, UsageError)


def test_a_manifest_without_parts_or_with_another_fingerprint_says_what_it_can(tmp_path):
    _, task = person(tmp_path)
    out = tmp_path / "out"
    build_dataset(task, out, progress=False)
    manifest = json.loads((out / "dataset.json").read_text())
    (out / "dataset.json").write_text(json.dumps({**manifest, "fingerprint": "0" * 64}))
    assert "another version of the task (nothing that shapes the data);" in error_of(task, out, UsageError)
    (out / "dataset.json").write_text(json.dumps({"fingerprint": "0" * 64}))
    assert ("another version of the task (it was made without a fingerprint (an older formtune, or an edited "
            "folder));") in error_of(task, out, UsageError)


def test_errors_of_a_task_made_in_code_name_the_task(tmp_path):
    _, task = person(tmp_path, TWO_EXAMPLES.replace("train: 40", "train: 1"))
    task.source = None
    assert failure(task, tmp_path / "out") == "person: data.train: 1 is fewer than the 2 hand-written examples; " \
                                              "raise it"


# -- rows and their provenance ---------------------------------------------------------------

WORDING = PERSON_TASK.replace("holdout_templates: [card]", "holdout_templates: [card]\n  absent: 0.5\n  layouts: 0.3")


def test_a_drawn_candidate_is_a_training_row_of_its_own_stream_and_writes_nothing(tmp_path):
    # The fix loop draws new training rows from streams of their own ("fix", "regression").
    _, task = person(tmp_path, WORDING)
    builder = DatasetBuilder(task, tmp_path / "out")
    drawn = [builder.draw("fix", index)[0] for index in range(30)]
    assert not (tmp_path / "out").exists()
    for index, row in enumerate(drawn):
        assert row["split"] == "train"
        assert row["provenance"]["stream"] == "fix" and row["provenance"]["index"] == index
        assert row["provenance"]["fingerprint"] == fingerprint(fingerprint_parts(task))
        assert row["provenance"]["template"] in ("intro", None)  # never the held-out card
    assert any("absent" in r["provenance"] for r in drawn) and any("layout" in r["provenance"] for r in drawn)
    build_dataset(task, tmp_path / "out", progress=False)
    trained = {r["input"] for r in read_rows(tmp_path / "out" / "train.jsonl")}
    assert sum(r["input"] in trained for r in drawn) <= 3  # another stream, other candidates


def test_dropped_optional_fields_are_recorded_and_only_for_inputs_written_from_the_answer(tmp_path):
    _, task = person(tmp_path, WORDING)
    build_dataset(task, tmp_path / "out", progress=False)
    train = read_rows(tmp_path / "out" / "train.jsonl")
    dropped = [r for r in train if "absent" in r["provenance"]]
    assert dropped and all(r["provenance"]["absent"] == ["/age"] and "age" not in r["output"] for r in dropped)
    assert not any("absent" in r["provenance"] for r in read_rows(tmp_path / "out" / "eval.jsonl"))

    # A generator that writes its own inputs mentions what it wrote: nothing is dropped from its answers.
    _, task = person(tmp_path / "worded", WORDING, generator="worded")
    build_dataset(task, tmp_path / "worded" / "out", progress=False)
    train = read_rows(tmp_path / "worded" / "out" / "train.jsonl")[1:]  # after the hand-written example
    assert train and all(r["input"] == f"person number {r['provenance']['index']}" for r in train)
    assert all(r["provenance"]["template"] is None and "absent" not in r["provenance"] for r in train)


def test_a_build_with_every_wording_lever_is_reproducible(tmp_path):
    task = load_task(ROOT / "examples" / "support-ticket" / "task.yaml")
    first = build_dataset(task, tmp_path / "a", progress=False)
    build_dataset(task, tmp_path / "b", progress=False)
    assert first.accepted["train"] == 300
    for name in ("train.jsonl", "eval.jsonl", "rejected.jsonl"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_the_demo_training_rows_are_the_ones_its_numbers_were_measured_on(tmp_path):
    """README's and RESULTS' demo numbers come from exactly these 300 training rows. A change to how
    rows are drawn (a seed, a stream, a share) fails here: if it is meant, measure the demo again and
    update the digest with the numbers."""
    build_dataset(load_task(ROOT / "examples" / "support-ticket" / "task.yaml"), tmp_path / "data", progress=False)
    rows = read_rows(tmp_path / "data" / "train.jsonl")
    digest = hashlib.sha256(json.dumps([[r["input"], r["output"], r["provenance"]] for r in rows],
                                       sort_keys=True).encode())
    assert digest.hexdigest() == "7c579968b2e62e1002dfce802512e5692483e31a8f343091780ac8edefc8aa13"


def test_a_task_without_templates_writes_every_input_with_a_layout(tmp_path):
    text = PERSON_TASK.split("templates:")[0] + "examples:" + PERSON_TASK.split("examples:")[1]
    _, task = person(tmp_path, text.replace("  holdout_templates: [card]", "  layouts: 0.5"))
    build_dataset(task, tmp_path / "out", progress=False)
    synthetic = [r for split in ("train", "eval") for r in read_rows(tmp_path / "out" / f"{split}.jsonl")
                 if r["provenance"]["source"] == "synthetic"]
    assert len(synthetic) == 49
    assert all(r["provenance"]["template"] is None and r["provenance"]["layout"] for r in synthetic)


# -- resuming, trimming, giving up -----------------------------------------------------------

def test_a_resumed_or_trimmed_build_equals_a_fresh_one_even_with_rejections_and_repeats(tmp_path):
    sized = {n: PERSON_TASK.replace("train: 40", f"train: {n}") for n in (1, 20, 30, 40)}
    for n, text in sized.items():
        _, task = person(tmp_path / f"fresh{n}", text, generator="uneven")
        build_dataset(task, tmp_path / f"fresh{n}" / "out", progress=False)
    rejected = (tmp_path / "fresh40" / "out" / "rejected.jsonl").read_text()
    assert "duplicate input" in rejected and "at /age" in rejected and "schema:type at /" in rejected
    for steps in ([30, 40], [40, 20], [20, 40, 30], [40, 1]):  # 1: the hand-written example alone
        folder = tmp_path / "-".join(map(str, steps))
        for n in steps:
            _, task = person(folder, sized[n], generator="uneven")
            summary = build_dataset(task, folder / "out", progress=False)
        last, before = steps[-1], steps[-2]
        assert summary.notes == ([] if last >= before else
                                 [f"trimmed train.jsonl from {before} to {last} rows (data.train is {last})"])
        fresh = tmp_path / f"fresh{steps[-1]}" / "out"
        for name in ("train.jsonl", "eval.jsonl", "rejected.jsonl"):
            assert (folder / "out" / name).read_bytes() == (fresh / name).read_bytes(), (steps, name)


def test_a_repeated_hand_written_example_is_rejected_once(tmp_path):
    twice = PERSON_TASK.replace("examples:\n", "examples:\n  - input: \"I'm Ada Lovelace, 36 years old. Mail: "
                                "ada@example.org\"\n    output: {name: Ada, email: ada@example.org}\n")
    _, task = person(tmp_path, twice)
    build_dataset(task, tmp_path / "out", progress=False)
    build_dataset(task, tmp_path / "out", progress=False)
    entries = [json.loads(line) for line in (tmp_path / "out" / "rejected.jsonl").read_text().splitlines()]
    assert [e for e in entries if e["source"] != "synthetic"] == [
        {"split": "train", "source": "task-example", "index": 1, "reason": "duplicate input"}]
    assert [r["output"]["name"] for r in read_rows(tmp_path / "out" / "train.jsonl")][:2] != ["Ada", "Ada"]


def test_a_hopeless_build_stops_at_its_early_limit_naming_the_three_top_rejections(tmp_path):
    _, task = person(tmp_path, PERSON_TASK.replace("train: 40", "train: 1000").replace("eval: 10", "eval: 0"),
                     generator="mixed")
    message = error_of(task, tmp_path / "out")
    assert message == ("train: only 2 of 1000 examples after 100 candidates (1 accepted), too few to reach 1000; top "
                       "rejections: duplicate input (39); invalid: schema:minimum at /age (30); "
                       "invalid: schema:type at /age (20)")


def test_a_build_stops_when_its_attempt_budget_is_spent(tmp_path):
    task_file = tmp_path / "task.yaml"
    task_file.write_text("name: tiny\nschema: {type: object, properties: {n: {enum: [1, 2, 3]}}, required: [n], "
                         "additionalProperties: false}\ninstructions: x\n"
                         "templates: [{name: t, text: 'always the same'}]\ndata: {train: 2, eval: 1}\n")
    assert error_of(load_task(task_file), tmp_path / "out") == (
        "train: only 0 of 2 examples after 40 candidates (0 accepted), too few to reach 2; top rejections: "
        "duplicate input (40)")


def test_a_resumed_build_that_cannot_finish_counts_what_it_made_before(tmp_path):
    # It gives up once fewer than one candidate in 40 is accepted (half of what the budget of 20
    # candidates per row needs), counting the rows it made in earlier runs too.
    _, task = person(tmp_path, PERSON_TASK.replace("eval: 10", "eval: 0"), generator="uneven")
    build_dataset(task, tmp_path / "out", progress=False)
    _, task = person(tmp_path, PERSON_TASK.replace("eval: 10", "eval: 0").replace("train: 40", "train: 1000"),
                     generator="uneven")
    message = error_of(task, tmp_path / "out")
    rows = read_rows(tmp_path / "out" / "train.jsonl")
    made = sum(r["provenance"]["source"] == "synthetic" for r in rows)
    assert message.startswith(f"train: only {len(rows)} of 1000 examples after {made * 40 + 1} candidates "
                              f"({made} accepted)")


def test_the_progress_bar_is_on_by_default_and_starts_at_what_the_folder_holds(tmp_path, capsys):
    def bar() -> str:
        shown = capsys.readouterr()
        return (shown.out + shown.err).strip()

    task_file, task = person(tmp_path, PERSON_TASK.replace("train: 40", "train: 30"))
    build_dataset(task, tmp_path / "quiet", progress=False)
    assert bar() == ""
    build_dataset(task, tmp_path / "out")
    shown = bar()
    assert shown.startswith("generating ") and shown.endswith(" 100% 0:00:00"), shown
    task_file.write_text(PERSON_TASK)
    DatasetBuilder(load_task(task_file), tmp_path / "out").build()
    shown = bar()  # 40 of 50 were there: the bar starts at them and ends full
    assert shown.startswith("generating ") and " 100% " in shown, shown


def test_where_a_folder_cannot_be_made_or_read_the_message_says_why(tmp_path):
    _, task = person(tmp_path)
    (tmp_path / "file").write_text("")
    assert error_of(task, tmp_path / "file", UsageError) == (f"{tmp_path / 'file'} is a file, not a dataset folder; "
                                                             "give a folder")
    assert error_of(task, tmp_path / "file" / "out", UsageError) == (
        f"cannot create the dataset folder {tmp_path / 'file' / 'out'} (Not a directory)")

    deep = tmp_path / "a" / "b" / "out"
    assert build_dataset(task, deep, progress=False).accepted == {"eval": 10, "train": 40}
    assert DatasetBuilder(task, deep).build(progress=False).notes == []  # a rerun neither rebuilds nor trims
    train = deep / "train.jsonl"
    lines = train.read_text().splitlines(keepends=True)
    train.write_text("".join([lines[0], "{not json}\n", *lines[1:]]))
    message = error_of(task, deep, UsageError)
    assert message.startswith(f"{train}:2")
    assert message.endswith("; the folder was edited or damaged: make it again with --rebuild")
    row = json.loads(lines[0])
    del row["provenance"]
    train.write_text("".join([lines[0], json.dumps(row) + "\n", *lines[1:]]))
    assert error_of(task, deep, UsageError) == (f"{train}:2: a row of another task version; make the folder again "
                                                "with --rebuild")


MUTE_FORMAT = """
from formtune import Checked, hookimpl
from formtune_json.format import JsonFormat


class Mute(JsonFormat):
    \"\"\"JSON that calls a person of an odd age invalid without saying why (it only parses leniently).\"\"\"
    name = "mute-json"

    def parse(self, text, *, lenient=False):
        checked = super().parse(text, lenient=lenient)
        if isinstance(checked.value, dict) and checked.value.get("age", 0) % 2:
            return Checked(text, value=checked.value, parsed=True, lenient=True)
        return checked


@hookimpl
def register_formats(register):
    register(Mute())
"""


def test_a_format_that_rejects_its_own_rendering_without_a_reason_is_still_told_apart(tmp_path):
    (tmp_path / "mute.py").write_text(MUTE_FORMAT)
    plugins = [tmp_path / "generators.py", tmp_path / "mute.py"]
    task_file, _ = person(tmp_path, PERSON_TASK.replace("format: json", "format: mute-json"))
    summary = build_dataset(load_task(task_file, build_registry(plugins)), tmp_path / "out", progress=False)
    assert set(summary.rejected) == {"invalid"} and summary.rejected["invalid"] > 5
    assert not any(r["output"].get("age", 0) % 2 for r in read_rows(tmp_path / "out" / "train.jsonl"))

    task_file.write_text(PERSON_TASK.replace("format: json", "format: mute-json").replace("age: 36}", "age: 37}"))
    assert failure(load_task(task_file, build_registry(plugins)), tmp_path / "example") == (
        f"{task_file}: examples[0]: the output breaks the task at /: the format rejects its own rendering and "
        "gives no reason; fix the example")
