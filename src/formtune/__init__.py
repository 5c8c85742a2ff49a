"""formtune: fine-tune small language models until they reliably speak a machine format.

The plugin API is importable from here::

    from formtune import hookimpl, Format, Metric, Violation, Checked

Names are resolved on first use, so ``import formtune`` (and ``formtune --help``) stays fast.
"""

from __future__ import annotations

import os
from importlib import import_module
from typing import Any

from formtune.hookspecs import hookimpl

# oneDNN, torch's CPU matmul library, keeps 1,024 compiled kernels by default, one per operation
# and shape. Packed training batches change shape every step, so the cache fills and then evicts
# the kernels every step needs: steps of the demo's training grew from 2.2 to 2.7-3.3 s over a run
# (a run resumed at step 100 took 2.2 again on the same batches). oneDNN reads this variable when it
# compiles its first kernel, so it is set here, before formtune runs anything; a value of yours wins.
os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "16384")

__version__ = "0.1.0"

_LAZY = {
    "Attempt": "formtune.contrib",
    "Augmenter": "formtune.contrib",
    "Benchmark": "formtune.contrib",
    "BenchmarkResult": "formtune.contrib",
    "DecodingConstraint": "formtune.contrib",
    "Dialect": "formtune.contrib",
    "Draft": "formtune.contrib",
    "FactExtractor": "formtune.contrib",
    "Format": "formtune.contrib",
    "Generator": "formtune.contrib",
    "Metric": "formtune.contrib",
    "RuleEngine": "formtune.contrib",
    "RuleSyntaxError": "formtune.contrib",
    "TaskOptions": "formtune.contrib",
    "ToolSet": "formtune.contrib",
    "Validator": "formtune.contrib",
    "derive_seed": "formtune.contrib",
    "Checked": "formtune.violations",
    "Violation": "formtune.violations",
    "Task": "formtune.task",
    "load_task": "formtune.task",
    "get_registry": "formtune.plugins",
}

__all__ = ["hookimpl", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'formtune' has no attribute {name!r}")
