"""Input templates: Jinja2 text that turns a sampled output into a natural input.

Besides ``output`` (the value the model must produce), a template can call two helpers that
draw from the example's own seeded random stream, so wording varies but stays reproducible:

- ``pick(a, b, ...)`` or ``pick([a, b, ...])`` — one of the options;
- ``chance(p)`` — true with probability ``p``.

Undefined names are errors (``StrictUndefined``): test optional fields with ``is defined``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import jinja2

from formtune.errors import TaskError

_env = jinja2.Environment(undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


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

        return self.template.render(output=output, pick=pick, chance=chance).strip()


def compile_template(text: str, origin: str) -> InputTemplate:
    """Compile ``text``; a syntax error becomes a TaskError naming ``origin`` and the line."""
    try:
        return InputTemplate(_env.from_string(text), origin)
    except jinja2.TemplateSyntaxError as exc:
        raise TaskError(f"{origin}, line {exc.lineno}: template syntax error: {exc.message}") from None
