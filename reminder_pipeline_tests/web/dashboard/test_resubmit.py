"""Double-submit memory on its own: one record within the window, a new one after it, a refusal remembered
as nothing."""

from __future__ import annotations

import pytest

from reminder_pipeline.web.dashboard.resubmit import Resubmissions


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def test_the_same_submission_within_the_window_is_recorded_once() -> None:
    clock = Clock()
    memory = Resubmissions(seconds=10, clock=clock)
    written: list[int] = []

    def record() -> int:
        written.append(len(written) + 1)
        return written[-1]

    assert memory.once(("s", "A", "kind=call"), record) == 1
    clock.now += 9
    assert memory.once(("s", "A", "kind=call"), record) == 1
    assert memory.once(("s", "A", "kind=pause"), record) == 2
    assert memory.once(("other session", "A", "kind=call"), record) == 3
    clock.now += 2
    assert memory.once(("s", "A", "kind=call"), record) == 4
    assert written == [1, 2, 3, 4]


def test_a_refused_submission_is_not_remembered() -> None:
    memory = Resubmissions(seconds=10, clock=Clock())

    def refuse() -> int:
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        memory.once(("s", "A"), refuse)
    assert memory.once(("s", "A"), lambda: 7) == 7
