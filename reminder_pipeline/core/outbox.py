"""The outbox's one vocabulary: the states of a reminder, the moves allowed between them, its key and lock.

A reminder is one outbox row per (customer, dunning episode, ladder step, channel) — its
``dedupe_key`` — from the day it is planned until it is delivered, refused or given up on::

    planned ──render──► rendered ──claim (last look)──► sending ──provider accepted──► sent ──► delivered
                                   (a last look again before the call, a closed window: cancelled, expired)
       │  ╲               │  ▲                           │   │  ╲                        │
       │   ╲held          │  └──re-render── held         │   │   ╲ 429 / 5xx / refused   └──► failed (bounce,
       │                  │                              │   │    ╲ connection               undelivered)
       ▼                  ▼                              │   │     ▼
    cancelled ◄───── (paid, disputed, opted out,         │   │    retry ──claim──► sending
    expired   ◄───── replanned; window over)             │   │
                                                         │   └──permanent refusal──► failed
                                                         └──timeout, dropped connection, crash──► unknown
    unknown ──reconciled: the provider has it──► sent
    unknown ──reconciled: the provider never got it──► retry
    unknown ──still unknown when the window closes──► unresolved (an operator decides; never a resend)
    task_open (a collector hand-off) ──► task_done | cancelled (paid)
    cancelled | expired ──planned again──► planned (the same row revived: never a copy)

A send is recorded (``sending``) before the provider is called, and nothing leaves ``sending``
or ``unknown`` for another attempt without evidence that the provider never received it
(promise 1). Statuses are only ever moved forward along :data:`TRANSITIONS`.
"""

from __future__ import annotations

from enum import StrEnum

import polars as pl


class OutboxStatus(StrEnum):
    PLANNED = "planned"
    """Decided by the day's plan; its words are not written yet."""
    RENDERED = "rendered"
    """Written and checked: waiting for its send window."""
    HELD = "held"
    """Failed a blocking check: never handed to a provider until rendered again without problems."""
    SENDING = "sending"
    """Claimed by a delivery worker after the last look; recorded before the provider is called."""
    RETRY = "retry"
    """The provider did not take it (rate limit, server error, refused connection): tried again later."""
    SENT = "sent"
    """The provider accepted it (its id is stored)."""
    DELIVERED = "delivered"
    """The provider reports it reached the recipient."""
    FAILED = "failed"
    """Refused for good (invalid or opted-out recipient) or not delivered (bounce): it reached nobody."""
    UNKNOWN = "unknown"
    """The call's outcome is not known (timeout, dropped connection, crash): to reconcile, never to resend."""
    UNRESOLVED = "unresolved"
    """Still unknown when its window closed: an operator's task."""
    CANCELLED = "cancelled"
    """Not sent, and no longer wanted (paid, disputed, opted out, replanned)."""
    EXPIRED = "expired"
    """Not sent before its window closed: nothing goes out late."""
    TASK_OPEN = "task_open"
    """A hand-off to a collector, open."""
    TASK_DONE = "task_done"
    """A hand-off a collector has closed."""


S = OutboxStatus
TRANSITIONS: dict[OutboxStatus, frozenset[OutboxStatus]] = {
    S.PLANNED: frozenset({S.RENDERED, S.HELD, S.CANCELLED, S.EXPIRED}),
    S.RENDERED: frozenset({S.RENDERED, S.HELD, S.SENDING, S.CANCELLED, S.EXPIRED}),
    S.HELD: frozenset({S.RENDERED, S.HELD, S.CANCELLED, S.EXPIRED}),
    S.SENDING: frozenset({S.SENT, S.RETRY, S.FAILED, S.UNKNOWN, S.CANCELLED, S.EXPIRED}),
    S.RETRY: frozenset({S.SENDING, S.CANCELLED, S.EXPIRED}),
    S.SENT: frozenset({S.DELIVERED, S.FAILED}),
    S.DELIVERED: frozenset(),
    S.FAILED: frozenset(),
    S.UNKNOWN: frozenset({S.SENT, S.RETRY, S.UNRESOLVED}),
    S.UNRESOLVED: frozenset({S.SENT, S.FAILED}),
    S.CANCELLED: frozenset({S.PLANNED}),
    S.EXPIRED: frozenset({S.PLANNED}),
    S.TASK_OPEN: frozenset({S.TASK_DONE, S.CANCELLED}),
    S.TASK_DONE: frozenset(),
}
"""Where each status may move next; everything else is refused (a status never moves backwards)."""

RENDERABLE = (S.PLANNED, S.RENDERED, S.HELD)
"""Rows whose words may be written (again)."""
NOT_HANDED_OVER = (S.PLANNED, S.RENDERED, S.HELD, S.RETRY)
"""Rows no provider has: they may still be cancelled, and expire with their window."""
REVIVABLE = (S.CANCELLED, S.EXPIRED)
"""Rows that never went out: planning the same reminder again revives the row rather than copying it."""
NOT_CONTACTS = (S.CANCELLED, S.EXPIRED, S.FAILED)
"""Rows that reached nobody; every other row counts as a contact for caps and progress (a row not yet
handed over only while its window is open), whatever a provider later says of it."""
FINAL = frozenset(status for status, moves in TRANSITIONS.items() if not moves)

OUTBOX_LOCK = "outbox"
"""The ledger write lock planning, rendering and delivery take before they change outbox rows."""
COLLECTOR_CHANNEL = "collector"
"""The channel of a hand-off row: a collector's task, not a message."""
STATEMENT_LADDER = "statement"
"""The ladder of a statement of account's row: a billing cycle's message, not a dunning step. Its ``step``
is :data:`STATEMENT_STEP`, or the ladder step it stands in for (a courtesy note folded into it)."""
STATEMENT_STEP = "statement"


def can_move(current: OutboxStatus, new: OutboxStatus) -> bool:
    return new in TRANSITIONS[current]


def moved_from(new: OutboxStatus) -> tuple[OutboxStatus, ...]:
    """The statuses a row may be in for it to move to ``new`` (for guarded ``UPDATE ... WHERE status IN``)."""
    return tuple(status for status, moves in TRANSITIONS.items() if new in moves)


def reminder_key(customer_id: str, episode_id: str, step: str, channel: str) -> str:
    """The reminder's identity (promise 1): customer, dunning episode, step, channel — not the ladder, whose
    steps of the same name are the same reminder.

    Each part is written with its length first (``2:C1|5:INV-9|...``), so that no identifiers, whatever
    characters they hold, can spell another reminder's key. Every provider request carries it.
    """
    return "|".join(f"{len(part)}:{part}" for part in (customer_id, episode_id, step, channel))


def reminder_keys(customer_id: pl.Expr, episode_id: pl.Expr, step: pl.Expr, channel: pl.Expr) -> pl.Expr:
    """:func:`reminder_key` over columns."""
    pieces: list[pl.Expr] = []
    for index, part in enumerate((customer_id, episode_id, step, channel)):
        if index:
            pieces.append(pl.lit("|"))
        pieces += [part.str.len_chars().cast(pl.String), pl.lit(":"), part]
    return pl.concat_str(pieces)


def statement_key(customer_id: str, cycle_date: str) -> str:
    """The statement of account's identity: one per customer per billing cycle date, whatever its channel.

    Three parts where a reminder's key has four, each with its length first, so it never spells one."""
    return "|".join(f"{len(part)}:{part}" for part in (STATEMENT_LADDER, customer_id, cycle_date))


def statement_keys(customer_id: pl.Expr, cycle_date: str) -> pl.Expr:
    """:func:`statement_key` over a column of customers, for one cycle date."""
    head = f"{len(STATEMENT_LADDER)}:{STATEMENT_LADDER}|"
    tail = f"|{len(cycle_date)}:{cycle_date}"
    length = customer_id.str.len_chars().cast(pl.String)
    return pl.concat_str([pl.lit(head), length, pl.lit(":"), customer_id, pl.lit(tail)])
