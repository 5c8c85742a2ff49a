"""Progress bars for long work (rich), or nothing when they are turned off."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def progress_bar(enabled: bool, label: str, total: int, completed: int = 0) -> Iterator[Callable[..., None]]:
    """Yield ``advance(n=1)``; the bar shows ``completed`` of ``total`` at the start."""
    if not enabled:
        yield lambda n=1: None
        return
    from rich.progress import Progress

    with Progress() as bar:
        task_id = bar.add_task(label, total=total, completed=completed)
        yield lambda n=1: bar.advance(task_id, n)
