"""Training outputs sampled from the task's JSON Schema."""

from __future__ import annotations

from typing import Any

from formtune.contrib import Draft, derive_seed
from formtune.schema.sampler import SchemaSampler
from formtune.task import Task


class SchemaSampleGenerator:
    """Samples a valid, realistic-looking output; the task's templates write the input."""

    name = "schema-sampler"

    def __init__(self) -> None:
        self._samplers: dict[int, tuple[Task, SchemaSampler]] = {}

    def _sampler(self, task: Task) -> SchemaSampler:
        # Keyed by identity and holding the task, so the id cannot be reused while cached.
        entry = self._samplers.get(id(task))
        if entry is None:
            entry = self._samplers[id(task)] = (task, SchemaSampler(task.schema, base_dir=task.base_dir))
        return entry[1]

    def draft(self, task: Task, *, seed: int, index: int) -> Draft:
        sample_seed = derive_seed(seed, index)
        output: Any = self._sampler(task).sample(sample_seed)
        return Draft(output=output, meta={"sample_seed": sample_seed})
