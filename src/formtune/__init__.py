"""formtune: fine-tune small language models until they reliably speak a machine format.

The plugin API is importable from here::

    from formtune import hookimpl, Format, Metric, Violation, Checked

Names are resolved on first use, so ``import formtune`` (and ``formtune --help``) stays fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from formtune.hookspecs import hookimpl

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
