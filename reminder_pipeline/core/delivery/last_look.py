"""The last look (promise 2): what the ledger says of a reminder at the moment its send starts.

Rendering already looked once; between then and the send a payment, a dispute, an opt-out, a
promise to pay or a new address may have arrived, a window may have closed, or another message may
have gone to the customer today. Each claimed row is decided here, in the claiming transaction:
it is sent, cancelled (it may be planned again) or expired, with the reason recorded.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

import polars as pl

from reminder_pipeline.core.channels import CHANNELS, why_unreachable, with_contact_columns
from reminder_pipeline.core.history import PROMISES_OVER, PromiseStatus
from reminder_pipeline.core.outbox import OutboxStatus
from reminder_pipeline.core.planning.windows import zones_of
from reminder_pipeline.core.policy.config import EARLIEST_SEND, LATEST_SEND


class LastLookReason(StrEnum):
    PAID = "paid since it was written: nothing is owed on its invoices"
    AMOUNT_CHANGED = "the amount owed changed since it was written (a part payment or a credit)"
    DISPUTED = "an invoice it chases is disputed"
    PROMISE = "the customer promised to pay since it was planned"
    ADDRESS_CHANGED = "the customer's address for the channel changed since it was written"
    ALREADY_CONTACTED = "the customer already had a message today (one a day across channels)"
    QUIET_HOURS_NOW = "outside 08:00-21:00 in the customer's time zone as the ledger has it now (it changed)"
    WINDOW_CLOSED = "its send window closed before it could be sent"


CANDIDATE_SCHEMA = {
    "outbox_id": pl.Int64(),
    "customer_id": pl.String(),
    "channel": pl.String(),
    "send_on": pl.Date(),
    "business_date": pl.Date(),
    "window_end": pl.Datetime("us", "UTC"),
    "invoice_ids": pl.List(pl.String()),
    "recipient": pl.String(),
    "amount_minor": pl.Int64(),
}
"""A claimed row as the last look reads it: the outbox row with its message's recipient and amount."""


def _pending_promises(promises: pl.DataFrame, today: date, grace_days: int) -> pl.DataFrame:
    """customer_id, invoice_id (null: any), made_on of promises still pending on ``today``."""
    return promises.filter(
        ~pl.col("status").is_in([*PROMISES_OVER, PromiseStatus.BROKEN]),
        pl.col("promised_date") + timedelta(days=grace_days) >= today,
    ).select("customer_id", "invoice_id", "made_on")


def _inside_hours(zones: str | None, now: datetime) -> bool:
    """Whether ``now`` is within 08:00-21:00 local in every candidate zone (``a|b``); no zone: never."""
    if not zones:
        return False
    return all(EARLIEST_SEND <= now.astimezone(ZoneInfo(zone)).time() < LATEST_SEND for zone in zones.split("|"))


def _hours_now(contacts: pl.DataFrame, now: datetime) -> pl.DataFrame:
    """customer_id, _inside_hours: promise 3 against the customer's zones as they are now."""
    zones = zones_of(contacts.select("customer_id", "time_zone", "phone", "country"))
    distinct = zones.select("zones").unique()
    inside = distinct.with_columns(
        pl.Series("_inside_hours", [_inside_hours(z, now) for z in distinct["zones"]], dtype=pl.Boolean)
    )
    return zones.join(inside, on="zones", how="left", nulls_equal=True).select("customer_id", "_inside_hours")


def last_look(
    candidates: pl.DataFrame,
    *,
    contacts: pl.DataFrame,
    lines: pl.DataFrame,
    disputed: pl.DataFrame,
    promises: pl.DataFrame,
    contacted: pl.DataFrame,
    now: datetime,
    today: date,
    promise_grace_days: int,
) -> pl.DataFrame:
    """``outbox_id, status, status_reason`` for every candidate: ``sending`` (reason null) or why not.

    ``contacts``: the customers' details now. ``lines``: invoice_id, balance_minor now. ``disputed``:
    invoice_id of open disputes. ``promises``: ``PROMISE_SCHEMA``. ``contacted``: customer_id, send_on
    of messages already handed to a provider (other rows than the candidates).
    """
    exploded = candidates.select("outbox_id", "customer_id", "business_date", "invoice_ids").explode("invoice_ids")
    exploded = exploded.rename({"invoice_ids": "invoice_id"})
    owed = (
        exploded.join(lines.select("invoice_id", "balance_minor"), on="invoice_id", how="left")
        .group_by("outbox_id")
        .agg(pl.col("balance_minor").fill_null(0).clip(lower_bound=0).sum().alias("owed_minor"))
    )
    disputed_rows = exploded.join(disputed.select("invoice_id"), on="invoice_id", how="semi")["outbox_id"]
    pending = _pending_promises(promises, today, promise_grace_days)
    promised_rows = pl.concat(
        [
            exploded.join(pending.filter(pl.col("invoice_id").is_not_null()), on=["customer_id", "invoice_id"]),
            exploded.join(pending.filter(pl.col("invoice_id").is_null()).drop("invoice_id"), on="customer_id"),
        ],
        how="diagonal_relaxed",
    ).filter(pl.col("made_on") >= pl.col("business_date"))["outbox_id"]
    address = pl.lit(None, dtype=pl.String)
    for spec in CHANNELS.values():
        address = pl.when(pl.col("channel") == spec.channel.value).then(pl.col(spec.address)).otherwise(address)
    earlier = contacted.select("customer_id", "send_on").unique().with_columns(pl.lit(True).alias("_contacted"))
    frame = (
        candidates.join(owed, on="outbox_id", how="left")
        .join(with_contact_columns(contacts), on="customer_id", how="left")
        .join(_hours_now(contacts, now), on="customer_id", how="left")
        .join(earlier, on=["customer_id", "send_on"], how="left")
        .sort("outbox_id")
        .with_columns(address.alias("_address"))
    )
    unreachable = why_unreachable(pl.col("channel"))
    reasons: list[tuple[pl.Expr, pl.Expr]] = [
        (pl.col("window_end") <= now, pl.lit(LastLookReason.WINDOW_CLOSED.value)),
        (unreachable.is_not_null(), unreachable),
        (pl.col("owed_minor").fill_null(0) <= 0, pl.lit(LastLookReason.PAID.value)),
        (pl.col("outbox_id").is_in(disputed_rows.implode()), pl.lit(LastLookReason.DISPUTED.value)),
        (pl.col("outbox_id").is_in(promised_rows.implode()), pl.lit(LastLookReason.PROMISE.value)),
        (pl.col("owed_minor") != pl.col("amount_minor"), pl.lit(LastLookReason.AMOUNT_CHANGED.value)),
        (
            pl.col("_address").is_null() | (pl.col("_address") != pl.col("recipient")),
            pl.lit(LastLookReason.ADDRESS_CHANGED.value),
        ),
        (~pl.col("_inside_hours").fill_null(False), pl.lit(LastLookReason.QUIET_HOURS_NOW.value)),
        (pl.col("_contacted").fill_null(False), pl.lit(LastLookReason.ALREADY_CONTACTED.value)),
    ]
    reason: pl.Expr = pl.lit(None, dtype=pl.String)
    for condition, text in reversed(reasons):
        reason = pl.when(condition).then(text).otherwise(reason)
    first_today = (  # of the rows still going, only the first per customer and day (one message a day)
        pl.col("outbox_id").rank("ordinal").over("customer_id", "send_on", pl.col("status_reason").is_null()) == 1
    )
    decided = frame.with_columns(reason.alias("status_reason")).with_columns(
        pl.when(pl.col("status_reason").is_null() & ~first_today)
        .then(pl.lit(LastLookReason.ALREADY_CONTACTED.value))
        .otherwise(pl.col("status_reason"))
        .alias("status_reason")
    )
    status = (
        pl.when(pl.col("status_reason").is_null())
        .then(pl.lit(OutboxStatus.SENDING.value))
        .when(pl.col("status_reason") == LastLookReason.WINDOW_CLOSED.value)
        .then(pl.lit(OutboxStatus.EXPIRED.value))
        .otherwise(pl.lit(OutboxStatus.CANCELLED.value))
    )
    return decided.select("outbox_id", status.alias("status"), "status_reason")
