"""Does the tool-calling skill carry over to tools never seen? BFCL "simple" before and after tuning.

    flock /work/wt/heavy.lock .venv/bin/python benchmarks/bfcl_generalization.py OUT [--share 0.5] [--tools 300]

Trains the shop-assistant example with a share of its training conversations built from other
tools (``tools.general``): Seal-Tools tool definitions (``../shared/corpora/seal_tools``, converted
to OpenAI function definitions), then scores the tuned model on BFCL ``simple_python`` (functions
it never saw, in the task's dialect and listing) and on the shop task's held-out requests. Run
``formtune tools bfcl`` on the untuned model and on the shop-only demo's adapter for the other
two numbers (benchmarks/RESULTS.md has all of them). Every step is a ``formtune`` command.
"""

from __future__ import annotations

import argparse
import json
import keyword
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# ``shared/corpora`` beside the checkout or beside a folder above it (a worktree).
CORPORA = next((p / "shared/corpora" for p in ROOT.parents if (p / "shared/corpora").is_dir()), Path("shared/corpora"))
TYPES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}


def seal_tools(path: Path, count: int, seed: int = 0) -> list[dict[str, Any]]:
    """``count`` Seal-Tools tools with 1-4 parameters as OpenAI function definitions (a seeded sample)."""
    tools = []
    for line in path.read_text(encoding="utf-8").splitlines():
        tool = json.loads(line)
        params = tool["parameters"]
        if not 1 <= len(params) <= 4 or not re.fullmatch(r"[A-Za-z_]\w*", tool["api_name"]):
            continue
        if any(not n.isidentifier() or keyword.iskeyword(n) or p.get("type") not in TYPES for n, p in params.items()):
            continue
        properties = {n: {"type": TYPES[p["type"]], "description": p.get("description", "")} for n, p in params.items()}
        tools.append({"type": "function", "function": {
            "name": tool["api_name"], "description": tool["api_description"],
            "parameters": {"type": "object", "properties": properties,
                           "required": [r for r in tool.get("required", []) if r in properties]}}})
    unique = list({t["function"]["name"]: t for t in tools}.values())
    return random.Random(seed).sample(unique, min(count, len(unique)))


def formtune(*args: str) -> str:
    print("$ formtune " + " ".join(args), flush=True)
    done = subprocess.run([sys.executable, "-m", "formtune", *args], capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"formtune {args[0]} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--share", type=float, default=0.5, help="share of training conversations on other tools")
    parser.add_argument("--tools", type=int, default=300, help="how many Seal-Tools tools to draw from")
    parser.add_argument("--limit", type=int, help="only the first N BFCL questions")
    args = parser.parse_args()

    task_dir = args.out / "task"
    shutil.copytree(ROOT / "examples" / "shop-assistant", task_dir, dirs_exist_ok=True)
    general = seal_tools(CORPORA / "seal_tools" / "Seal-Tools_Dataset" / "tool.jsonl", args.tools)
    (task_dir / "general_tools.json").write_text(json.dumps(general, indent=1))
    task_file = task_dir / "task.yaml"
    text = task_file.read_text()
    if "general:" not in text:
        text = text.replace("  max_parallel: 2", f"  max_parallel: 2\n  general: {{tools: general_tools.json, share: {args.share}}}")
    task_file.write_text(text)

    run = args.out / "run"
    formtune("train", str(task_file), "--data", str(args.out / "data"), "--out", str(run), "--fresh")
    bfcl = CORPORA / "bfcl" / "data" / "BFCL_v4_simple_python.json"
    limit = ["--limit", str(args.limit)] if args.limit else []
    tuned = json.loads(formtune("tools", "bfcl", str(bfcl), "--task", str(task_file), "--adapter", str(run / "adapter"),
                                "--answers", str(args.out / "bfcl_tuned.jsonl"), "--json", *limit))
    formtune("eval", str(run), "--variant", "tuned")
    shop = json.loads((run / "metrics.json").read_text())["variants"]["tuned"]
    print(json.dumps({"general_share": args.share, "general_tools": len(general), "bfcl_simple_tuned": tuned,
                      "shop_tuned": {k: round(v, 3) for k, v in shop.items() if k.startswith("tools:accuracy")}},
                     indent=2))


if __name__ == "__main__":
    main()
