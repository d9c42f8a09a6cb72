"""The headline figures and the worklist queues on small ledgers computed by hand (pure: no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from reminder_pipeline.core.receivables import NOT_YET_DUE
from reminder_pipeline.dashboard.accounts import Queue, accounts
from reminder_pipeline.dashboard.figures import figures
from reminder_pipeline.dashboard.loading import Sources, nothing

D = date(2026, 6, 30)
EDGES = [30, 60, 90]


def _sources(invoices: list[tuple], payments: list[tuple] = (), **frames: pl.DataFrame) -> Sources:  # type: ignore[assignment]
    base = nothing(D)
    inv = pl.DataFrame(
        invoices,
        schema=["invoice_id", "customer_id", "issue_date", "due_date", "amount_minor", "currency"],
        orient="row",
    )
    pay = pl.DataFrame(
        list(payments),
        schema={
            "invoice_id": pl.String,
            "customer_id": pl.String,
            "paid_date": pl.Date,
            "amount_minor": pl.Int64,
            "currency": pl.String,
        },
        orient="row",
    )
    paid = pay.group_by("invoice_id").agg(pl.col("amount_minor").sum().alias("paid_minor"))
    inv = inv.join(paid, on="invoice_id", how="left").with_columns(pl.col("paid_minor").fill_null(0))
    values = {name: getattr(base, name) for name in base.__dataclass_fields__ if name != "day"}
    values |= {"invoices": inv.select(base.invoices.columns).cast(dict(base.invoices.schema)), "payments": pay}
    return Sources(day=D, **(values | frames))


def _days(n: int) -> date:
    return D - timedelta(days=n)


def test_outstanding_overdue_aging_and_collected() -> None:
    sources = _sources(
        [
            ("I1", "A", _days(100), _days(70), 10_000, "EUR"),  # 70 days late, 4,000 paid: 6,000 in 61-90
            ("I2", "A", _days(20), _days(5), 2_000, "EUR"),  # 5 days late: 1-30
            ("I3", "B", _days(10), D + timedelta(days=20), 5_000, "EUR"),  # current
            ("I4", "B", _days(200), _days(170), 3_000, "EUR"),  # paid in full long ago: nothing
            ("I5", "C", _days(40), _days(35), 700, "USD"),  # 31-60
        ],
        [
            ("I1", "A", _days(10), 4_000, "EUR"),
            ("I4", "B", _days(150), 3_000, "EUR"),
        ],
    )
    shown = {c.currency: c for c in figures(sources, EDGES).currencies}
    eur = shown["EUR"]
    assert eur.outstanding_minor == 6_000 + 2_000 + 5_000
    assert eur.overdue_minor == 8_000
    assert eur.collected_30d_minor == 4_000
    assert eur.aging_minor == {NOT_YET_DUE: 5_000, "1-30": 2_000, "31-60": 0, "61-90": 6_000, "90+": 0}
    assert shown["USD"].aging_minor["31-60"] == 700


def test_the_aging_is_in_the_buckets_of_the_edges_given() -> None:
    sources = _sources(
        [
            ("I1", "A", _days(100), _days(70), 10_000, "EUR"),  # 70 days late
            ("I2", "A", _days(20), _days(5), 2_000, "EUR"),  # 5 days late
            ("I3", "B", _days(10), D + timedelta(days=20), 5_000, "EUR"),  # current
            ("I5", "C", _days(40), _days(35), 700, "USD"),  # 35 days late
        ],
    )
    shipped = figures(sources, [7, 30, 60])
    assert shipped.aging_buckets == [NOT_YET_DUE, "1-7", "8-30", "31-60", "60+"]
    eur, usd = shipped.currencies
    assert eur.aging_minor == {NOT_YET_DUE: 5_000, "1-7": 2_000, "8-30": 0, "31-60": 0, "60+": 10_000}
    assert usd.aging_minor == {NOT_YET_DUE: 0, "1-7": 0, "8-30": 0, "31-60": 700, "60+": 0}
    two = figures(sources, [4, 40])
    assert two.aging_buckets == [NOT_YET_DUE, "1-4", "5-40", "40+"]
    assert two.currencies[0].aging_minor == {NOT_YET_DUE: 5_000, "1-4": 0, "5-40": 2_000, "40+": 10_000}


def test_dso_cei_and_average_days_delinquent() -> None:
    # Sales in the last 90 days: I2 (2,000) + I3 (5,000) = 7,000. Receivables now 13,000, of which 5,000 current.
    sources = _sources(
        [
            ("I1", "A", _days(100), _days(70), 10_000, "EUR"),
            ("I2", "A", _days(20), _days(5), 2_000, "EUR"),
            ("I3", "B", _days(10), D + timedelta(days=20), 5_000, "EUR"),
        ],
        [("I1", "A", _days(10), 4_000, "EUR")],
    )
    eur = figures(sources, EDGES).currencies[0]
    assert eur.dso == pytest.approx(13_000 / 7_000 * 90)
    assert eur.average_days_delinquent == pytest.approx(13_000 / 7_000 * 90 - 5_000 / 7_000 * 90)
    # 30 days ago: I1 open for 10,000 (the payment came later); invoiced since: 7,000.
    # CEI = (10,000 + 7,000 - 13,000) / (10,000 + 7,000 - 5,000) * 100
    assert eur.cei == pytest.approx(4_000 / 12_000 * 100)
    trend = dict(eur.dso_trend)
    # 60 days ago: I1 open for 10,000, and it is the 90 days' only sale: 90 days.
    assert trend[_days(60)] == pytest.approx(90.0)
    # 150 days ago nothing was invoiced yet: no DSO.
    assert trend[_days(150)] is None
    assert trend[D] == pytest.approx(eur.dso)


def test_reminder_outcomes_and_the_rates_after_a_reminder() -> None:
    sent = datetime(2026, 6, 20, 9, tzinfo=UTC)
    messages = pl.DataFrame(
        [
            ("A", "email", "reminder", "delivered", date(2026, 6, 20), sent),
            ("B", "email", "reminder", "failed", date(2026, 6, 20), sent),
            ("C", "sms", "reminder", "sent", date(2026, 6, 21), sent + timedelta(days=1)),
            ("D", "sms", "reminder", "delivered", date(2026, 5, 1), datetime(2026, 5, 1, 9, tzinfo=UTC)),
        ],
        schema=dict(nothing(D).messages.schema),
        orient="row",
    )
    replies = pl.DataFrame(
        [("A", sent + timedelta(days=2), "promise_to_pay"), ("C", sent - timedelta(days=3), "other")],
        schema=dict(nothing(D).replies.schema),
        orient="row",
    )
    sources = _sources(
        [("I9", "B", _days(60), _days(30), 1_000, "EUR")],
        [("I9", "B", date(2026, 6, 25), 1_000, "EUR")],
        messages=messages,
        replies=replies,
    )
    result = figures(sources, EDGES).reminders
    assert (result.sent, result.delivered, result.failed) == (3, 1, 1)
    assert result.reply_rate == pytest.approx(1 / 3)  # A replied after; C's reply came before its reminder
    assert result.payment_rate == pytest.approx(1 / 3)  # B paid five days after


def test_queues_follow_promises_disputes_pauses_and_silence() -> None:
    owed = [(f"I{c}", c, _days(60), _days(30), 1_000, "EUR") for c in "ABCDEF"]
    promises = pl.DataFrame(
        [("A", D + timedelta(days=3), "pending", _days(1)), ("B", _days(10), "pending", _days(20))],
        schema=dict(nothing(D).promises.schema),
        orient="row",
    )
    disputes = pl.DataFrame([("C", "IC")], schema=dict(nothing(D).disputes.schema), orient="row")
    pauses = pl.DataFrame([("D", D + timedelta(days=5))], schema=dict(nothing(D).pauses.schema), orient="row")
    messages = pl.DataFrame(
        [
            ("E", "email", "reminder", "delivered", _days(k), datetime.combine(_days(k), datetime.min.time(), UTC))
            for k in (3, 10, 17)
        ],
        schema=dict(nothing(D).messages.schema),
        orient="row",
    )
    scores = pl.DataFrame(
        [(c, p, "high", None) for c, p in zip("ABCDEF", [0.1, 0.2, 0.3, 0.4, 0.5, 0.9], strict=True)],
        schema=dict(nothing(D).scores.schema),
        orient="row",
    )
    frame = accounts(
        _sources(owed, promises=promises, disputes=disputes, pauses=pauses, messages=messages, scores=scores),
        promise_grace_days=3,
    )
    queues = dict(frame.select("customer_id", "queue").iter_rows())
    assert queues == {
        "A": Queue.WAITING,  # promise pending
        "B": Queue.AT_RISK,  # promised for 10 days ago: broken after 3 days' grace
        "C": Queue.WAITING,  # dispute
        "D": Queue.WAITING,  # paused
        "E": Queue.AT_RISK,  # three reminders, no answer
        "F": Queue.READY,
    }
    losses = dict(frame.select("customer_id", "expected_loss_minor").iter_rows())
    assert losses["F"] == 900
    assert frame.filter(pl.col("customer_id") == "A")["days_past_due"].item() == 30
