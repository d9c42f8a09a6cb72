"""The login brake on its own, over a real ledger (SQLite and PostgreSQL): counts per user and per address,
the window's end, shared by every brake on the ledger (every server process), nothing kept in clear."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from reminder_pipeline.ledger.schema import login_failures
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.web.dashboard.throttle import LoginThrottle
from reminder_pipeline_tests.web.signing import MovableClock

START = datetime(2026, 3, 10, 9, tzinfo=UTC)
SECRET = "a-test-session-secret"


def _brake(ledger: Ledger, clock: MovableClock, per_user: int = 100, per_address: int = 100) -> LoginThrottle:
    return LoginThrottle(ledger, SECRET, per_user=per_user, per_address=per_address, window_seconds=60, clock=clock)


def _rows(ledger: Ledger) -> int:
    with ledger.begin() as connection:
        return int(connection.execute(select(func.count()).select_from(login_failures)).scalar_one())


def test_a_user_is_braked_after_the_limit_until_the_oldest_failure_ages_out(ledger: Ledger) -> None:
    clock = MovableClock(START)
    brake = _brake(ledger, clock, per_user=3)
    for _ in range(3):
        assert brake.attempt("Cora", "10.0.0.1").wait_seconds == 0
        clock.now += timedelta(seconds=10)
    assert brake.attempt("cora", "10.0.0.2").wait_seconds == 31
    assert brake.attempt("vic", "10.0.0.1").wait_seconds == 0
    clock.now += timedelta(seconds=31)
    assert brake.attempt("cora", "10.0.0.2").wait_seconds == 0


def test_an_address_is_braked_across_usernames_and_a_success_clears_only_the_user(ledger: Ledger) -> None:
    brake = _brake(ledger, MovableClock(START), per_address=3)
    brake.attempt("a", "10.0.0.9")
    brake.attempt("b", "10.0.0.9")
    good = brake.attempt("a", "10.0.0.9")
    assert good.wait_seconds == 0
    brake.succeeded("a", good)
    assert brake.attempt("c", "10.0.0.9").wait_seconds == 0, "the good login took back its own attempt"
    assert brake.attempt("c", "10.0.0.9").wait_seconds > 0, "but not the failures of 'a' from this address"
    assert brake.attempt("c", "10.0.0.8").wait_seconds == 0


def test_two_brakes_on_one_ledger_count_the_same_attempts(ledger: Ledger) -> None:
    """Two server processes: the limit is the ledger's, not each one's."""
    clock = MovableClock(START)
    first, second = _brake(ledger, clock, per_user=4), _brake(ledger, clock, per_user=4)
    for brake in (first, second, first, second):
        assert brake.attempt("cora", "10.0.0.1").wait_seconds == 0
    assert first.attempt("cora", "10.0.0.3").wait_seconds > 0
    assert second.attempt("cora", "10.0.0.4").wait_seconds > 0


def test_old_attempts_are_deleted_and_nothing_is_kept_in_clear(ledger: Ledger) -> None:
    clock = MovableClock(START)
    brake = _brake(ledger, clock)
    for n in range(5):
        brake.attempt(f"user{n}", "203.0.113.7")
    assert _rows(ledger) == 10
    with ledger.begin() as connection:
        stored = " ".join(connection.execute(select(login_failures.c.key_digest)).scalars())
    assert "user" not in stored
    assert "203.0.113.7" not in stored
    clock.now += timedelta(seconds=61)
    brake.attempt("someone", "198.51.100.1")
    assert _rows(ledger) == 2
