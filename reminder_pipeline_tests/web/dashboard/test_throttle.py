"""The login throttle on its own: counts per user and per address, the window's end, the memory bound."""

from __future__ import annotations

from reminder_pipeline.web.dashboard import throttle
from reminder_pipeline.web.dashboard.throttle import LoginThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_user_is_braked_after_the_limit_until_the_oldest_failure_ages_out() -> None:
    clock = Clock()
    brake = LoginThrottle(per_user=3, per_address=100, window_seconds=60, clock=clock)
    for _ in range(3):
        assert brake.wait_seconds("Cora", "10.0.0.1") == 0
        brake.failed("Cora", "10.0.0.1")
        clock.now += 10
    assert brake.wait_seconds("cora", "10.0.0.2") == 31
    assert brake.wait_seconds("vic", "10.0.0.1") == 0
    clock.now += 31
    assert brake.wait_seconds("cora", "10.0.0.2") == 0


def test_an_address_is_braked_across_usernames_and_a_success_clears_only_the_user() -> None:
    clock = Clock()
    brake = LoginThrottle(per_user=100, per_address=2, window_seconds=60, clock=clock)
    brake.failed("a", "10.0.0.9")
    brake.failed("b", "10.0.0.9")
    assert brake.wait_seconds("c", "10.0.0.9") > 0
    brake.succeeded("a")
    assert brake.wait_seconds("c", "10.0.0.9") > 0
    assert brake.wait_seconds("c", "10.0.0.8") == 0


def test_memory_stays_bounded() -> None:
    brake = LoginThrottle(per_user=5, per_address=5, window_seconds=60, clock=Clock())
    for n in range(throttle.MAX_KEYS):
        brake.failed(f"user{n}", f"addr{n}")
    assert len(brake.failures) == throttle.MAX_KEYS
