"""How long work reports its progress, whoever shows it: a step with an optional number of parts.

Library code (the demo, ingestion from the command line) takes a :data:`Track` and calls it; the
command line passes bars on a terminal (``reminder_pipeline.cli.progress``), everything else
:func:`untracked`, which shows nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol


class Advance(Protocol):
    """Mark ``done`` more parts of the step done; ``note`` replaces what the step says it is doing."""

    def __call__(self, done: int = 1, note: str | None = None) -> None: ...


class Track(Protocol):
    def __call__(self, description: str, total: int | None = None) -> AbstractContextManager[Advance]: ...


@contextmanager
def untracked(description: str, total: int | None = None) -> Iterator[Advance]:
    yield _nothing


def _nothing(done: int = 1, note: str | None = None) -> None:
    return None
