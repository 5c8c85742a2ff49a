"""The report shows what metrics.json says and the worst failures first, read back from the
HTML and the terminal table rather than compared with the code that writes them."""

from __future__ import annotations

import base64
import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import run_formtune, unused_constraint
from formtune.check import check
from formtune.evaluate import EvalExample, Variant, evaluate
from formtune.plugins import build_registry
from formtune.report import write_report
from formtune.task import load_task

DATA = Path(__file__).parent / "data"
LOWER = " (lower is better)"

PLUGIN = '''
from formtune import hookimpl, Metric

@hookimpl
def register_metrics(register):
    register(Metric("chars", lambda a: None if a.checked.text == "{}" else min(len(a.checked.text) / 100, 1.0),
                    "length / 100", higher_is_better=False))
'''


def person(name: str, age: int | None = None) -> dict:
    value = {"name": name, "email": f"{name.lower()}@example.org"}
    return value if age is None else {**value, "age": age}


# input -> (expected, completion); what each scores is worked out in the comments.
CASES = {
    "exact": (person("Ada"), json.dumps(person("Ada"))),                           # valid, exact: not a failure
    "age off by one": (person("Bo", 30), json.dumps(person("Bo", 31))),            # valid, F1 2/3
    "fenced": (person("Cy"), f"```json\n{json.dumps(person('Cy'))}\n```"),         # invalid, F1 0
    "bad email": (person("Di"), '{"name": "Di", "email": "nope"}'),                 # invalid, F1 1/2
    "age left out": (person("Ed", 50), json.dumps(person("Ed"))),                  # valid, F1 4/5
    "email left out": (person("Fa"), '{"name": "Fa"}'),                             # invalid, F1 2/3
    "name misspelt": (person("Gu"), '{"name": "Gus", "email": "gu@example.org"}'),  # valid, F1 1/2
    "no reference": (None, json.dumps(person("Hy"))),                              # valid, nothing to compare
}
# Invalid first, then by field F1, lowest first; five at most ("age left out" is the sixth).
WORST = ["fenced", "bad email", "email left out", "name misspelt", "age off by one"]


class Page(HTMLParser):
    """The parts of report.html a reader looks at: the table, the images, the failures."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.table: list[list[str]] = []
        self.images: list[str] = []
        self.links: list[str] = []
        self.sections: dict[str, list[dict[str, list[str]]]] = {}
        self._cell: list[str] | None = None
        self._in_table = self._in_h3 = self._in_pre = self._in_li = False
        self._section: str | None = None
        self._heading = ""
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._in_table = True
        elif tag == "tr" and self._in_table:
            self.table.append([])
        elif tag in ("td", "th") and self._in_table:
            self._cell = []
        elif tag == "img":
            self.images.append(attrs.get("src", ""))
        elif tag in ("a", "link", "script") and (attrs.get("href") or attrs.get("src")):
            self.links.append(attrs.get("href") or attrs.get("src"))
        elif tag == "h3":
            self._in_h3, self._heading = True, ""
        elif tag == "div" and attrs.get("class") == "fail":
            self.sections[self._section].append({"pre": [], "li": []})
        elif tag == "pre":
            self._in_pre = True
            self.sections[self._section][-1]["pre"].append("")
        elif tag == "li" and self._section:
            self._in_li = True
            self.sections[self._section][-1]["li"].append("")

    def handle_endtag(self, tag):
        if tag == "table":
            self._in_table = False
        elif tag in ("td", "th") and self._cell is not None:
            self.table[-1].append("".join(self._cell))
            self._cell = None
        elif tag == "h3":
            self._in_h3 = False
            self._section = self._heading
            self.sections[self._section] = []
        elif tag == "pre":
            self._in_pre = False
        elif tag == "li":
            self._in_li = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        elif self._in_h3:
            self._heading += data
        elif self._in_pre:
            self.sections[self._section][-1]["pre"][-1] += data
        elif self._in_li:
            self.sections[self._section][-1]["li"][-1] += data


@pytest.fixture(scope="module")
def run(tmp_path_factory, tiny_model):
    """A run folder evaluated on scripted completions: every number in it is known."""
    import formtune.evaluate

    folder = tmp_path_factory.mktemp("report")
    plugin = folder / "chars.py"
    plugin.write_text(PLUGIN)
    task = load_task(DATA / "person.task.yaml", build_registry([plugin]))
    examples = [EvalExample(name, expected) for name, (expected, _) in CASES.items()]
    script = [[completion for _, completion in CASES.values()], ["{}"] * len(CASES)]

    def generate(model, tokenizer, conversations, **kwargs):
        return [{"completion": text, "prompt_tokens": 100 + i, "latency_s": 0.25}
                for i, text in enumerate(script.pop(0))]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(formtune.evaluate, "generate", generate)
        patch.setattr(formtune.evaluate, "build_constraint", unused_constraint)
        evaluate(task, examples, [Variant("base", str(tiny_model), prompt="full"),
                                  Variant("base+constrained", str(tiny_model), prompt="full", constrained=True)],
                 folder / "run", progress=False)
    return folder / "run", task, f"{plugin}:chars"


def test_the_table_shows_the_numbers_of_metrics_json(run):
    folder, _, chars = run
    metrics = json.loads((folder / "metrics.json").read_text())
    page = Page(write_report(folder).read_text())

    header, *rows = page.table
    assert header[0] == "variant" and header[-1] == "n"
    columns = [name.removesuffix(LOWER) for name in header[1:]]
    assert set(columns) == {key for scores in metrics["variants"].values() for key in scores}
    assert f"{chars}{LOWER}" in header  # its plugin said lower is better
    assert [row[0] for row in rows] == list(metrics["variants"])
    for row in rows:
        scores = metrics["variants"][row[0]]
        for column, cell in zip(columns, row[1:]):
            if scores.get(column) is not None:
                assert float(cell) == pytest.approx(scores[column], rel=5e-3), (row[0], column)
            else:
                assert cell == "–", (row[0], column)
    # The values themselves, worked out from CASES.
    base = {column: float(cell) for column, cell in zip(columns, rows[0][1:]) if cell != "–"}
    assert base["schema_valid"] == pytest.approx(5 / 8, rel=5e-3)
    assert base["parse_rate"] == pytest.approx(7 / 8, rel=5e-3)
    assert base["exact_match"] == pytest.approx(1 / 7, rel=5e-3)
    assert base["field_f1"] == pytest.approx((1 + 2 / 3 + 0 + 1 / 2 + 4 / 5 + 2 / 3 + 1 / 2) / 7, rel=5e-3)
    assert base["n"] == 8 and base["latency_s"] == 0.25
    assert base["prompt_tokens"] == pytest.approx(103.5, rel=5e-3)
    assert dict(zip(columns, rows[1][1:]))[chars] == "–"  # no constrained output was scored by it


def test_worst_failures_come_invalid_first_then_by_field_f1(run):
    folder, task, _ = run
    page = Page(write_report(folder).read_text())
    shown = page.sections["base"]
    assert [failure["pre"][0] for failure in shown] == WORST
    for failure, name in zip(shown, WORST):
        expected, completion = CASES[name]
        assert failure["pre"][1] == completion
        assert failure["pre"][2] == task.format.render(expected)
        problems = check(completion, task).violations
        if problems:
            assert [li.split(" ", 1)[0] for li in failure["li"]] == [v.path or "/" for v in problems]
            assert [li.split(" ", 1)[1] for li in failure["li"]] == [v.message for v in problems]
        else:
            assert len(failure["li"]) == 1  # says it is valid but not the expected value
    # Every constrained output is "{}", invalid: the first five are shown.
    assert len(page.sections["base+constrained"]) == 5


def test_the_page_is_self_contained(run):
    folder, _, _ = run
    page = Page(write_report(folder).read_text())
    assert page.images and page.links == []
    for src in page.images:
        prefix, data = src.split(",", 1)
        assert prefix == "data:image/png;base64"
        assert base64.b64decode(data).startswith(b"\x89PNG\r\n\x1a\n")


def test_the_terminal_table_and_json_show_the_same_numbers(run):
    folder, _, _ = run
    metrics = json.loads((folder / "metrics.json").read_text())
    shown = run_formtune("report", str(folder), env={"COLUMNS": "250"})
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip().endswith(f"report: {folder / 'report.html'}")
    cells = {}
    for line in shown.stdout.splitlines():
        parts = [p.strip() for p in line.strip().strip("│┃").split("│")]
        if len(parts) == 1 + len(metrics["variants"]) and parts[0] and parts[0] != "metric":
            cells[parts[0].removesuffix(LOWER)] = parts[1:]
    for i, (variant, scores) in enumerate(metrics["variants"].items()):
        for name, value in scores.items():
            assert float(cells[name][i]) == pytest.approx(value, rel=5e-3), (variant, name)

    as_json = run_formtune("report", "--json", str(folder))
    assert as_json.returncode == 0 and json.loads(as_json.stdout) == metrics


def test_long_metric_names_are_folded_not_cut_in_a_narrow_terminal(tmp_path, monkeypatch, capsys):
    from formtune.report import print_table

    branches = ["rules:branch/return-window + manager-approval + small-claim (held out)",
                "rules:branch/return-window + small-claim", "rules:branch/manager-approval"]
    scores = {"rules:adherence_held_out_branches": 0.5, **{b: 0.25 for b in branches}}
    meta = {b: {"group": "rules: adherence per branch"} for b in branches}
    variants = ["base", "base+constrained", "tuned", "tuned+constrained"]
    (tmp_path / "metrics.json").write_text(json.dumps({"variants": {v: scores for v in variants}, "metrics": meta}))
    (tmp_path / "predictions").mkdir()
    for variant in variants:
        rows = [{"scores": {b: 1.0 for b in branches}}] * 3
        (tmp_path / "predictions" / f"{variant}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    monkeypatch.setenv("COLUMNS", "80")
    print_table(tmp_path)
    shown = capsys.readouterr().out
    assert "…" not in shown and max(map(len, shown.splitlines())) <= 80
    names = [line.split("│")[1].strip() for line in shown.split("rules: adherence per branch")[1].splitlines()
             if line.startswith("│")]
    # The group's shared prefix ("rules:branch/") is in its title; each branch reads whole, over lines.
    joined = " ".join(n for n in names if n)
    for branch in branches:
        assert branch.removeprefix("rules:branch/") in joined
    assert "rules:adherence_held_out_branches" in "".join(
        line.split("│")[1].strip() for line in shown.split("rules: adherence per branch")[0].splitlines()
        if line.startswith("│"))


def test_several_held_out_wordings_are_scored_apart(tmp_path, tiny_model):
    import formtune.evaluate
    from formtune.evaluate import template_averages
    from formtune.report import BY_TEMPLATE

    task = load_task(DATA / "person.task.yaml")
    wordings = ["voicemail"] * 4 + ["letter"] * 4
    examples = [EvalExample(name, expected, {"template": wording})
                for (name, (expected, _)), wording in zip(CASES.items(), wordings)]

    def generate(model, tokenizer, conversations, **kwargs):
        return [{"completion": completion, "prompt_tokens": 100, "latency_s": 0.25} for _, completion in CASES.values()]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(formtune.evaluate, "generate", generate)
        evaluate(task, examples, [Variant("base", str(tiny_model), prompt="full")], tmp_path / "run", progress=False)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    by = metrics["by_template"]["base"]
    # valid: exact, age off by one | age left out, name misspelt, no reference (see CASES)
    assert (by["voicemail"]["schema_valid"], by["letter"]["schema_valid"]) == (0.5, 0.75)
    assert by["voicemail"]["n"] == by["letter"]["n"] == 4 and metrics["variants"]["base"]["schema_valid"] == 0.625
    assert by["letter"]["field_f1"] == pytest.approx((4 / 5 + 2 / 3 + 1 / 2) / 3)  # no reference: not scored
    assert template_averages([{"template": "voicemail", "scores": {"schema_valid": 1.0}}] * 2) == {}  # one wording

    # The page and the terminal: the headline metrics per wording (exact match and the like left out).
    rows = {r[0]: r[1:] for r in Page(write_report(tmp_path / "run").read_text()).table}
    assert rows["letter: schema_valid"] == ["0.75", "4"] and rows["voicemail: schema_valid"] == ["0.5", "4"]
    assert "letter: field_f1" in rows and "letter: exact_match" not in rows
    shown = run_formtune("report", str(tmp_path / "run"), env={"COLUMNS": "200"})
    assert BY_TEMPLATE in shown.stdout and "letter: schema_valid" in shown.stdout
