"""Where a task for a person stands (``tasks.status``): one vocabulary for listening, which opens tasks, and
the ledger, which counts the open ones."""

from __future__ import annotations

from enum import StrEnum


class TaskStatus(StrEnum):
    OPEN = "open"
    """Waiting for a person."""
    DONE = "done"
    """Closed by a person (``closed_at`` says when)."""
