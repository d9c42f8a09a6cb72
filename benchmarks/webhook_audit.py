"""What the webhook benchmark checks in the ledger afterwards: every event processed exactly once."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import func, select, text

from benchmarks.webhook_plan import Expected
from reminder_pipeline.ledger.schema import delivery_events, inbound_events, outbox, payments
from reminder_pipeline.ledger.store import Ledger


def events_left_received(ledger: Ledger) -> int:
    with ledger.begin() as connection:
        query = select(func.count()).select_from(inbound_events).where(inbound_events.c.status == "received")
        return int(connection.execute(query).scalar_one())


def db_backend_pids(ledger: Ledger) -> list[int]:
    """The PostgreSQL backends serving this ledger's database (SQLite: none, it runs in the app)."""
    if ledger.dialect != "postgresql":
        return []
    with ledger.begin() as connection:
        query = text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        return [int(pid) for (pid,) in connection.execute(query)]


def audit(ledger: Ledger, expected: Expected, stored_requests: int) -> dict[str, Any]:
    """The ledger against what was posted: counts, and the problems found (an empty list: none)."""
    with ledger.begin() as connection:
        by_status = Counter(
            {
                str(status): int(count)
                for status, count in connection.execute(
                    select(inbound_events.c.status, func.count()).group_by(inbound_events.c.status)
                )
            }
        )
        provider_events = int(connection.execute(select(func.count()).select_from(delivery_events)).scalar_one())
        recorded = int(connection.execute(select(func.count()).select_from(payments)).scalar_one())
        finals: dict[str, str] = {
            str(key): str(status) for key, status in connection.execute(select(outbox.c.dedupe_key, outbox.c.status))
        }
    problems: list[str] = []
    stored = sum(by_status.values())
    if stored != stored_requests:
        problems.append(f"{stored} inbound events stored for {stored_requests} requests answered as new")
    for status in ("received", "failed"):
        if by_status.get(status):
            problems.append(f"{by_status[status]} inbound events {status}")
    if provider_events != expected.provider_events:
        problems.append(f"{provider_events} provider events stored, {expected.provider_events} distinct posted")
    if recorded != expected.payments:
        problems.append(f"{recorded} payments recorded, {expected.payments} distinct posted")
    wrong = sum(1 for key, status in expected.final_status.items() if finals.get(key) != status)
    if wrong:
        problems.append(f"{wrong} of {len(expected.final_status)} messages not in their true final status")
    return {
        "inbound_events": dict(sorted(by_status.items())),
        "provider_events": provider_events,
        "payments_recorded": recorded,
        "messages_checked": len(expected.final_status),
        "problems": problems,
    }
