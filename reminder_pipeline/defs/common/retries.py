"""Retry what can heal, and only that.

A step is retried in place when the ledger (or a billing database) went away or was busy for a
moment: the step runs again after a pause, and every step is safe to run again (the outbox is
keyed, ingestion folds what it already holds). Anything else — a feed refused as unusable, a
blocking check that failed, a bug — fails at once: the same data would fail the same way.

Lost processes (a run worker killed, a machine restarted) are the instance's business: run
retries in ``deploy/dagster.yaml`` re-execute such runs from the failure, and, with
``retry_on_asset_or_op_failure: false`` (also a tag on every job, so any instance honours it),
never a run whose steps failed.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Iterator
from typing import ParamSpec, TypeVar

import dagster as dg
from sqlalchemy import exc

TRANSIENT = dg.RetryPolicy(max_retries=3, delay=10, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)
"""Three more attempts, about 10 s, 30 s and 70 s later: long enough for a database failover."""
NO_RUN_RETRY_ON_STEP_FAILURE = {"dagster/retry_on_asset_or_op_failure": "false"}
"""Run tags: a run whose steps failed is not re-run by the instance's run retries (only a lost run is)."""
SQLITE_TRANSIENT = ("database is locked", "database table is locked", "disk i/o error", "unable to open database file")
"""SQLite raises ``OperationalError`` for a missing table or a syntax error too: only these can heal."""

P = ParamSpec("P")
R = TypeVar("R")


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _heals(error: BaseException) -> bool:
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, exc.DisconnectionError | exc.TimeoutError):
        return True
    if isinstance(error, exc.OperationalError | exc.InterfaceError):
        if isinstance(error.orig, sqlite3.Error):
            return any(message in str(error.orig).lower() for message in SQLITE_TRANSIENT)
        return True
    return False


def is_transient(error: BaseException) -> bool:
    """A database that went away, refused the connection for a moment or was locked, here or as a cause."""
    return any(_heals(link) for link in _chain(error))


def retry_when_transient(compute: Callable[P, R]) -> Callable[P, R]:
    """Wrap an asset or check body: a transient database error asks Dagster for another attempt (up to
    ``TRANSIENT``'s retries, with its backoff); every other error fails the step as it is."""

    @functools.wraps(compute)
    def attempt(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return compute(*args, **kwargs)
        except Exception as error:
            if not is_transient(error):
                raise
            retry = dg.OpExecutionContext.get().retry_number + 1
            raise dg.RetryRequested(
                max_retries=TRANSIENT.max_retries, seconds_to_wait=TRANSIENT.calculate_delay(retry)
            ) from error

    return attempt
