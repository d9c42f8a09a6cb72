"""A billing cycle day to send statements on: seven customers, each showing one rule, and the morning's
daily run (plan and messages) before the statement run."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import update

from reminder_pipeline.config_files import load_policy, load_templates
from reminder_pipeline.core.canonical import Entity
from reminder_pipeline.core.rendering.links import LinkSigner
from reminder_pipeline.ledger.schema import customers
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.reminders.service import plan_and_record_day, render_day
from reminder_pipeline_tests.defs.runs import TEST_LINK_SECRET
from reminder_pipeline_tests.ingestion.helpers import ingest_file, write_csv

CYCLE = date(2026, 4, 30)  # a Thursday, the last day of April: cycle days 30 and 31 fall on it
NEXT_FREE = date(2026, 5, 4)  # the Monday after: C1 was reminded on the cycle day, three days' gap, a weekend
BERLIN = ZoneInfo("Europe/Berlin")
CUSTOMERS = "customer_id,name,email,phone,country,time_zone,locale,preferred_channel,sms_consent,email_opt_out,"
PEOPLE = [
    "C1,Pat C1,c1@example.com,,DE,Europe/Berlin,de_DE,email,false,false,31",  # overdue: the ladder reminds today
    "C2,Pat C2,c2@example.com,,DE,Europe/Berlin,en_US,email,false,false,30",  # two currencies
    "C3,Pat C3,c3@example.com,,DE,Europe/Berlin,de_DE,email,false,false,15",  # another cycle
    "C4,Pat C4,c4@example.com,,DE,Europe/Berlin,de_DE,email,false,false,31",  # has paid everything
    "C5,Pat C5,c5@example.com,,DE,Europe/Berlin,fr_FR,email,false,false,31",  # due in three days: courtesy today
    "C6,Pat C6,c6@example.com,+4915112345606,DE,Europe/Berlin,de_DE,sms,true,true,31",  # email opted out: SMS
    "C7,Pat C7,c7@example.com,,DE,Europe/Berlin,de_DE,email,false,true,31",  # email opted out, no phone
    "C8,Pat C8,c8@example.com,,DE,Europe/Berlin,de_DE,email,false,false,31",  # opts out once it is written
    "C9,Pat C9,c9@example.com,,DE,Europe/Berlin,de_DE,email,false,false,31",  # pays once it is written
]
INVOICES = [
    "O1,C1,2026-03-31,2026-04-15,120.00,EUR,",
    "N1,C1,2026-04-30,2026-05-30,80.00,EUR,",
    "N2,C2,2026-04-20,2026-05-30,50.00,EUR,",
    "U2,C2,2026-04-20,2026-05-30,20.00,USD,",
    "N3,C3,2026-04-15,2026-05-15,10.00,EUR,",
    "P4,C4,2026-03-31,2026-04-30,10.00,EUR,2026-04-10",
    "N5,C5,2026-04-30,2026-05-03,30.00,EUR,",
    "N6,C6,2026-04-20,2026-05-20,45.00,EUR,",
    "N7,C7,2026-04-20,2026-05-20,15.00,EUR,",
    "N8,C8,2026-04-20,2026-05-25,25.00,EUR,",
    "N9,C9,2026-04-20,2026-05-25,35.00,EUR,",
]


def cycle_morning(ledger: Ledger, folder: Path) -> None:
    """The billing data, then the cycle day's daily run (plan and messages) at 05:00 UTC."""
    ingest_file(
        ledger,
        write_csv(folder / "customers.csv", "\n".join([CUSTOMERS + "billing_cycle_day", *PEOPLE])),
        Entity.CUSTOMERS,
    )
    header = "invoice_id,customer_id,issue_date,due_date,amount,currency,paid_date"
    ingest_file(ledger, write_csv(folder / "invoices.csv", "\n".join([header, *INVOICES])), Entity.INVOICES)
    policy, morning = load_policy(), datetime.combine(CYCLE, time(5), tzinfo=UTC)
    plan_and_record_day(ledger, policy, CYCLE, morning, run_id="statement-test", business_tz="UTC")
    render_day(ledger, policy, load_templates(), LinkSigner(TEST_LINK_SECRET), CYCLE, morning)


def opt_out_and_pay(ledger: Ledger, folder: Path) -> None:
    """After the statements are written: C8 opts out of email, C9 pays what it owed."""
    with ledger.begin() as connection:
        connection.execute(
            update(customers).where(customers.c.customer_id == "C8").values(email_opt_out_at=datetime.now(UTC))
        )
    payment = "payment_id,invoice_id,amount,currency,paid_date\nP9,N9,35.00,EUR,2026-04-30"
    ingest_file(ledger, write_csv(folder / "payments.csv", payment), Entity.PAYMENTS)
