"""The plugin guide cannot drift from the code: every hook, argument and Format method is in it."""

from __future__ import annotations

import inspect
import re

from conftest import ROOT
from formtune import hookspecs
from formtune.contrib import Format

GUIDE = (ROOT / "docs" / "plugins.md").read_text()


def _hooks() -> dict[str, list[str]]:
    return {name: list(inspect.signature(fn).parameters)
            for name, fn in vars(hookspecs).items() if name.startswith("register_") and callable(fn)}


def test_every_hook_is_documented_with_its_arguments():
    documented = {m[1]: [a.strip() for a in m[2].split(",") if a.strip()]
                  for m in re.finditer(r"^### `(register_\w+)\(([^)]*)\)`", GUIDE, re.MULTILINE)}
    assert documented == _hooks()


def test_every_hook_has_a_docstring_with_an_example():
    for name in _hooks():
        doc = getattr(hookspecs, name).__doc__ or ""
        assert "Example::" in doc and "@hookimpl" in doc, name


def test_every_format_method_and_attribute_is_documented():
    public = [n for n in vars(Format) if not n.startswith("_")]
    for name in public:
        assert re.search(rf"^\| `{name}[`(]", GUIDE, re.MULTILINE), f"Format.{name} is not in docs/plugins.md"


def test_the_readme_points_to_the_guide():
    assert "docs/plugins.md" in (ROOT / "README.md").read_text()
