"""The ledger the webhook benchmark posts about: customers owing one invoice each, whose reminders went out.

Customers are ingested from CSV and their day planned and rendered through the same services the
assets call; the rendered rows are then recorded as the provider accepted them (``sent`` with the
provider's id), as a delivery run leaves them, without calling a provider. Half the customers are
reached by SMS (New York), half by email (Berlin). On PostgreSQL the tables are then analyzed, as
autovacuum would soon do in production (it is off on this machine's server): without statistics the
planner cancels a payment's pending rows by scanning the whole status index (3 ms instead of 0.04).
"""

from __future__ import annotations

import time as clock
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import polars as pl
from sqlalchemy import bindparam, select, text, update

from reminder_pipeline.config_files import load_policy, load_templates
from reminder_pipeline.core.canonical import Entity
from reminder_pipeline.core.mapping import Mapping
from reminder_pipeline.core.outbox import OutboxStatus
from reminder_pipeline.core.rendering.links import LinkSigner
from reminder_pipeline.ingestion.files import read_file
from reminder_pipeline.ingestion.service import ingest_table
from reminder_pipeline.ledger.schema import outbox
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.reminders.service import plan_and_record_day, render_day

DAY = date(2026, 3, 10)
MORNING = datetime.combine(DAY, time(5), tzinfo=UTC)
SENT_AT = datetime.combine(DAY, time(16), tzinfo=UTC)


@dataclass(frozen=True)
class SentMessage:
    """A reminder the provider accepted: its key (the callbacks carry it) and the provider's id."""

    reminder_key: str
    provider_id: str
    customer_id: str


@dataclass(frozen=True)
class Seeded:
    sms: list[SentMessage]
    email: list[SentMessage]
    invoices: list[str]
    seconds: float


def _customers(count: int) -> pl.DataFrame:
    ids = [f"C{i:07d}" for i in range(count)]
    sms = [i % 2 == 0 for i in range(count)]
    return pl.DataFrame(
        {
            "customer_id": ids,
            "name": [f"Customer {i}" for i in ids],
            "email": [f"{i.lower()}@example.com" for i in ids],
            "phone": [f"+1212{2000000 + i:07d}" for i in range(count)],
            "country": ["US" if s else "DE" for s in sms],
            "time_zone": ["America/New_York" if s else "Europe/Berlin" for s in sms],
            "locale": ["en_US" if s else "de_DE" for s in sms],
            "preferred_channel": ["sms" if s else "email" for s in sms],
            "sms_consent": ["true" if s else "false" for s in sms],
        }
    )


def _invoices(ids: list[str]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "invoice_id": [f"INV-{i}" for i in ids],
            "customer_id": ids,
            "issue_date": "2026-01-10",
            "due_date": (DAY - timedelta(days=8)).isoformat(),
            "amount": "100.00",
            "currency": "EUR",
        }
    )


def _mark_sent(ledger: Ledger) -> tuple[list[SentMessage], list[SentMessage]]:
    """Every rendered row ``sent`` with a provider id of the provider's own form."""
    with ledger.begin_write("outbox") as connection:
        rendered = connection.execute(
            select(outbox.c.outbox_id, outbox.c.dedupe_key, outbox.c.customer_id, outbox.c.channel)
            .where(outbox.c.status == OutboxStatus.RENDERED.value)
            .order_by(outbox.c.outbox_id)
        ).all()
        sms: list[SentMessage] = []
        email: list[SentMessage] = []
        changes = []
        for outbox_id, key, customer_id, channel in rendered:
            if channel == "sms":
                provider, provider_id = "twilio", f"SM{outbox_id:032x}"
                sms.append(SentMessage(key, provider_id, customer_id))
            else:
                provider, provider_id = "sendgrid", f"bench{outbox_id:017d}"
                email.append(SentMessage(key, provider_id, customer_id))
            changes.append({"id": outbox_id, "provider": provider, "provider_id": provider_id})
        statement = (
            update(outbox)
            .where(outbox.c.outbox_id == bindparam("id"))
            .values(
                status=OutboxStatus.SENT.value,
                provider=bindparam("provider"),
                provider_id=bindparam("provider_id"),
                provider_status="queued",
                attempts=1,
                sending_at=SENT_AT,
                sent_at=SENT_AT,
            )
        )
        if changes:
            connection.execute(statement, changes)
    return sms, email


def seed(ledger: Ledger, customers: int, work: Path) -> Seeded:
    """``customers`` owing 100.00 each, their first reminder sent (half by SMS, half by email)."""
    started = clock.perf_counter()
    people = _customers(customers)
    for entity, frame in (
        (Entity.CUSTOMERS, people),
        (Entity.INVOICES, _invoices(people["customer_id"].to_list())),
    ):
        path = work / f"{entity.value}.csv"
        frame.write_csv(path)
        ingest_table(ledger, read_file(path), mapping=Mapping(entity=entity))
    policy = load_policy()
    plan_and_record_day(ledger, policy, DAY, MORNING, run_id="bench-webhooks", business_tz="UTC")
    render_day(ledger, policy, load_templates(), LinkSigner("benchmark-webhooks-secret" * 2), DAY, MORNING)
    sms, email = _mark_sent(ledger)
    if ledger.dialect == "postgresql":
        with ledger.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))
    invoices = [f"INV-{i}" for i in people["customer_id"].to_list()]
    return Seeded(sms, email, invoices, clock.perf_counter() - started)


def synthetic(customers: int) -> Seeded:
    """Messages and invoices by name only, for a ledger whose handlers look nothing up."""
    ids = [f"S{i:07d}" for i in range(customers)]
    sms = [SentMessage(f"{i}/sms", f"SM{n:032x}", i) for n, i in enumerate(ids[0::2])]
    email = [SentMessage(f"{i}/email", f"synthetic{n:013d}", i) for n, i in enumerate(ids[1::2])]
    return Seeded(sms, email, [f"INV-{i}" for i in ids], 0.0)
