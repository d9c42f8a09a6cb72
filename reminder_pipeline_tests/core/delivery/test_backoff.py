from __future__ import annotations

import random

from reminder_pipeline.core.delivery.backoff import LONGEST_DELAY_SECONDS, retry_delay


def test_delays_grow_with_attempts_within_jitter_and_stop_growing_at_the_ceiling() -> None:
    rng = random.Random(1)
    for attempts, ceiling in [(1, 30.0), (2, 60.0), (3, 120.0), (20, LONGEST_DELAY_SECONDS)]:
        delays = [retry_delay(attempts, None, rng) for _ in range(200)]
        assert ceiling / 2 <= min(delays)
        assert max(delays) <= ceiling
        assert max(delays) - min(delays) > ceiling / 10  # jittered, not all at once


def test_the_providers_wait_is_honoured_when_longer() -> None:
    rng = random.Random(2)
    assert retry_delay(1, 600.0, rng) == 600.0
    assert retry_delay(1, 1.0, rng) >= 15.0
