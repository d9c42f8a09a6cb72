"""A double click on an action's button: the same form from the same session within a few seconds is one
action, answered with the first one's result rather than written twice. A form that differs in any field,
or comes later, is a new action. Kept in memory (one ``reminders serve`` process)."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable

WINDOW_SECONDS = 10.0


class Resubmissions:
    def __init__(self, seconds: float = WINDOW_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.clock = clock
        self.seen: dict[str, tuple[float, int]] = {}
        self.lock = threading.Lock()

    def once(self, submission: tuple[str, ...], record: Callable[[], int]) -> int:
        """The action id of ``submission``: the one ``record()`` writes, or the first one's when the same
        submission came within the window. Submissions are taken one at a time, so two clicks that race
        are still one action; a refused one (an exception) is remembered as nothing."""
        key = hashlib.sha256("\x00".join(submission).encode()).hexdigest()
        with self.lock:
            now = self.clock()
            for old in [k for k, (at, _) in self.seen.items() if at <= now - self.seconds]:
                del self.seen[old]
            if key in self.seen:
                return self.seen[key][1]
            action_id = record()
            self.seen[key] = (now, action_id)
            return action_id
