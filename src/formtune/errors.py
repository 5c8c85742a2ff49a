"""The formtune exception tree.

Validation failures are *values* (:class:`formtune.violations.Violation`), never exceptions.
Exceptions are for mistakes that stop the work, and each says what to change::

    FormtuneError            base of everything formtune raises on purpose
    ├── UsageError           bad command-line or API arguments
    ├── PluginError          a plugin failed to load, misspelled a hook, or clashed on a name
    ├── TaskError            a task file is broken (names the file, the field and the fix)
    ├── SchemaError          a schema is itself invalid, or a ``$ref`` cannot be resolved offline
    ├── SamplingError        the sampler cannot satisfy a schema (names the keyword that defeated it)
    ├── ModelError           a model cannot be found or loaded
    └── TrainingError        training cannot start or continue
"""

from __future__ import annotations


class FormtuneError(Exception):
    """Base class of every error formtune raises on purpose; the CLI prints it as one line."""


class UsageError(FormtuneError):
    """Bad command-line or API arguments."""


class PluginError(FormtuneError):
    """A plugin failed to load, misspelled a hook, or registered a name another plugin owns."""


class TaskError(FormtuneError):
    """A task file is broken."""


class SchemaError(FormtuneError):
    """A schema is invalid, or one of its ``$ref`` cannot be resolved without the network."""


class SamplingError(FormtuneError):
    """The sampler cannot produce a valid instance of a schema."""

    def __init__(self, message: str, *, keyword: str | None = None, path: str = "") -> None:
        super().__init__(message)
        self.keyword = keyword
        self.path = path


class ModelError(FormtuneError):
    """A model cannot be found or loaded."""


class TrainingError(FormtuneError):
    """Training cannot start or continue."""


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type's name when the message is empty)."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
