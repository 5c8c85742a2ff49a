"""Input templates: Jinja2 text that turns a sampled output into a natural input.

Besides ``output`` (the value the model must produce), a template can use helpers that draw
from the example's own seeded random stream, so wording varies but stays reproducible:

- ``pick(a, b, ...)`` or ``pick([a, b, ...])`` — one of the options;
- ``chance(p)`` — true with probability ``p``;
- ``fmt`` — value formatters (:mod:`formtune.formatters`): ``fmt.date(d)``, ``fmt.day(d)`` (no year),
  ``fmt.number(n)``, ``fmt.money(amount, currency)``, ``fmt.say(field, value)`` (the task's ``phrases:``),
  ``fmt.listing(items)``, each in one of many spellings.

Templates can share macros from files beside the task:
``{% import "phrases.j2" as phrases with context %}``.

Undefined names are errors (``StrictUndefined``): test optional fields with ``is defined``.
A template that fails to render is a bug in the task, never a property of one example: it is a
:class:`~formtune.errors.TaskError` naming the template and the line, so that a build stops
instead of quietly dropping every example the template cannot handle.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import jinja2.meta

from formtune.errors import TaskError
from formtune.formatters import Formatters


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
    phrases: Mapping[str, Mapping[str, Sequence[str]]] = field(default_factory=dict)

    def render(self, output: Any, rng: random.Random) -> str:
        """The input text for ``output``; a template bug raises :class:`TaskError` with its line."""
        return self.render_with(rng, output=output)

    def render_with(self, rng: random.Random, **context: Any) -> str:
        """The text for any ``context`` (a plugin may write inputs from other values than the answer,
        such as the rules plugin's facts), with the same seeded helpers and errors as ``render``."""

        def pick(*options: Any) -> Any:
            if len(options) == 1 and isinstance(options[0], (list, tuple)):
                options = tuple(options[0])
            return rng.choice(options)

        def chance(p: float) -> bool:
            return rng.random() < p

        # Helpers are globals, so macros imported "with context" can use them too.
        try:
            fmt = Formatters(rng, self.phrases)
            return self.template.render(pick=pick, chance=chance, fmt=fmt, **context).strip()
        except Exception as exc:  # any error of a template's own expressions: undefined, type, division…
            raise TaskError(f"{self.origin}{_template_line(exc)}: {type(exc).__name__}: {exc}; fix the "
                            "template (test optional fields with `is defined`)") from None


def _template_line(exc: BaseException) -> str:
    """``", line N"`` of the innermost template frame of the error (jinja2 rewrites tracebacks so
    that template frames carry their source lines), or ``""``."""
    found = ""
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_name in ("top-level template code", "template") or code.co_name.startswith("block "):
            found = f", line {tb.tb_lineno}" + ("" if code.co_filename == "<template>" else f" of {code.co_filename}")
        tb = tb.tb_next
    return found


def compile_template(text: str, origin: str, folder: Path,
                     phrases: Mapping[str, Mapping[str, Sequence[str]]] | None = None) -> InputTemplate:
    """Compile ``text`` (imports resolve in ``folder``); a syntax error names ``origin`` and the line."""
    try:
        return InputTemplate(_environment(folder).from_string(text), origin, dict(phrases or {}))
    except jinja2.TemplateSyntaxError as exc:
        raise TaskError(f"{origin}, line {exc.lineno}: template syntax error: {exc.message}") from None


def imported_sources(text: str, folder: Path) -> dict[str, str]:
    """The files ``text`` imports or includes (recursively) by name, with their text: they shape
    the inputs as much as the template itself. A name computed at render time cannot be known
    and is left out."""
    env = _environment(folder)
    found: dict[str, str] = {}
    todo = [text]
    while todo:
        try:
            names = jinja2.meta.find_referenced_templates(env.parse(todo.pop()))
        except jinja2.TemplateSyntaxError:
            continue  # compile_template reports it
        for name in names:
            if name is None or name in found:
                continue
            try:
                found[name] = env.loader.get_source(env, name)[0]  # type: ignore[union-attr]
            except jinja2.TemplateNotFound:
                found[name] = ""
            todo.append(found[name])
    return dict(sorted(found.items()))
