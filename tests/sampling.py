"""Helpers shared by the sampler's test modules (not a test module itself)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from formtune.schema.compile import compile_schema
from formtune.schema.sampler import SchemaSampler

SEEDS = range(25)


def draws(schema: Any, seeds: range = SEEDS, **kw: Any) -> list[Any]:
    """Samples for many seeds, each re-checked with a separately compiled validator."""
    validator = compile_schema(schema, base_dir=kw.get("base_dir"))
    sampler = SchemaSampler(schema, **kw)
    out = []
    for seed in seeds:
        value = sampler.sample(seed)
        assert validator.is_valid(value), (seed, value, [e.message for e in validator.iter_errors(value)])
        out.append(value)
    return out


def corpus_dir(name: str) -> Path:
    """A shared corpus: ``shared/corpora/<name>`` beside the checkout or beside any folder above it
    (a worktree in /work/wt/<branch> finds /work/shared)."""
    for folder in Path(__file__).resolve().parents:
        candidate = folder / "shared" / "corpora" / name
        if candidate.is_dir():
            return candidate
    return Path(__file__).resolve().parents[1].parent / "shared" / "corpora" / name


def sample_in_subprocess(schema: Any, *, timeout: float = 120, **kw: Any) -> dict[str, Any]:
    """Sample seed 0 in a child process, so a hang fails the test (``timeout``) instead of the suite.

    Returns ``{"value": ...}`` or ``{"keyword": ..., "message": ...}`` for a SamplingError.
    """
    code = ("import json, sys\n"
            "from formtune.errors import SamplingError\n"
            "from formtune.schema.sampler import SchemaSampler\n"
            "schema, kw = json.load(sys.stdin)\n"
            "try:\n"
            "    print(json.dumps({'value': SchemaSampler(schema, **kw).sample(0)}))\n"
            "except SamplingError as exc:\n"
            "    print(json.dumps({'keyword': exc.keyword, 'message': str(exc)}))\n")
    done = subprocess.run([sys.executable, "-c", code], input=json.dumps([schema, kw]), capture_output=True,
                          text=True, timeout=timeout, check=True)
    return json.loads(done.stdout)
