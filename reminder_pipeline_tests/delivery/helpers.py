"""Reading what delivery did: outbox rows, attempts, and what the sandbox received."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select

from reminder_pipeline.ledger.schema import customers, delivery_attempts, outbox
from reminder_pipeline.ledger.store import Ledger


def rows(ledger: Ledger) -> dict[str, dict[str, Any]]:
    """Outbox rows by customer and channel (``C00001/email``)."""
    with ledger.begin() as connection:
        found = connection.execute(select(outbox)).mappings().all()
    return {f"{r['customer_id']}/{r['channel']}": dict(r) for r in found}


def statuses(ledger: Ledger) -> Counter[str]:
    return Counter(r["status"] for r in rows(ledger).values())


def attempts(ledger: Ledger) -> list[dict[str, Any]]:
    with ledger.begin() as connection:
        return [dict(r) for r in connection.execute(select(delivery_attempts)).mappings().all()]


def customer(ledger: Ledger, customer_id: str) -> dict[str, Any]:
    with ledger.begin() as connection:
        return dict(
            connection.execute(select(customers).where(customers.c.customer_id == customer_id)).mappings().one()
        )


def keys_received(messages: list[dict[str, Any]]) -> Counter[str]:
    return Counter(m["reminder_key"] for m in messages)
