"""One customer's day, written briefly: contacts, open invoices, outbox rows, and the decision planned for them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import polars as pl

from reminder_pipeline.config_files import load_policy
from reminder_pipeline.core.planning.plan import (
    CREDIT_SCHEMA,
    HANDED_OVER_SCHEMA,
    OUTBOX_SCHEMA,
    PROMISE_SCHEMA,
    PlanInputs,
    plan_day,
)
from reminder_pipeline.core.policy.config import Policy
from reminder_pipeline_tests.core.planning.simulation import UTC_DT

DAY = date(2026, 3, 10)  # a Tuesday


RUN_AT = datetime.combine(DAY, time(5), tzinfo=UTC)


def a_customer(customer_id: str = "C1", **overrides: Any) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "email": f"{customer_id.lower()}@example.com",
        "phone": "+4915112345678",
        "country": "DE",
        "time_zone": "Europe/Berlin",
        "locale": "de_DE",
        "preferred_channel": "email",
        "email_opt_out_at": None,
        "sms_opt_out_at": None,
        "sms_consent": True,
        **overrides,
    }


def an_invoice(invoice_id: str, days_overdue: int, balance: int = 10_000, customer_id: str = "C1") -> dict[str, Any]:
    return {
        "invoice_id": invoice_id,
        "customer_id": customer_id,
        "issue_date": DAY - timedelta(days=days_overdue + 30),
        "due_date": DAY - timedelta(days=days_overdue),
        "currency": "EUR",
        "balance_minor": balance,
    }


def decide(
    invoices: list[dict[str, Any]],
    customers: list[dict[str, Any]] | None = None,
    *,
    policy: Policy | None = None,
    day: date = DAY,
    now: datetime = RUN_AT,
    disputed: list[str] = (),  # type: ignore[assignment]
    promises: list[dict[str, Any]] = (),  # type: ignore[assignment]
    outbox: pl.DataFrame | None = None,
    risk_band: str = "medium",
    credits: list[dict[str, Any]] = (),  # type: ignore[assignment]
    handed_over: list[dict[str, Any]] = (),  # type: ignore[assignment]
) -> pl.DataFrame:
    customers = customers or [a_customer()]
    inputs = PlanInputs(
        day=day,
        now=now,
        open_invoices=pl.DataFrame(invoices),
        disputed=pl.DataFrame({"invoice_id": list(disputed)}, schema={"invoice_id": pl.String}),
        promises=pl.DataFrame([{"invoice_id": None, **p} for p in promises], schema=PROMISE_SCHEMA),
        customers=pl.DataFrame(customers, schema_overrides={"email_opt_out_at": UTC_DT, "sms_opt_out_at": UTC_DT}),
        segments=pl.DataFrame(
            [
                {
                    "customer_id": c["customer_id"],
                    "risk_band": risk_band,
                    "aging_bucket": "8-30",
                    "value_tier": "small",
                    "channel": "email",
                }
                for c in customers
            ]
        ),
        outbox=outbox if outbox is not None else pl.DataFrame(schema=OUTBOX_SCHEMA),
        credits=pl.DataFrame(list(credits), schema=CREDIT_SCHEMA),
        handed_over=pl.DataFrame(list(handed_over), schema=HANDED_OVER_SCHEMA),
    )
    return plan_day(inputs, policy or load_policy()).decisions


def outbox_row(
    step: str, offset: int, on: date, *, ladder: str = "standard", channel: str = "email", status: str = "sent"
) -> dict[str, Any]:
    """An outbox row of episode I1 of customer C1."""
    return {
        "dedupe_key": f"C1|I1|{ladder}|{step}|{channel}",
        "customer_id": "C1",
        "episode_id": "I1",
        "ladder": ladder,
        "step": step,
        "offset_days": offset,
        "channel": channel,
        "business_date": on,
        "send_on": on,
        "status": status,
        "window_end": datetime.combine(on, time(18), tzinfo=UTC),
    }


def outbox_of(*rows: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=OUTBOX_SCHEMA)


def only(decisions: pl.DataFrame) -> dict[str, Any]:
    assert decisions.height == 1
    return decisions.row(0, named=True)
