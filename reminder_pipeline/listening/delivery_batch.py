"""Provider events of many inbound events applied together: what :func:`delivery_events.apply_events` does to
each in turn, in a few statements for all.

``batches[i]`` holds the events of the i-th inbound event (a Twilio callback, a SendGrid batch), in the
order they were stored. The ledger afterwards, and what each inbound event is said to have done, are
those of calling ``apply_events`` on each batch in order: rows are found, locked and their events stored
for all at once (in that order, so the first final event stored is the same); each row's moves are then
worked out from its old and new events as the calls one by one would make them — promoted, advanced,
then settled by the first final event — and written grouped by the values they set; contacts change
event by event, and each row that failed gets its follow-up in order.

Only one thing of the calls one by one does not survive doing all contacts before all follow-ups: a
contact change in a later inbound event than a failure of the same customer (the follow-up planned at
the failure would not have seen it). Such a customer's events are applied by ``apply_events`` itself,
batch by batch. Customers are independent of each other, so the rest need no order between them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import polars as pl
from sqlalchemy import Connection

from reminder_pipeline.core.policy.config import Policy
from reminder_pipeline.delivery.follow_up import plan_follow_ups
from reminder_pipeline.ledger import listening as queries
from reminder_pipeline.ledger import listening_batch as many
from reminder_pipeline.ledger.listening import MessageRow
from reminder_pipeline.listening.delivery_events import (
    CHANNEL_OF,
    PROMOTED_FROM,
    SETTLED_FROM,
    Applied,
    ProviderEvent,
    S,
    apply_events,
    change_contact,
    event_values,
    final_values,
    first_final,
    highest_rank,
    meaning_of,
    promotion_values,
    rank,
    stored_meaning,
)


@dataclass(frozen=True)
class _Item:
    batch: int
    event: ProviderEvent
    row: MessageRow | None


@dataclass
class _Plan:
    """What a row's new events do to it, and at which inbound event each step happens."""

    promoted_at: int | None = None
    promotion: dict[str, object] = field(default_factory=dict)
    final_at: int | None = None
    final_values: dict[str, object] = field(default_factory=dict)
    provider_status: str | None = None


def _items(batches: Sequence[Sequence[ProviderEvent]], connection: Connection) -> list[_Item]:
    ordered = [(i, e) for i, events in enumerate(batches) for e in sorted(events, key=_order)]
    lookups = [(CHANNEL_OF[e.provider], e.reminder_key, e.provider_id) for _, e in ordered]
    rows = many.find_messages(connection, lookups)
    return [_Item(i, e, row) for (i, e), row in zip(ordered, rows, strict=True)]


def _order(event: ProviderEvent) -> tuple[str, str]:
    return event.provider, event.provider_event_id


def _old_final_failure(events: list[dict[str, object]], provider: str) -> bool:
    final = first_final(events, provider)
    return final is not None and stored_meaning(final, provider).final is S.FAILED


def _sequenced(items: list[_Item], old: dict[int, list[dict[str, object]]]) -> set[str]:
    """Customers with a contact change in a later inbound event than one of their failures (or a row of
    theirs a failure stored before settles): their events must be applied in turn."""
    contacts: dict[str, int] = {}
    failures: dict[str, int] = {}
    for item in items:
        if item.row is None:
            continue
        meaning, customer = meaning_of(item.event), item.row.customer_id
        if meaning.contact is not None:
            contacts[customer] = max(contacts.get(customer, -1), item.batch)
        if meaning.final is S.FAILED or _old_final_failure(old.get(item.row.outbox_id, []), item.event.provider):
            failures[customer] = min(failures.get(customer, item.batch), item.batch)
    return {c for c, at in contacts.items() if c in failures and at > failures[c]}


def _plan(
    row: MessageRow, provider: str, old: list[dict[str, object]], new: list[tuple[int, dict[str, object]]]
) -> _Plan:
    """``settle`` after each inbound event with new events for ``row``, played on its events in memory."""
    plan = _Plan()
    status, provider_status = row.status, row.provider_status
    for batch in sorted({b for b, _ in new}):
        known = old + [values for b, values in new if b <= batch]
        if status in PROMOTED_FROM:
            plan.promoted_at, plan.promotion = batch, promotion_values(row, known)
            status = S.SENT
        if status != S.SENT:
            return plan
        final = first_final(known, provider)
        if final is None:
            best = highest_rank(known, provider)
            if rank(provider, best) > rank(provider, provider_status):
                provider_status = plan.provider_status = best
            continue
        plan.final_at, plan.final_values = batch, final_values(final, provider)
        return plan
    return plan


def apply_many(
    connection: Connection, policy: Policy, batches: Sequence[Sequence[ProviderEvent]], now: datetime
) -> list[Applied]:
    """``apply_events(connection, policy, batch, now)`` for each of ``batches`` in order; what each did."""
    applied = [Applied() for _ in batches]
    items = _items(batches, connection)
    settled = sorted({i.row.outbox_id for i in items if i.row is not None and i.row.status in SETTLED_FROM})
    old = many.events_of_rows(connection, settled)
    in_turn = _sequenced(items, old)
    many.lock_customers(connection, [i.row.customer_id for i in items if i.row is not None])
    together = [i for i in items if i.row is None or i.row.customer_id not in in_turn]
    values = [event_values(i.event, i.row, now) for i in together]
    stored = many.record_delivery_events(connection, values)
    new: list[tuple[_Item, dict[str, object]]] = []
    for item, value in zip(together, values, strict=True):
        key = (item.event.provider, item.event.provider_event_id)
        if key not in stored:
            applied[item.batch].duplicates += 1
            continue
        stored.discard(key)  # the same event later in the batch is a duplicate
        applied[item.batch].new += 1
        if item.row is None:
            applied[item.batch].unmatched += 1
        else:
            new.append((item, value))
    for item, _ in new:
        assert item.row is not None
        change_contact(connection, item.row, meaning_of(item.event), now, applied[item.batch])
    _settle(connection, policy, new, old, applied)
    _in_turn(connection, policy, [i for i in items if i.row is not None and i.row.customer_id in in_turn], now, applied)
    return applied


def _settle(
    connection: Connection,
    policy: Policy,
    new: list[tuple[_Item, dict[str, object]]],
    old: dict[int, list[dict[str, object]]],
    applied: list[Applied],
) -> None:
    """Each row's moves, as ``settle`` after each inbound event would make them, written grouped."""
    by_row: dict[int, list[tuple[int, dict[str, object]]]] = defaultdict(list)
    rows: dict[int, tuple[MessageRow, str]] = {}
    for item, value in new:
        assert item.row is not None
        if item.row.status in SETTLED_FROM:
            by_row[item.row.outbox_id].append((item.batch, value))
            rows[item.row.outbox_id] = (item.row, item.event.provider)
    plans = {i: _plan(rows[i][0], rows[i][1], old.get(i, []), by_row[i]) for i in sorted(by_row)}
    for outbox_id, plan in plans.items():
        if plan.promoted_at is not None:
            _promote(connection, rows[outbox_id][0], plan, applied)
    moved = _write_moves(connection, plans, applied)
    failed = sorted(
        (p.final_at, i)
        for i, p in plans.items()
        if p.final_at is not None and i in moved and p.final_values["status"] == S.FAILED.value
    )
    _follow_up(
        connection, policy, [(batch, outbox_id, rows[outbox_id][0].customer_id) for batch, outbox_id in failed], applied
    )


def _follow_up(
    connection: Connection, policy: Policy, failed: list[tuple[int, int, str]], applied: list[Applied]
) -> None:
    """What follows each failed ``(batch, outbox_id, customer_id)``, in that order: a customer's rows one
    round after another (each sees the follow-ups before it), different customers' in the same round."""
    while failed:
        round_of: dict[str, tuple[int, int]] = {}
        later: list[tuple[int, int, str]] = []
        for batch, outbox_id, customer_id in failed:
            if customer_id in round_of:
                later.append((batch, outbox_id, customer_id))
            else:
                round_of[customer_id] = (batch, outbox_id)
        ids = pl.Series("outbox_id", [outbox_id for _, outbox_id in round_of.values()], dtype=pl.Int64)
        for made in plan_follow_ups(connection, policy, ids):
            done = applied[round_of[str(made["customer_id"])][0]]
            if made["status"] == S.PLANNED.value:
                done.fallbacks += 1
            else:
                done.collector_tasks += 1
        failed = later


def _promote(connection: Connection, row: MessageRow, plan: _Plan, applied: list[Applied]) -> None:
    """An ``unknown`` or ``unresolved`` row the provider reports on is ``sent`` (as ``settle`` promotes it)."""
    assert plan.promoted_at is not None
    if queries.move_message(connection, row.outbox_id, [row.status], plan.promotion):
        applied[plan.promoted_at].moved[S.SENT.value] += 1
    else:  # moved on by someone else meanwhile: nothing more happens to it here
        plan.final_at, plan.provider_status = None, None


def _write_moves(connection: Connection, plans: dict[int, _Plan], applied: list[Applied]) -> set[int]:
    """The final moves and the advances of ``provider_status``, one UPDATE per set of values; rows settled."""
    finals: dict[tuple[tuple[str, object], ...], list[int]] = defaultdict(list)
    advances: dict[str, list[int]] = defaultdict(list)
    for outbox_id, plan in plans.items():
        if plan.final_at is not None:
            finals[tuple(sorted(plan.final_values.items()))].append(outbox_id)
        elif plan.provider_status is not None:
            advances[plan.provider_status].append(outbox_id)
    settled: set[int] = set()
    for values, outbox_ids in finals.items():
        moved = many.move_messages(connection, outbox_ids, [S.SENT], dict(values))
        settled |= moved
        for outbox_id in moved:
            plan = plans[outbox_id]
            assert plan.final_at is not None
            applied[plan.final_at].moved[str(plan.final_values["status"])] += 1
    for provider_status, outbox_ids in advances.items():
        many.move_messages(connection, outbox_ids, [S.SENT], {"provider_status": provider_status})
    return settled


def _in_turn(connection: Connection, policy: Policy, items: list[_Item], now: datetime, applied: list[Applied]) -> None:
    """The events of customers whose order matters, by ``apply_events`` batch by batch."""
    by_batch: dict[int, list[ProviderEvent]] = defaultdict(list)
    for item in items:
        by_batch[item.batch].append(item.event)
    for batch, events in sorted(by_batch.items()):
        done = apply_events(connection, policy, events, now)
        target = applied[batch]
        target.new += done.new
        target.duplicates += done.duplicates
        target.unmatched += done.unmatched
        target.moved.update(done.moved)
        target.contacts.update(done.contacts)
        target.fallbacks += done.fallbacks
        target.collector_tasks += done.collector_tasks
