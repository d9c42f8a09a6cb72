"""Progress bars for long commands, on stderr, only for a person at a terminal.

Never when stderr is piped or redirected (a log, ``| tee``, a test), nor under ``CI=true``: there
the commands print their usual lines and nothing else, so that logs and ``--json`` stay clean.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from reminder_pipeline.progress import Advance, Track, untracked


def interactive(stream: IO[str] | None = None) -> bool:
    """Whether ``stream`` (default: stderr) is a terminal a person watches, outside CI."""
    stream = stream if stream is not None else sys.stderr
    if os.environ.get("CI", "").strip().lower() in ("true", "1", "yes"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def bars(stream: IO[str] | None = None) -> Track:
    """A :data:`Track` drawing a bar (or a spinner, when the total is unknown) per step, or nothing."""
    if not interactive(stream):
        return untracked
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = Console(file=stream if stream is not None else sys.stderr)

    @contextmanager
    def step(description: str, total: int | None = None) -> Iterator[Advance]:
        columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn()]
        columns += [MofNCompleteColumn()] if total else []
        with Progress(*columns, TimeElapsedColumn(), console=console, transient=True) as progress:
            task = progress.add_task(description, total=total)

            def advance(done: int = 1, note: str | None = None) -> None:
                progress.update(task, advance=done, description=note or description)

            yield advance

    return step
