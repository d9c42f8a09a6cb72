"""Builders for tests that run against the real clock: a policy every day of the week, a zone where it is
midday now, and customers whose reminders fall due on chosen days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from reminder_pipeline.config_files import DEFAULT_POLICY
from reminder_pipeline_tests.ingestion.helpers import write_csv

CUSTOMER_HEADER = (
    "customer_id,name,email,phone,country,time_zone,locale,preferred_channel,sms_consent,billing_cycle_day"
)
INVOICE_HEADER = "invoice_id,customer_id,issue_date,due_date,amount,currency"
PAYMENT_HEADER = "payment_id,invoice_id,amount,currency,paid_date"


def write_policy(path: Path, **contact: Any) -> Path:
    """The shipped policy with one ladder for everyone (``standard``) and every day a business day without
    holidays, so that a test on the real clock decides the same on any date; ``contact`` overrides more."""
    policy = yaml.safe_load(DEFAULT_POLICY.read_text(encoding="utf-8"))
    policy["assignments"] = [{"ladder": "standard"}]
    policy["contact"].update(
        {"business_days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "observe_public_holidays": False}
    )
    policy["contact"].update(contact)
    path.write_text(yaml.safe_dump(policy, sort_keys=False), encoding="utf-8")
    return path


@dataclass(frozen=True)
class Midday:
    """A fixed-offset zone where it is about 12:00 at ``now``, on the same date as in UTC."""

    now: datetime
    zone: str

    @property
    def today(self) -> date:
        return self.now.date()


def midday_now() -> Midday:
    now = datetime.now(UTC)
    offset = 12 - now.hour  # local = now + offset hours: 12:mm, same date as UTC
    zone = "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"  # POSIX sign: Etc/GMT-3 is UTC+3
    return Midday(now, zone)


@dataclass(frozen=True)
class Customer:
    customer_id: str
    zone: str
    channel: str = "email"
    cycle_day: int | None = None

    def line(self) -> str:
        number = int(self.customer_id[1:])
        phone = f"+1202555{number:04d}" if self.channel == "sms" else ""
        consent = "true" if self.channel == "sms" else "false"
        cycle = "" if self.cycle_day is None else str(self.cycle_day)
        return (
            f"{self.customer_id},Pat {self.customer_id},{self.customer_id.lower()}@example.com,{phone},US,"
            f"{self.zone},en_US,{self.channel},{consent},{cycle}"
        )


def write_day(
    drop: Path,
    day: date,
    customers: list[Customer] = (),  # type: ignore[assignment]
    invoices: list[tuple[str, str, date, date]] = (),  # type: ignore[assignment]
    payments: list[tuple[str, str, date]] = (),  # type: ignore[assignment]
) -> None:
    """A billing system's drop files for ``day``: customers, invoices (id, customer, issued, due) of 100.00
    and full payments (id, invoice, paid on)."""
    folder = drop / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    if customers:
        write_csv(folder / "customers.csv", "\n".join([CUSTOMER_HEADER, *(c.line() for c in customers)]))
    if invoices:
        rows = [f"{i},{c},{issued},{due},100.00,USD" for i, c, issued, due in invoices]
        write_csv(folder / "invoices.csv", "\n".join([INVOICE_HEADER, *rows]))
    if payments:
        rows = [f"{p},{i},100.00,USD,{paid}" for p, i, paid in payments]
        write_csv(folder / "payments.csv", "\n".join([PAYMENT_HEADER, *rows]))


def days_before(day: date, *counts: int) -> list[date]:
    return [day - timedelta(days=n) for n in counts]
