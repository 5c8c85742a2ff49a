"""How much of JSONSchemaBench the schema sampler can sample, and how fast.

For every schema of every subset (or the first ``--limit`` of each): compile it (schemas that do
not compile offline are counted apart), draw ``--seeds`` instances, and re-check each one with an
independently built jsonschema validator. A schema counts as covered when every seed gives a valid
instance. Prints per-subset coverage, the keywords that defeat the sampler most, and samples/s.

    flock /work/wt/heavy.lock .venv/bin/python benchmarks/sampler_coverage.py [--limit N] [--jobs 2]

The corpus is ``shared/corpora/jsonschemabench`` beside the checkout or beside a folder above it.
"""

from __future__ import annotations

import argparse
import gzip
import json
import multiprocessing
import signal
import time
import warnings
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import jsonschema
import referencing

CORPUS = next((p / "shared/corpora/jsonschemabench" for p in Path(__file__).resolve().parents
               if (p / "shared/corpora/jsonschemabench").is_dir()), Path("shared/corpora/jsonschemabench"))


class _Timeout(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise _Timeout


def check_one(args: tuple[str, dict, int, float]) -> tuple[str, str, str, int, float]:
    """(id, outcome, detail, samples drawn, seconds) for one schema; outcome is one of
    ok / refused / skipped / timeout / invalid / crash."""
    from formtune.errors import SamplingError, SchemaError
    from formtune.schema.sampler import SchemaSampler

    sid, schema, seeds, timeout = args
    warnings.simplefilter("ignore")  # schemas' regexes trigger FutureWarnings from `re`
    start = time.perf_counter()
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    drawn = 0
    try:
        try:
            sampler = SchemaSampler(schema)
        except SchemaError as exc:
            return sid, "skipped", str(exc)[:80], 0, time.perf_counter() - start
        cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
        checker = cls(schema, registry=referencing.Registry(), format_checker=cls.FORMAT_CHECKER)
        for seed in range(seeds):
            instance = sampler.sample(seed)
            drawn += 1
            if not checker.is_valid(instance):
                return sid, "invalid", json.dumps(instance)[:200], drawn, time.perf_counter() - start
        return sid, "ok", "", drawn, time.perf_counter() - start
    except SamplingError as exc:
        return sid, "refused", exc.keyword or "?", drawn, time.perf_counter() - start
    except _Timeout:
        return sid, "timeout", "", drawn, time.perf_counter() - start
    except Exception as exc:  # noqa: BLE001 - a crash is a sampler bug: report, don't stop
        return sid, "crash", f"{type(exc).__name__}: {exc}"[:160], drawn, time.perf_counter() - start
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def load(limit: int | None, only: list[str] | None) -> list[tuple[str, str, dict]]:
    rows = []
    for path in sorted((CORPUS / "subsets").glob("*.jsonl.gz")):
        subset = path.name.removesuffix(".jsonl.gz")
        if only and subset not in only:
            continue
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for i, line in enumerate(fh):
                if limit is not None and i >= limit:
                    break
                rec = json.loads(line)
                rows.append((subset, rec["id"], rec["schema"]))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="first N schemas of each subset")
    parser.add_argument("--subset", action="append", help="only these subsets (repeatable)")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds per schema")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--show", type=int, default=0, help="print N example refusals/bugs")
    opts = parser.parse_args()

    rows = load(opts.limit, opts.subset)
    subset_of = {sid: subset for subset, sid, _ in rows}
    tasks = [(sid, schema, opts.seeds, opts.timeout) for _, sid, schema in rows]
    start = time.perf_counter()
    with multiprocessing.Pool(opts.jobs, maxtasksperchild=200) as pool:
        results = pool.map(check_one, tasks, chunksize=4)
    wall = time.perf_counter() - start

    per: dict[str, Counter[str]] = defaultdict(Counter)
    reasons: Counter[str] = Counter()
    drawn = 0
    busy = 0.0
    slowest = max(results, key=lambda r: r[4])
    for sid, outcome, detail, n, secs in results:
        per[subset_of[sid]][outcome] += 1
        drawn += n
        busy += secs
        if outcome == "refused":
            reasons[detail] += 1
        elif outcome in ("timeout", "invalid", "crash"):
            reasons[outcome] += 1

    print(f"{'subset':<24}{'schemas':>8}{'skipped':>8}{'ok':>6}{'refused':>8}{'timeout':>8}"
          f"{'bugs':>6}{'coverage':>10}")
    total: Counter[str] = Counter()
    for subset in sorted(per):
        c = per[subset]
        total.update(c)
        _row(subset, c)
    _row("ALL", total)
    print("\ntop defeating keywords (refused schemas; timeout/invalid/crash listed too):")
    for reason, count in reasons.most_common(12):
        print(f"  {reason:<24}{count:>6}")
    print(f"\n{drawn} valid samples in {wall:.0f} s wall with {opts.jobs} jobs "
          f"= {drawn / wall:.1f} samples/s ({drawn / busy:.1f} per busy worker-second)")
    print(f"slowest schema: {slowest[0]} ({slowest[1]}) {slowest[4]:.1f} s for {opts.seeds} seeds")
    shown = 0
    for sid, outcome, detail, _, _ in results:
        if shown < opts.show and outcome in ("refused", "invalid", "crash", "timeout"):
            print(f"  {outcome:<8} {sid}: {detail}")
            shown += 1


def _row(name: str, c: Counter[str]) -> None:
    schemas = sum(c.values())
    usable = schemas - c["skipped"]
    bugs = c["invalid"] + c["crash"]
    cover = f"{100 * c['ok'] / usable:.1f}%" if usable else "-"
    print(f"{name:<24}{schemas:>8}{c['skipped']:>8}{c['ok']:>6}{c['refused']:>8}{c['timeout']:>8}"
          f"{bugs:>6}{cover:>10}")


if __name__ == "__main__":
    main()
