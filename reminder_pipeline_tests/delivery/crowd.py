"""Customers who owe money, with their reminders planned and written for one business day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from reminder_pipeline.config_files import load_policy, load_templates
from reminder_pipeline.core.canonical import Entity
from reminder_pipeline.core.rendering.links import LinkSigner
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.reminders.service import plan_and_record_day, render_day
from reminder_pipeline_tests.ingestion.helpers import ingest_file, write_csv

DAY = date(2026, 3, 10)  # a Tuesday
MORNING = datetime.combine(DAY, time(5), tzinfo=UTC)
SEND_AT = datetime.combine(DAY, time(16), tzinfo=UTC)
"""17:00 in Berlin, 11:00 in New York: inside both windows."""
POLICY = load_policy()
SIGNER = LinkSigner("a-delivery-test-secret")


@dataclass(frozen=True)
class Person:
    """One customer: email in Berlin, or SMS in New York (``phone`` may be a Twilio magic number)."""

    customer_id: str
    channel: str = "email"
    phone: str | None = None
    email: str | None = None

    def line(self) -> str:
        if self.channel == "sms":
            phone = self.phone or f"+1202555{int(self.customer_id[1:]) % 10000:04d}"
            email = self.email or ""
            return f"{self.customer_id},Sam {self.customer_id},{email},{phone},US,America/New_York,en_US,sms,true"
        email = self.email or f"{self.customer_id.lower()}@example.com"
        return f"{self.customer_id},Anna {self.customer_id},{email},,DE,Europe/Berlin,de_DE,email,false"


def people(count: int, channel: str = "email", start: int = 1) -> list[Person]:
    return [Person(f"C{i:05d}", channel) for i in range(start, start + count)]


def owing(ledger: Ledger, folder: Path, crowd: list[Person], *, overdue_days: int = 8) -> None:
    """``crowd`` in the ledger, each with one overdue invoice of 100.00."""
    customers = write_csv(
        folder / "customers.csv",
        "customer_id,name,email,phone,country,time_zone,locale,preferred_channel,sms_consent\n"
        + "\n".join(p.line() for p in crowd),
    )
    due = DAY - timedelta(days=overdue_days)
    invoices = write_csv(
        folder / "invoices.csv",
        "invoice_id,customer_id,issue_date,due_date,amount,currency\n"
        + "\n".join(f"INV-{p.customer_id},{p.customer_id},2026-01-10,{due},100.00,EUR" for p in crowd),
    )
    ingest_file(ledger, customers, Entity.CUSTOMERS)
    ingest_file(ledger, invoices, Entity.INVOICES)


def written_day(ledger: Ledger, folder: Path, crowd: list[Person], **owing_options: int) -> None:
    """``crowd`` owing, and the day's reminders planned and rendered in the morning."""
    owing(ledger, folder, crowd, **owing_options)
    plan_and_record_day(ledger, POLICY, DAY, MORNING, run_id="delivery-test", business_tz="UTC")
    render_day(ledger, POLICY, load_templates(), SIGNER, DAY, MORNING)
