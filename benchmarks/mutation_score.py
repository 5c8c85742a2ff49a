"""Mutation score of the fast tests over the modules that decide correctness: a benchmark, not a gate.

    .venv/bin/pip install mutmut        # once; works offline after that
    flock /work/wt/heavy.lock .venv/bin/python benchmarks/mutation_score.py [--only GROUP ...] [--resume]

mutmut (3.x) changes one thing at a time in a module (``<`` becomes ``<=``, ``and`` becomes ``or``, a
constant, a returned value …) and runs the tests that exercise the changed function; a mutant
that no test notices "survives". Each group below is one mutmut run over some modules, with the
test files that concern them (mutmut then picks, per mutated function, the tests that call it).
The script prints the score of each module, every survivor as a one-line diff, and ends with
``mutation score: <killed>/<mutants> = <fraction>``.

How it runs: the repository is copied into a scratch folder (``--work``, default
``build/mutation/``), ``plugins/*`` beside ``src/formtune`` (mutmut puts only ``src/`` on the
path), and mutmut runs there with ``process_isolation = forkserver``: forking a process that has
imported torch hangs, so mutmut forks each mutant from a server that has only imported the
tests. What mutmut cannot mutate: code at module level (``CORE_METRICS``' lambdas, module
constants) and decorated functions; a function nested in another is mutated as part of it
(``compute_loss`` inside ``_trainer_class``). mutmut switches a mutant on when its function is
called, so a mutation in code that runs only at import never takes effect: each survivor is
therefore applied to the source and the group's tests run once more on it ("killed on recheck").
mutmut's timeouts are rechecked the same way, since a forkserver that dies reports every later
mutant as timed out; a recheck that runs past five times the unmutated run counts as a hang (killed).
Rechecks run ``--max-children`` at once, and each verdict is saved when known, so ``--resume`` after
a run cut short repeats neither mutmut's work nor the rechecks'.
Tests that run ``formtune`` in a subprocess import the unmutated package, so only in-process
tests kill mutants.
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import hashlib
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUTMUT = Path(sys.executable).with_name("mutmut")
KILLED = {"killed", "timeout", "caught by type check", "segfault", "killed on recheck"}


@dataclass
class Group:
    """One mutmut run: the modules to mutate (optionally only some functions) and their tests."""

    name: str
    modules: list[str]
    tests: list[str]
    functions: dict[str, list[str]] = field(default_factory=dict)  # module -> function patterns


# The store's tests: the dataset tests, and the reliability cases about broken tasks, changed tasks
# (the fingerprint) and torn rows. Left out are the killed-build and busy-folder tests (subprocesses
# of 10-15 s that mutants cannot reach, yet mutmut would run them for each mutant of the readers
# they call at the end); in-process tests cover what they check in the store.
DATASET_TESTS = ["tests/test_dataset.py", "--deselect=tests/test_dataset.py::test_a_killed_build_resumes_where_it_stopped",
                 "tests/test_dataset_builder.py",
                 "tests/test_templates.py", "tests/test_api.py::test_a_rerun_continues_a_build_cut_short",
                 "tests/test_metrics.py::test_variants_get_their_own_prompts", "tests/test_augment.py",
                 "tests/test_layouts.py", "tests/test_reliability_01_broken_task_fails_fast.py",
                 "tests/test_reliability_02_fixed_task_is_not_poisoned.py", "tests/test_reliability_04_task_changes.py",
                 "tests/test_reliability_05_torn_rows_and_readers.py"]

GROUPS = [  # cheapest first
    Group("metrics", ["src/formtune/metrics.py"], ["tests/test_metrics.py"]),
    Group("validation", ["src/formtune/check.py", "src/formtune/schema/compile.py", "plugins/formtune_json/format.py"],
          ["tests/test_json_plugin.py", "tests/test_schema_compile.py", "tests/test_metrics.py",
           "tests/test_api.py::test_validate_files_reports_each_file",
           "tests/test_toy_format.py::test_the_format_checks_its_own_documents",
           "tests/test_rules_seams.py::test_only_validators_that_name_input_and_meta_receive_them"]),
    Group("plugin registry", ["src/formtune/plugins.py"], ["tests/test_plugins.py", "tests/test_task.py"]),
    Group("sampler check", ["src/formtune/schema/sampler/core.py"],
          ["tests/test_sampler.py", "tests/test_api.py::test_the_sampler_never_returns_an_instance_its_validator_rejects",
           "tests/test_api.py::test_the_sampler_counts_a_validator_crash_as_a_failure",
           "tests/test_api.py::test_boolean_schemas", "tests/test_api.py::test_the_sampler_names_the_failure_it_met_most",
           "tests/test_api.py::test_the_failure_met_most_is_named_whatever_its_kind",
           "tests/test_api.py::test_running_out_of_time_names_the_work_unless_an_attempt_failed_first",
           "tests/test_sampler_realism.py::test_list_hint_by_pointer_beats_property_name"],
          functions={"src/formtune/schema/sampler/core.py": ["SchemaSampler.sample"]}),
    # The dataset package in two runs, the store (rows on disk, fingerprints, the rejection log)
    # and the builder, so that each can be run (and finished) on its own.
    Group("dataset store", ["src/formtune/dataset/store.py", "src/formtune/dataset/fingerprint.py",
                            "src/formtune/dataset/rejections.py"], DATASET_TESTS),
    Group("dataset builder", ["src/formtune/dataset/builder.py"], DATASET_TESTS),
    Group("training data and loss", ["src/formtune/train.py", "src/formtune/*loss*.py"], ["tests/test_train*.py"],
          functions={"src/formtune/train.py": ["to_prompt_completion", "<compute_loss>"]}),
]


def expand(patterns: list[str]) -> list[str]:
    """Paths (relative to the repository) matching ``patterns``; a module that became a package
    (``dataset.py`` -> ``dataset/``) stands for every module in it."""
    found: list[str] = []
    for pattern in patterns:
        if pattern.startswith("-"):  # a pytest option, such as --deselect=...
            found.append(pattern)
            continue
        path, _, test = pattern.partition("::")
        matches = sorted(ROOT.glob(path)) or sorted((ROOT / path.removesuffix(".py")).glob("**/*.py"))
        found += [str(m.relative_to(ROOT)) + (f"::{test}" if test else "") for m in matches]
    return found


def scratch_path(module: str) -> str:
    """Where a module lies in the scratch copy: plugins go beside ``src/formtune``."""
    return "src/" + module.removeprefix("plugins/") if module.startswith("plugins/") else module


def mangled(module_file: Path, patterns: list[str]) -> list[str]:
    """mutmut's names (``x_func`` / ``xǁClassǁmethod``) of the top-level functions or methods that
    match ``patterns``; ``<name>`` matches any function whose body mentions ``name``."""
    tree = ast.parse(module_file.read_text())
    names = []
    for node in tree.body:
        members = [(node, None)] if isinstance(node, ast.FunctionDef) else []
        if isinstance(node, ast.ClassDef):
            members = [(m, node.name) for m in node.body if isinstance(m, ast.FunctionDef)]
        for function, owner in members:
            qualified = f"{owner}.{function.name}" if owner else function.name
            source = ast.get_source_segment(module_file.read_text(), function) or ""
            if any(p[1:-1] in source if p.startswith("<") else fnmatch.fnmatch(qualified, p) for p in patterns):
                names.append(f"xǁ{owner}ǁ{function.name}" if owner else f"x_{function.name}")
    return names


def dotted(module: str) -> str:
    return scratch_path(module).removeprefix("src/").removesuffix(".py").replace("/", ".").removesuffix(".__init__")


def prepare(group: Group, work: Path, resume: bool = False) -> tuple[Path, list[str], list[str]]:
    """A scratch copy of the repository with mutmut's configuration for ``group``. With ``resume``
    mutmut's own state (``mutants/``) and the rechecks' verdicts are kept: mutmut then tests only the
    mutants it has no verdict for, and drops the verdicts of functions whose code changed since."""
    modules, tests = expand(group.modules), expand(group.tests)
    folder = work / re.sub(r"\W+", "-", group.name)
    for entry in folder.iterdir() if folder.exists() else ():
        if resume and entry.name in ("mutants", "rechecks.json"):
            continue
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    shutil.copytree(ROOT / "src", folder / "src", ignore=shutil.ignore_patterns("*.egg-info", "__pycache__"))
    for plugin in (ROOT / "plugins").iterdir():
        if plugin.is_dir():
            shutil.copytree(plugin, folder / "src" / plugin.name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "tests", folder / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    for extra in ("pyproject.toml", "examples", "schemas", "docs", "README.md"):  # what tests read via ROOT
        source = ROOT / extra
        if source.is_dir():
            shutil.copytree(source, folder / extra)
        elif source.exists():
            shutil.copy(source, folder / extra)
    lines = ["[mutmut]", "source_paths=", "    src", "only_mutate="]
    lines += [f"    {scratch_path(m)}" for m in modules]
    lines += ["pytest_add_cli_args_test_selection="] + [f"    {t}" for t in tests]
    lines += ["pytest_add_cli_args=", "    -p", "    no:cacheprovider", "    -q",
              "process_isolation=forkserver", "also_copy=", "    examples", "    schemas", "    docs", "    README.md", ""]
    (folder / "setup.cfg").write_text("\n".join(lines))
    selected = []
    for module in modules:
        patterns = group.functions.get(module)
        if patterns:
            names = mangled(ROOT / module, patterns)
            if not names:
                print(f"warning: no function of {module} matches {patterns}", file=sys.stderr)
            selected += [f"{dotted(module)}.{name}__mutmut_*" for name in names]
        elif group.functions:  # a selection names mutants; this module's are all of its own
            selected.append(f"{dotted(module)}.*")
    return folder, modules, selected


def run_group(group: Group, work: Path, children: int, resume: bool = False) -> dict[str, str]:
    """Run mutmut for one group, then recheck its survivors; the status of each mutant by name."""
    folder, modules, selected = prepare(group, work, resume)
    tests = expand(group.tests)
    began = time.perf_counter()
    done = subprocess.run([str(MUTMUT), "run", "--max-children", str(children), *selected], cwd=folder,
                          capture_output=True, text=True)
    log = folder / "mutmut-run.log"
    log.write_text(done.stdout + done.stderr)
    listing = subprocess.run([str(MUTMUT), "results", "--all", "true"], cwd=folder, capture_output=True, text=True)
    statuses = {}
    for line in listing.stdout.splitlines():
        name, _, status = line.strip().rpartition(": ")
        if name and (not selected or any(fnmatch.fnmatch(name, p) for p in selected)):
            statuses[name] = status
    # mutmut's timeouts are rechecked too: a forkserver that dies reports every later mutant as
    # timed out (seen on the dataset store's fingerprint module). A recheck that runs past five
    # times the unmutated run is a hang, which counts as killed.
    doubtful = {name: status for name, status in statuses.items() if status not in KILLED or status == "timeout"}
    if doubtful:
        began_plain = time.perf_counter()
        run_tests(folder, tests, timeout=None)
        limit = max(60.0, 5 * (time.perf_counter() - began_plain))
        verdicts = recheck_all(folder, list(doubtful), tests, limit, children)
    for name, status in doubtful.items():
        if status == "timeout" and not verdicts[name]:
            statuses[name] = "survived (mutmut's timeout not confirmed)"
        elif status != "timeout" and verdicts[name]:
            statuses[name] = "killed on recheck"
    print(f"[{group.name}] {len(statuses)} mutants in {time.perf_counter() - began:.0f} s "
          f"(mutmut exit {done.returncode}; log: {log})", flush=True)
    if not statuses:
        print(done.stdout[-3000:] + done.stderr[-3000:], file=sys.stderr)
    return statuses


def run_tests(folder: Path, tests: list[str], timeout: float | None, threads: int | None = None) -> int:
    """Run the group's tests plainly (no mutmut) on the scratch source; pytest's exit code."""
    env = {**os.environ, "PYTHONPATH": str(folder / "src")}
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)
    return subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests], cwd=folder,
                          env=env, capture_output=True, timeout=timeout).returncode


def recheck_all(folder: Path, names: list[str], tests: list[str], limit: float, workers: int) -> dict[str, bool]:
    """Apply each mutant to the source and run the group's tests on it plainly; True where they fail.

    mutmut switches mutants on at call time, so a mutation in code that only runs at import
    (a closure made by a module-level call, such as ``metrics._field``) is never switched on; the
    plain run sees it. ``workers`` rechecks run at once, each in its own copy of the scratch
    folder. Each verdict is saved in ``rechecks.json`` as soon as it is known, keyed by the mutated
    module's text, so a run cut short resumes (``--resume``): a killed mutant stays killed (as in
    mutmut's own bookkeeping), a surviving one is tested again once the tests have changed.
    """
    saved_file = folder / "rechecks.json"
    saved = json.loads(saved_file.read_text()) if saved_file.exists() else {}
    tests_now = hashlib.sha256(b"".join(p.read_bytes() for p in sorted((folder / "tests").rglob("*.py")))).hexdigest()
    copies: queue.Queue[Path] = queue.Queue()
    for i in range(workers):
        copy = folder.with_name(f"{folder.name}.recheck{i}")
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(folder, copy, ignore=shutil.ignore_patterns("mutants", "__pycache__"))
        copies.put(copy)
    lock = threading.Lock()  # mutmut applies a mutant inside the group's folder: one at a time
    threads = max(1, (os.cpu_count() or 1) // workers)

    def verdict(name: str) -> bool:
        with lock:
            mutated = mutated_module(folder, name)
        if mutated is None:  # mutmut could not apply it: nothing to recheck
            return False
        module, text = mutated
        key = hashlib.sha256(text.encode()).hexdigest()
        known = saved.get(key)
        if known and (known["killed"] or known["tests"] == tests_now):
            return known["killed"]
        copy = copies.get()
        target = copy / module
        original = target.read_text()
        try:
            target.write_text(text)
            killed = run_tests(copy, tests, timeout=limit, threads=threads) in (1, 2)  # failed, or broke collection
        except subprocess.TimeoutExpired:
            killed = True
        finally:
            target.write_text(original)
            copies.put(copy)
        with lock:
            saved[key] = {"mutant": name, "killed": killed, "tests": tests_now}
            partial = saved_file.with_suffix(".tmp")
            partial.write_text(json.dumps(saved, indent=1))
            partial.replace(saved_file)
        return killed

    with ThreadPoolExecutor(workers) as pool:
        return dict(zip(names, pool.map(verdict, names)))


def mutated_module(folder: Path, name: str) -> tuple[Path, str] | None:
    """The module (relative to ``folder``) that mutant ``name`` changes and its mutated text;
    ``folder``'s own source is left as it was."""
    module = Path("src") / (module_of(name).replace(".", "/") + ".py")
    original = (folder / module).read_text()
    try:
        if subprocess.run([str(MUTMUT), "apply", name], cwd=folder, capture_output=True).returncode:
            return None
        return module, (folder / module).read_text()
    finally:
        (folder / module).write_text(original)


def module_of(name: str) -> str:
    """The dotted module of a mutant, as mutmut names them: ``module.x_func__mutmut_3`` or
    ``module.xǁClassǁmethod__mutmut_3``."""
    return name.split(".x_")[0].split(".xǁ")[0]


def diff_of(folder: Path, name: str) -> str:
    """The changed lines of a mutant, as ``- old`` / ``+ new``."""
    shown = subprocess.run([str(MUTMUT), "show", name], cwd=folder, capture_output=True, text=True).stdout
    changed = [line for line in shown.splitlines()
               if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    return " | ".join(" ".join(line.split()) for line in changed)[:300]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", help="run only these groups: " + ", ".join(g.name for g in GROUPS))
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "mutation", help="scratch folder")
    parser.add_argument("--max-children", type=int, default=2, help="mutants tested (and rechecked) at once")
    parser.add_argument("--resume", action="store_true",
                        help="keep the verdicts of an earlier run that was cut short, mutmut's and the rechecks' "
                             "(what changed is tested again)")
    args = parser.parse_args()
    args.work = args.work.resolve()  # the recheck runs pytest from inside the scratch folder
    if not MUTMUT.exists():
        sys.exit(f"mutmut is not installed in this environment: {sys.executable} -m pip install mutmut")

    total = killed = 0
    for group in GROUPS:
        if args.only and group.name not in args.only:
            continue
        statuses = run_group(group, args.work, args.max_children, args.resume)
        if not statuses or all(status == "not checked" for status in statuses.values()):
            print(f"  [{group.name}] not scored: mutmut did not run its mutants (see the log above)", flush=True)
            continue
        folder = args.work / re.sub(r"\W+", "-", group.name)
        k, n = report(folder, statuses)
        total, killed = total + n, killed + k
    print(f"\nmutation score: {killed}/{total} = {killed / total if total else 0:.3f}")


def report(folder: Path, statuses: dict[str, str]) -> tuple[int, int]:
    """Print the score of each module of one group and its survivors; return (killed, mutants)."""
    by_module: dict[str, Counter[str]] = defaultdict(Counter)
    survivors = []
    for name, status in sorted(statuses.items(), key=lambda kv: _natural(kv[0])):
        by_module[module_of(name)][status] += 1
        if status not in KILLED:
            survivors.append(f"  {name} ({status})\n      {diff_of(folder, name)}")
    killed = total = 0
    for module, counts in sorted(by_module.items()):
        n, k = sum(counts.values()), sum(counts[s] for s in KILLED)
        total, killed = total + n, killed + k
        others = ", ".join(f"{s}: {c}" for s, c in counts.items() if s not in KILLED)
        print(f"  {module:38s} {k:5d} killed of {n:<5d} {k / n:6.1%}   {others}")
    print("\n".join(survivors), flush=True)
    return killed, total


def _natural(name: str) -> tuple[str, int]:
    base, _, number = name.rpartition("_")
    return base, int(number) if number.isdigit() else 0


if __name__ == "__main__":
    main()
