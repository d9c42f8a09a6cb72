"""A modest brake on guessing passwords: login attempts are counted per username and per client address
over a sliding window; past the limit the login answers 429 without checking the password.

Kept in the ledger (``login_failures``), so every ``reminders serve`` process counts the same attempts:
N workers do not give N times the guesses, nor does a restart forgive them. An attempt is written before
its password is checked, under one lock, so parallel attempts cannot all slip under the limit; a good
login then takes back its own row and clears that username's count, not the address's (a guesser who
knows one password keeps its brake). Names and addresses are stored as keyed digests (HMAC-SHA256 with
the session secret), never in clear; rows older than the window are deleted as attempts come.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select

from reminder_pipeline.collections.sessions import as_utc, utc_now
from reminder_pipeline.ledger.schema import login_failures
from reminder_pipeline.ledger.store import Ledger

BRAKE_LOCK = "login_brake"


@dataclass(frozen=True)
class Attempt:
    wait_seconds: int
    """0 when the password may be checked now; otherwise how many seconds until a login may be tried."""
    rows: tuple[int, ...] = ()
    """The failure rows written for this attempt (its username's, then its address's)."""


class LoginThrottle:
    def __init__(
        self,
        ledger: Ledger,
        secret: str,
        per_user: int,
        per_address: int,
        window_seconds: float,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.ledger = ledger
        self.secret = secret.encode()
        self.limits = {"user": per_user, "address": per_address}
        self.window = timedelta(seconds=window_seconds)
        self.clock = clock

    def _digest(self, kind: str, value: str) -> str:
        return hmac.new(self.secret, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()

    def _keys(self, username: str, address: str) -> dict[str, str]:
        return {self._digest("user", username.strip().lower()): "user", self._digest("address", address): "address"}

    def attempt(self, username: str, address: str) -> Attempt:
        """Count a login attempt now, unless the username or the address is over its limit (then nothing is
        counted and ``wait_seconds`` says how long until the oldest counted attempt ages out)."""
        now = as_utc(self.clock())
        since = now - self.window
        keys = self._keys(username, address)
        f = login_failures.c
        with self.ledger.begin_write(BRAKE_LOCK) as connection:
            connection.execute(delete(login_failures).where(f.failed_at <= since))
            counts = connection.execute(
                select(f.key_digest, func.count().label("n"), func.min(f.failed_at).label("oldest"))
                .where(f.key_digest.in_(list(keys)), f.failed_at > since)
                .group_by(f.key_digest)
            ).all()
            wait = 0.0
            for row in counts:
                if row.n >= self.limits[keys[row.key_digest]]:
                    wait = max(wait, (as_utc(row.oldest) + self.window - now).total_seconds())
            if wait > 0:
                return Attempt(int(wait) + 1)
            rows = []
            for key in keys:
                written = connection.execute(insert(login_failures).values(key_digest=key, failed_at=now))
                assert written.inserted_primary_key is not None
                rows.append(int(written.inserted_primary_key[0]))
        return Attempt(0, tuple(rows))

    def succeeded(self, username: str, attempt: Attempt) -> None:
        """The attempt's password was right: forget it, and every failure of its username."""
        user_key = self._digest("user", username.strip().lower())
        f = login_failures.c
        with self.ledger.begin_write(BRAKE_LOCK) as connection:
            connection.execute(
                delete(login_failures).where((f.key_digest == user_key) | f.failure_id.in_(list(attempt.rows)))
            )
