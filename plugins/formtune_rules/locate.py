"""Lines of keys in YAML files, so that a mistake found after loading (an unknown fact, an
unreachable rule) still names the file and the line, as the core does for its own fields."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from formtune.task import _line_of  # the core's own walk from a key path to its line


@lru_cache(maxsize=32)
def _compose(path: Path, mtime: float) -> yaml.Node | None:
    try:
        return yaml.compose(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None


def line_of(path: Path | None, location: tuple[Any, ...]) -> int | None:
    """The 1-based line of the key or item at ``location`` in the YAML file ``path`` (or of its
    nearest parent that exists); ``None`` when the file cannot be read."""
    if path is None or not Path(path).is_file():
        return None
    node = _compose(Path(path).resolve(), Path(path).stat().st_mtime)
    return _line_of(node, location) if node is not None else None
