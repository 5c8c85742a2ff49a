"""Input templates: Jinja2 text that turns a sampled output into a natural input.

Besides ``output`` (the value the model must produce), a template can call two helpers that
draw from the example's own seeded random stream, so wording varies but stays reproducible:

- ``pick(a, b, ...)`` or ``pick([a, b, ...])`` — one of the options;
- ``chance(p)`` — true with probability ``p``.

Templates can share macros from files beside the task:
``{% import "phrases.j2" as phrases with context %}``.

Undefined names are errors (``StrictUndefined``): test optional fields with ``is defined``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from formtune.errors import TaskError


@lru_cache(maxsize=None)
def _environment(folder: Path) -> jinja2.Environment:
    """One environment per task folder, so templates can ``{% import %}`` shared macros from it."""
    return jinja2.Environment(loader=jinja2.FileSystemLoader(folder), undefined=jinja2.StrictUndefined,
                              trim_blocks=True, lstrip_blocks=True)


@dataclass
class InputTemplate:
    """A compiled template; ``origin`` names where it came from, for error messages."""

    template: jinja2.Template
    origin: str

    def render(self, output: Any, rng: random.Random) -> str:
        """The input text for ``output``; raises ``jinja2.TemplateError`` on a template bug."""

        def pick(*options: Any) -> Any:
            if len(options) == 1 and isinstance(options[0], (list, tuple)):
                options = tuple(options[0])
            return rng.choice(options)

        def chance(p: float) -> bool:
            return rng.random() < p

        # Helpers are globals, so macros imported "with context" can use them too.
        return self.template.render(output=output, pick=pick, chance=chance).strip()


def compile_template(text: str, origin: str, folder: Path) -> InputTemplate:
    """Compile ``text`` (imports resolve in ``folder``); a syntax error names ``origin`` and the line."""
    try:
        return InputTemplate(_environment(folder).from_string(text), origin)
    except jinja2.TemplateSyntaxError as exc:
        raise TaskError(f"{origin}, line {exc.lineno}: template syntax error: {exc.message}") from None
