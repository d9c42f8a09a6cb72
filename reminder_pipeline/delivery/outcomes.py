"""What a provider's answer does to an outbox row, and the attempt kept for it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl

from reminder_pipeline.core.outbox import OutboxStatus
from reminder_pipeline.ledger.bulk import schema_of
from reminder_pipeline.ledger.schema import delivery_attempts, outbox
from reminder_pipeline.providers.base import (
    ContactProblem,
    OutgoingMessage,
    Provider,
    SendOutcome,
    SendResult,
    is_configuration_error,
)

S = OutboxStatus
CONFIGURATION_PAUSE = timedelta(minutes=15)
"""How long rows wait after the provider refused our own account (an operator has to act first)."""
STOPPED_BY_WINDOW = "its send window closed before its turn came: not sent"
CHANGE_COLUMNS = schema_of(
    outbox,
    [
        "outbox_id",
        "status",
        "provider_id",
        "provider_status",
        "sent_at",
        "next_attempt_at",
        "last_error",
        "lease_until",
    ],
)
ATTEMPT_COLUMNS = schema_of(delivery_attempts, [c.name for c in delivery_attempts.columns if c.name != "attempt_id"])


@dataclass(frozen=True)
class Outcome:
    message: OutgoingMessage
    result: SendResult | None
    """None: not attempted (the run stopped first, or ``stopped`` says why)."""
    started: datetime
    finished: datetime
    stopped: str | None = None


def _error(result: SendResult) -> str:
    return f"{result.error_code or result.http_status or result.outcome.value}: {result.detail}"[:200]


def outcome_changes(
    outcomes: list[tuple[int, Outcome]],
    rows: dict[int, dict[str, object]],
    now: datetime,
    *,
    worker: str,
    provider: Provider,
    retry_at: Callable[[int, float | None, datetime], datetime],
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The outbox changes (``CHANGE_COLUMNS``) and the attempts (``ATTEMPT_COLUMNS``) of these outcomes."""
    changes: list[dict[str, object]] = []
    attempts: list[dict[str, object]] = []
    for outbox_id, outcome in outcomes:
        result = outcome.result
        change: dict[str, object] = {"outbox_id": outbox_id, "lease_until": None}
        if result is None:
            changes.append(
                change | {"status": S.RETRY.value, "next_attempt_at": now, "last_error": "not sent: the run stopped"}
            )
            continue
        tries = int(str(rows[outbox_id]["attempts"]))
        if result.outcome is SendOutcome.ACCEPTED:
            change |= {
                "status": S.SENT.value,
                "provider_id": result.provider_id,
                "sent_at": outcome.finished,
                "provider_status": result.provider_status,
            }
        elif result.outcome is SendOutcome.RETRY:
            change |= {
                "status": S.RETRY.value,
                "next_attempt_at": retry_at(tries, result.retry_after, now),
                "last_error": _error(result),
            }
        elif result.outcome is SendOutcome.UNKNOWN:
            delay = timedelta(seconds=provider.limits.lookup_delay_seconds)
            change |= {"status": S.UNKNOWN.value, "next_attempt_at": now + delay, "last_error": _error(result)}
        elif is_configuration_error(result):
            change |= {
                "status": S.RETRY.value,
                "next_attempt_at": now + CONFIGURATION_PAUSE,
                "last_error": _error(result),
            }
        else:
            change |= {"status": S.FAILED.value, "last_error": _error(result)}
        changes.append(change)
        attempts.append(
            {
                "outbox_id": outbox_id,
                "attempt": tries,
                "worker": worker,
                "provider": provider.name,
                "outcome": result.outcome.value,
                "http_status": result.http_status,
                "error_code": (result.error_code or "")[:16] or None,
                "detail": result.detail[:300],
                "provider_id": result.provider_id,
                "started_at": outcome.started,
                "finished_at": outcome.finished,
            }
        )
    return pl.DataFrame(changes, schema=CHANGE_COLUMNS), pl.DataFrame(attempts, schema=ATTEMPT_COLUMNS)


def refusals(outcomes: list[tuple[int, Outcome]], rows: dict[int, dict[str, object]]) -> pl.DataFrame:
    """``customer_id, channel, recipient, opted_out`` of the contacts a provider refused for good."""
    found = [
        {
            "customer_id": rows[outbox_id]["customer_id"],
            "channel": outcome.message.channel.value,
            "recipient": outcome.message.to,
            "opted_out": outcome.result.contact_problem is ContactProblem.OPTED_OUT,
        }
        for outbox_id, outcome in outcomes
        if outcome.result is not None
        and outcome.result.contact_problem is not None
        and outcome.result.outcome is SendOutcome.REJECTED
    ]
    schema = {"customer_id": pl.String(), "channel": pl.String(), "recipient": pl.String(), "opted_out": pl.Boolean()}
    return pl.DataFrame(found, schema=schema)
