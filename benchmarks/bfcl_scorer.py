"""BFCL scorer check: BFCL's own possible answers must score 100%, and systematically broken ones
must fail.

    .venv/bin/python benchmarks/bfcl_scorer.py [BFCL_DATA_DIR]

For every AST category of ``../shared/corpora/bfcl/data`` (and the irrelevance ones), each
question's possible answers become calls (the first acceptable value of each parameter, in the
answer's order) and are scored by formtune's re-implementation of BFCL's AST checker. Then one
call of each answer is broken in one way at a time, and every broken answer must be scored wrong:

- ``wrong_name``: the tool's name gets a suffix;
- ``drop_required``: a required argument is left out;
- ``wrong_type``: an argument gets a value of another type (a number for a string, …);
- ``out_of_list``: an argument gets a value of the right type outside its acceptable values;
- ``extra_arg``: an argument the tool does not declare is added.

Parallel answers are also scored in reverse order (BFCL matches them without order, greedily).
"""

from __future__ import annotations

import copy
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from formtune_tools.bfcl import answer_calls, category_of, expects_no_call, load_questions, score_question
from formtune_tools.checker import PYTHON_TYPES

# ``shared/corpora`` beside the checkout or beside a folder above it (a worktree).
DATA = next((p / "shared/corpora/bfcl/data" for p in Path(__file__).resolve().parents
             if (p / "shared/corpora/bfcl/data").is_dir()), Path("shared/corpora/bfcl/data"))
SKIP = ("multi_turn", "memory", "web_search", "format_sensitivity", "live_relevance")
PERTURBATIONS = ("wrong_name", "drop_required", "wrong_type", "out_of_list", "extra_arg")


def _param(function: dict[str, Any], call: dict[str, Any], answer: dict[str, Any], scalar: bool) -> str | None:
    """A parameter of ``call`` whose declared type its acceptable values share (so that BFCL does
    not read it as a variable), scalar when asked; None when there is none."""
    properties = function["parameters"].get("properties", {})
    possible = next(iter(answer.values()))
    for name, value in call["arguments"].items():
        declared = PYTHON_TYPES.get(properties.get(name, {}).get("type"))
        values = [v for v in possible.get(name, []) if v != ""]
        if declared is None or not values or any(type(v) is not declared for v in values):
            continue
        if scalar and declared not in (str, int, float, bool):
            continue
        if declared is bool and len({*values}) > 1:
            continue
        return name
    return None


def perturb(kind: str, calls: list[dict[str, Any]], functions: list[dict[str, Any]],
            answers: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """``calls`` with one call broken in the way ``kind`` names, or None when no call can be."""
    by_name = {f["name"]: f for f in functions}
    for i, (call, answer) in enumerate(zip(calls, answers)):
        function = by_name.get(call["name"])
        if function is None:
            continue
        broken = copy.deepcopy(calls)
        args = broken[i]["arguments"]
        if kind == "wrong_name":
            broken[i]["name"] = call["name"] + "_v2"
            return broken
        if kind == "extra_arg":
            args["zz_undeclared"] = 1
            return broken
        if kind == "drop_required":
            required = [p for p in function["parameters"].get("required", []) if p in args]
            if required:
                del args[required[0]]
                return broken
            continue
        name = _param(function, call, answer, scalar=kind == "out_of_list")
        if name is None:
            continue
        value = args[name]
        if kind == "wrong_type":
            args[name] = {str: 987654, int: "987654", float: "9.5x", bool: "true", list: "a list", dict: "a dict"}[type(value)]
        else:  # out_of_list
            possible = [v for v in next(iter(answer.values()))[name] if v != ""]
            if isinstance(value, bool):
                args[name] = not value
            elif isinstance(value, str):
                args[name] = value + " zzz"
            else:
                args[name] = type(value)(max(possible) + 7919)
        return broken
    return None


def main(data: Path = DATA) -> None:
    print(f"{'category':24s} {'answers':>12s} {'reversed':>12s}  " + "  ".join(f"{k:>14s}" for k in PERTURBATIONS))
    totals: Counter[str] = Counter()
    defects = []
    for path in sorted(data.glob("BFCL_v*_*.json")):
        category = category_of(path)
        if any(s in category for s in SKIP):
            continue
        questions = load_questions(path)
        right = reversed_right = 0
        caught: Counter[str] = Counter()
        tried: Counter[str] = Counter()
        for q in questions:
            if expects_no_call(category):
                right += score_question(q, category, []).correct
                reversed_right += not score_question(q, category, [{"name": "any_tool", "arguments": {}}]).correct
                continue
            calls = answer_calls(q.answers)
            outcome = score_question(q, category, calls)
            right += outcome.correct
            if not outcome.correct:
                defects.append(f"{q.id}: {outcome.detail}")
            reversed_right += score_question(q, category, calls[::-1]).correct
            for kind in PERTURBATIONS:
                broken = perturb(kind, calls, q.functions, q.answers)
                if broken is not None:
                    tried[kind] += 1
                    caught[kind] += not score_question(q, category, broken).correct
        n = len(questions)
        totals["answers"] += right
        totals["n"] += n
        second = f"{reversed_right}/{n}" if not expects_no_call(category) else f"{reversed_right}/{n} call"
        cells = "  ".join(f"{caught[k]:>6d}/{tried[k]:<7d}" if tried[k] else f"{'-':>14s}" for k in PERTURBATIONS)
        print(f"{category:24s} {right:>5d}/{n:<6d} {second:>12s}  {cells}")
        for k in PERTURBATIONS:
            totals[f"caught:{k}"] += caught[k]
            totals[f"tried:{k}"] += tried[k]
    print(f"\nall answers: {totals['answers']}/{totals['n']} = {totals['answers'] / totals['n']:.2%}")
    for k in PERTURBATIONS:
        print(f"{k:14s} caught {totals[f'caught:{k}']}/{totals[f'tried:{k}']}")
    print("\nanswers scored wrong (ground-truth defects, see RESULTS.md):")
    for line in defects:
        print("  " + line[:160])
    print("\nIrrelevance rows: 'answers' = no call scored right; 'reversed' = a call scored wrong.")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DATA)
