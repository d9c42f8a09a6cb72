"""A large synthetic ledger for the dashboard benchmark, written straight into the tables (bulk inserts).

``customers`` customers with ``invoices`` invoices spread over two years (30 days to pay), most of them
paid around their due date, today's risk scores and segments for everyone still owing, three reminders
in the last month for half of those (delivered, sent or failed), tomorrow's planned step for a third,
replies from a tenth and one decision per customer owing. Deterministic for a seed.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl
from sqlalchemy import text

from reminder_pipeline.ledger import schema
from reminder_pipeline.ledger.bulk import insert
from reminder_pipeline.ledger.store import Ledger

SOURCE = "benchmark"
BANDS = [(0.2, "low"), (0.5, "medium"), (1.01, "high")]


def _frames(customers: int, invoices: int, day: date, seed: int) -> dict[str, pl.DataFrame]:
    rng = np.random.default_rng(seed)
    ids = [f"C{i:07d}" for i in range(customers)]
    usd = rng.random(customers) < 0.1
    sms = rng.random(customers) < 0.4
    people = pl.DataFrame(
        {
            "customer_id": ids,
            "name": [f"Customer {i}" for i in range(customers)],
            "email": [f"c{i}@example.com" for i in range(customers)],
            "country": np.where(usd, "US", "DE").tolist(),
            "time_zone": np.where(usd, "America/New_York", "Europe/Berlin").tolist(),
            "locale": np.where(usd, "en_US", "de_DE").tolist(),
            "preferred_channel": np.where(sms, "sms", "email").tolist(),
            "source": SOURCE,
        }
    )
    owner = rng.integers(0, customers, invoices)
    issued_ago = rng.integers(0, 730, invoices)
    issue = np.datetime64(day) - issued_ago.astype("timedelta64[D]")
    due = issue + np.timedelta64(30, "D")
    amount = rng.integers(5_000, 500_000, invoices)
    delay = rng.normal(3, 15, invoices).round().astype(int)
    paid_on = due + delay.astype("timedelta64[D]")
    paid = (paid_on <= np.datetime64(day)) & (rng.random(invoices) < 0.96)
    invoice_ids = [f"I{i:08d}" for i in range(invoices)]
    currency = np.where(usd[owner], "USD", "EUR")
    bills = pl.DataFrame(
        {
            "invoice_id": invoice_ids,
            "customer_id": [ids[o] for o in owner],
            "issue_date": pl.Series(issue.astype("datetime64[D]")).cast(pl.Date),
            "due_date": pl.Series(due.astype("datetime64[D]")).cast(pl.Date),
            "amount_minor": amount,
            "currency": currency.tolist(),
            "source": SOURCE,
        }
    )
    money = pl.DataFrame(
        {
            "payment_id": [f"P{i:08d}" for i in np.flatnonzero(paid)],
            "invoice_id": [invoice_ids[i] for i in np.flatnonzero(paid)],
            "customer_id": [ids[owner[i]] for i in np.flatnonzero(paid)],
            "amount_minor": amount[paid],
            "currency": currency[paid].tolist(),
            "paid_date": pl.Series(np.maximum(paid_on[paid], issue[paid]).astype("datetime64[D]")).cast(pl.Date),
            "method": "card",
            "source": SOURCE,
        }
    )
    open_bills = bills.join(money.select("invoice_id"), on="invoice_id", how="anti")
    owing = open_bills.group_by("customer_id").agg(
        pl.len().alias("open_invoices"),
        pl.col("amount_minor").sum().alias("open_balance_minor"),
        pl.col("currency").first(),
        pl.col("due_date").min().alias("oldest_due_date"),
    )
    n = owing.height
    p_late = rng.beta(2, 4, n)
    band = [next(name for bound, name in BANDS if p < bound) for p in p_late]
    overdue = (pl.lit(day) - pl.col("oldest_due_date")).dt.total_days().clip(lower_bound=0)
    scores = owing.select(
        pl.lit(day).alias("business_date"),
        "customer_id",
        pl.Series("p_late", p_late),
        pl.Series("expected_days_late", p_late * 30),
        pl.Series("risk_band", band),
        pl.lit(json.dumps(["paid late 3 of the last 5 invoices", "a larger invoice than usual"])).alias("reasons"),
        pl.lit("benchmark").alias("scorer"),
        "open_invoices",
        (pl.lit(day) + pl.duration(days=10)).alias("predicted_payment_date"),
    )
    channel = owing.join(people.select("customer_id", "preferred_channel"), on="customer_id")["preferred_channel"]
    aging = (
        pl.when(overdue <= 0).then(pl.lit("current")).when(overdue <= 30).then(pl.lit("1-30")).otherwise(pl.lit("31+"))
    )
    segments = owing.with_columns(overdue.alias("max_days_overdue")).select(
        pl.lit(day).alias("business_date"),
        "customer_id",
        pl.concat_str([pl.Series(band), aging, pl.lit("mid"), pl.Series(channel)], separator=" / ").alias("segment"),
        pl.Series("risk_band", band),
        aging.alias("aging_bucket"),
        pl.lit("mid").alias("value_tier"),
        pl.Series("channel", channel),
        pl.Series("p_late", p_late),
        "open_invoices",
        "open_balance_minor",
        "currency",
        "oldest_due_date",
        "max_days_overdue",
        pl.lit("bench").alias("policy_version"),
    )
    chased = owing.filter(pl.Series(rng.random(n) < 0.5))
    rows = []
    statuses = ["delivered", "delivered", "sent", "failed"]
    for k, steps in enumerate(["courtesy", "reminder", "firm"]):
        sent_day = day - timedelta(days=25 - 10 * k)
        rows.append(
            chased.select(
                pl.concat_str([pl.col("customer_id"), pl.lit(f"|bench|{steps}|email")]).alias("dedupe_key"),
                "customer_id",
                pl.lit("bench").alias("episode_id"),
                pl.lit("standard").alias("ladder"),
                pl.lit(steps).alias("step"),
                pl.lit(k).alias("step_index"),
                pl.lit(k * 7).alias("offset_days"),
                pl.lit("email").alias("channel"),
                pl.lit(sent_day).alias("business_date"),
                pl.lit(sent_day).alias("send_on"),
                pl.Series("status", rng.choice(statuses, chased.height)),
                pl.lit("[]").alias("invoice_ids"),
                pl.col("open_balance_minor").alias("amount_minor"),
                "currency",
                pl.lit("bench").alias("policy_version"),
                pl.lit(datetime.combine(sent_day, datetime.min.time(), UTC) + timedelta(hours=10)).alias("sent_at"),
            )
        )
    planned = owing.filter(pl.Series(rng.random(n) < 0.33)).select(
        pl.concat_str([pl.col("customer_id"), pl.lit("|bench|final|email")]).alias("dedupe_key"),
        "customer_id",
        pl.lit("bench").alias("episode_id"),
        pl.lit("standard").alias("ladder"),
        pl.lit("final").alias("step"),
        pl.lit(3).alias("step_index"),
        pl.lit(21).alias("offset_days"),
        pl.lit("email").alias("channel"),
        pl.lit(day).alias("business_date"),
        pl.lit(day + timedelta(days=1)).alias("send_on"),
        pl.lit("planned").alias("status"),
        pl.lit("[]").alias("invoice_ids"),
        pl.col("open_balance_minor").alias("amount_minor"),
        "currency",
        pl.lit("bench").alias("policy_version"),
        pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("sent_at"),
    )
    repliers = chased.filter(pl.Series(rng.random(chased.height) < 0.2))
    replies = repliers.select(
        pl.lit("email").alias("channel"),
        pl.concat_str([pl.lit("bench-"), pl.col("customer_id")]).alias("provider_id"),
        "customer_id",
        pl.lit("someone@example.com").alias("sender"),
        pl.lit("I will pay next week").alias("body"),
        pl.lit(datetime.combine(day - timedelta(days=12), datetime.min.time(), UTC)).alias("received_at"),
        pl.lit("promise_to_pay").alias("intent"),
        pl.lit(0.9).alias("confidence"),
        pl.lit("promise").alias("action"),
    )
    decisions = owing.select(
        pl.lit(day).alias("business_date"),
        "customer_id",
        pl.lit("bench").alias("run_id"),
        pl.lit("skip").alias("decision"),
        pl.lit("no_step_due").alias("reason"),
        pl.lit("no ladder step is due that has not been sent already").alias("detail"),
        pl.lit("[]").alias("invoice_ids"),
        pl.lit("[]").alias("superseded_steps"),
        pl.lit(False).alias("escalated"),
        pl.lit("bench").alias("policy_version"),
    )
    return {
        "customers": people,
        "invoices": bills,
        "payments": money,
        "risk_scores": scores,
        "customer_segments": segments,
        "outbox": pl.concat([*rows, planned]),
        "replies": replies,
        "reminder_decisions": decisions,
    }


def seed(ledger: Ledger, customers: int, invoices: int, day: date, seed: int = 7) -> dict[str, int]:
    """Write the synthetic ledger; returns the rows per table."""
    frames = _frames(customers, invoices, day, seed)
    counts = {}
    for name, frame in frames.items():
        table = getattr(schema, name)
        for start in range(0, frame.height, 200_000):
            with ledger.begin() as connection:
                insert(connection, table, frame.slice(start, 200_000))
        counts[name] = frame.height
    if ledger.dialect == "postgresql":
        with ledger.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))
    return counts
