"""The floor's segments, plan and messages: a simple version of the policy's ladders, read from its YAML.

Segments: aging of the oldest open invoice, value tier of the open balance in its main currency, the
channel that reaches the customer. Plan: per customer, the episode (the oldest unpaid, undisputed
invoice and the others due by then in its currency), the ladder its segment is assigned to, and the
highest step due by the days past the due date — the ledger is fresh, so no step was reached
before; a message step needs a business day (weekday of the policy, no public holiday) and a
reachable channel of the step. Messages: plain text in English, with HMAC-signed payment (and, by
email, unsubscribe) links. No send windows, contact caps, promises, pauses or last look: those need
the outbox and the ledger, which the floor does not have.
"""

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import holidays
import polars as pl
import yaml

POLICY = Path(__file__).resolve().parent.parent / "reminder_pipeline" / "policies" / "default.yaml"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SEGMENT_FIELDS = ("risk_band", "aging_bucket", "value_tier", "channel")
TONES = {
    "courtesy": "A friendly note that your invoices fall due soon",
    "friendly": "A reminder that your invoices are due",
    "firm": "Your invoices are overdue, please pay now",
    "final": "Final notice before we pass your account to a collector",
}

EMAIL = "\n".join(
    [
        "Dear {},",
        "",
        "{}.",
        "",
        "Invoices: {}",
        "Total due: {}, the oldest due on {}",
        "Pay online: {}{}",
        "",
        "Kind regards,",
        "{}",
        "",
        "--",
        "Stop payment reminders by email: {}{}",
    ]
)
SMS = "{}: {}: {} due {}. Pay online: {}{} Reply STOP to opt out"


@dataclass(frozen=True)
class Policy:
    bands: dict[str, float]
    aging_edges: list[int]
    tiers: pl.DataFrame
    """``tier_currency, value_tier, below`` (the last tier of a currency: infinity)."""
    steps: pl.DataFrame
    """``ladder, step_index, step, offset_days, action, channels, tone``."""
    assignments: list[dict[str, Any]]
    business_days: list[int]
    """ISO weekday numbers."""
    observe_holidays: bool
    links: dict[str, Any]
    sender: str


def load_policy(path: Path = POLICY) -> Policy:
    raw = yaml.safe_load(path.read_text())
    segmentation, contact = raw["segmentation"], raw["contact"]
    tiers = [
        {"tier_currency": currency, "value_tier": tier["name"], "below": float(tier.get("below", float("inf")))}
        for currency, listed in segmentation["value_tiers"].items()
        for tier in listed
    ]
    steps = [
        {
            "ladder": ladder,
            "step_index": index,
            "step": step["name"],
            "offset_days": step["offset_days"],
            "action": step.get("action", "message"),
            "channels": step.get("channels", []),
            "tone": step.get("tone"),
        }
        for ladder, spec in raw["ladders"].items()
        for index, step in enumerate(spec["steps"])
    ]
    return Policy(
        bands=segmentation["risk_bands"],
        aging_edges=segmentation["aging_edges"],
        tiers=pl.DataFrame(tiers),
        steps=pl.DataFrame(steps, schema_overrides={"channels": pl.List(pl.String)}),
        assignments=raw["assignments"],
        business_days=[WEEKDAYS.index(d) + 1 for d in contact["business_days"]],
        observe_holidays=contact["observe_public_holidays"],
        links=raw["links"],
        sender=raw["sender"]["name"],
    )


def reaches(channel: str | pl.Expr) -> pl.Expr:
    """Whether the channel (a name, or a column of names) reaches the customer."""
    channel = pl.lit(channel) if isinstance(channel, str) else channel
    email = pl.col("email").is_not_null() & ~pl.col("email_opt_out")
    sms = pl.col("phone").is_not_null() & pl.col("sms_consent") & ~pl.col("sms_opt_out")
    return pl.when(channel == "email").then(email).when(channel == "sms").then(sms).otherwise(False).fill_null(False)


def _aging(days_overdue: pl.Expr, edges: list[int]) -> pl.Expr:
    expr: pl.Expr = pl.lit(f"{edges[-1]}+")
    for low, high in reversed(list(zip([0, *edges[:-1]], edges, strict=True))):
        expr = pl.when(days_overdue <= high).then(pl.lit(f"{low + 1}-{high}")).otherwise(expr)
    return pl.when(days_overdue <= 0).then(pl.lit("not_due")).otherwise(expr)


def segment(
    risk: pl.DataFrame, features: pl.DataFrame, customers: pl.DataFrame, policy: Policy, day: date
) -> pl.DataFrame:
    """Per customer scored: risk band, aging bucket, value tier and channel."""
    oldest = features.group_by("customer_id").agg(pl.col("due_date").min().alias("oldest_due"))
    main = (
        features.group_by("customer_id", "currency")
        .agg(pl.col("balance_minor").sum())
        .sort("balance_minor", descending=True)
        .unique("customer_id", keep="first")
    )
    known = policy.tiers["tier_currency"].unique().to_list()
    frame = (
        risk.join(oldest, on="customer_id")
        .join(main, on="customer_id")
        .join(customers, on="customer_id", how="left")
        .with_columns(
            pl.when(pl.col("currency").is_in(known))
            .then("currency")
            .otherwise(pl.lit("default"))
            .alias("tier_currency"),
            (pl.col("balance_minor") / pl.when(pl.col("currency") == "JPY").then(1.0).otherwise(100.0)).alias("major"),
        )
    )
    tier = (
        frame.select("customer_id", "tier_currency", "major")
        .join(policy.tiers, on="tier_currency")
        .filter(pl.col("major") < pl.col("below"))
        .sort("below")
        .unique("customer_id", keep="first")
        .select("customer_id", "value_tier")
    )
    channel = (
        pl.when(
            (pl.col("preferred_channel") == "email") & reaches("email")
            | (pl.col("preferred_channel") == "sms") & reaches("sms")
        )
        .then("preferred_channel")
        .when(reaches("email"))
        .then(pl.lit("email"))
        .when(reaches("sms"))
        .then(pl.lit("sms"))
        .otherwise(pl.lit("none"))
    )
    return frame.join(tier, on="customer_id", how="left").select(
        "customer_id",
        "p_late",
        "risk_band",
        _aging((pl.lit(day) - pl.col("oldest_due")).dt.total_days(), policy.aging_edges).alias("aging_bucket"),
        "value_tier",
        channel.alias("channel"),
    )


def _ladder(assignments: list[dict[str, Any]]) -> pl.Expr:
    """The first assignment whose segment fields all match."""
    expr: pl.Expr = pl.lit(None, dtype=pl.String)
    for assignment in reversed(assignments):
        match = [pl.col(f) == assignment[f] for f in SEGMENT_FIELDS if f in assignment]
        expr = (
            pl.when(pl.all_horizontal(match) if match else pl.lit(True))
            .then(pl.lit(assignment["ladder"]))
            .otherwise(expr)
        )
    return expr


def _business_day(countries: list[str | None], day: date, policy: Policy) -> pl.DataFrame:
    def open_on(country: str | None) -> bool:
        if day.isoweekday() not in policy.business_days:
            return False
        try:
            return not (
                policy.observe_holidays and country and day in holidays.country_holidays(country, years=day.year)
            )
        except NotImplementedError:
            return True

    return pl.DataFrame({"country": countries, "business_day": [open_on(c) for c in countries]})


def plan(features: pl.DataFrame, history: Any, segments: pl.DataFrame, policy: Policy, day: date) -> pl.DataFrame:
    """One decision per customer: ``send`` (a step and a channel), ``handoff`` or ``skip`` with the reason."""
    disputed = history.invoices.filter(
        pl.col("has_dispute") & (pl.coalesce("dispute_opened_on", "issue_date") <= day)
    ).select("invoice_id")
    owed = features.filter(pl.col("balance_minor") > 0).join(disputed, on="invoice_id", how="anti")
    episodes = (
        owed.sort("due_date", "invoice_id")
        .group_by("customer_id", maintain_order=True)
        .first()
        .select(
            "customer_id", pl.col("invoice_id").alias("episode_id"), pl.col("due_date").alias("episode_due"), "currency"
        )
    )
    covered = (
        owed.join(episodes, on=["customer_id", "currency"])
        .filter(pl.col("due_date") <= pl.max_horizontal(pl.lit(day), pl.col("episode_due")))
        .sort("due_date", "invoice_id")
        .group_by("customer_id")
        .agg(pl.col("invoice_id").alias("invoice_ids"), pl.col("balance_minor").sum().alias("amount_minor"))
    )
    frame = (
        segments.join(episodes, on="customer_id", how="left")
        .join(covered, on="customer_id", how="left")
        .with_columns(
            _ladder(policy.assignments).alias("ladder"),
            (pl.lit(day) - pl.col("episode_due")).dt.total_days().alias("days_past_due"),
        )
    )
    due = (
        frame.select("customer_id", "ladder", "days_past_due")
        .join(policy.steps, on="ladder")
        .filter(pl.col("offset_days") <= pl.col("days_past_due"))
        .sort("step_index")
        .group_by("customer_id")
        .last()
        .select("customer_id", "step", "offset_days", "action", "channels", "tone")
    )
    contacts = history.customers.select(
        "customer_id", "country", "preferred_channel", "email", "phone", "email_opt_out", "sms_opt_out", "sms_consent"
    )
    frame = frame.join(due, on="customer_id", how="left").join(contacts, on="customer_id", how="left")
    frame = frame.join(
        _business_day(frame["country"].unique().to_list(), day, policy), on="country", how="left", nulls_equal=True
    )
    first, second = pl.col("channels").list.get(0, null_on_oob=True), pl.col("channels").list.get(1, null_on_oob=True)
    preferred_allowed = pl.col("channels").list.contains(pl.col("preferred_channel")).fill_null(False)
    chosen = (
        pl.when(preferred_allowed & reaches(pl.col("preferred_channel")))
        .then("preferred_channel")
        .when(reaches(first))
        .then(first)
        .when(reaches(second))
        .then(second)
    )
    reason = (
        pl.when(pl.col("episode_id").is_null())
        .then(pl.lit("disputed"))
        .when(pl.col("step").is_null())
        .then(pl.lit("no_step_due"))
        .when(pl.col("action") == "handoff")
        .then(pl.lit(None, dtype=pl.String))
        .when(~pl.col("business_day"))
        .then(pl.lit("quiet_day"))
        .when(pl.col("chosen_channel").is_null())
        .then(pl.lit("no_valid_contact"))
    )
    return (
        frame.with_columns(chosen.alias("chosen_channel"))
        .with_columns(reason.alias("reason"))
        .with_columns(
            pl.when(pl.col("reason").is_not_null())
            .then(pl.lit("skip"))
            .when(pl.col("action") == "handoff")
            .then(pl.lit("handoff"))
            .otherwise(pl.lit("send"))
            .alias("decision")
        )
        .select(
            "customer_id",
            "decision",
            "reason",
            "ladder",
            "step",
            "tone",
            "chosen_channel",
            "episode_due",
            "invoice_ids",
            "amount_minor",
            "currency",
        )
    )


def _tokens(ids: list[int], purpose: str, secret: str, expires: date) -> list[str]:
    """``<id>.<expiry>.<signature>``: HMAC-SHA256 with a key per purpose."""
    key = hashlib.sha256(f"{purpose}:{secret}".encode()).digest()
    expiry = f"{expires.toordinal():x}"
    values = [f"{i}.{expiry}" for i in ids]
    return [
        v + "." + base64.urlsafe_b64encode(hmac.digest(key, v.encode(), "sha256")).rstrip(b"=").decode() for v in values
    ]


def render(decisions: pl.DataFrame, customers: pl.DataFrame, policy: Policy, secret: str, day: date) -> pl.DataFrame:
    """The text of each message to send: subject and body by email, one text by SMS."""
    sends = (
        decisions.filter(pl.col("decision") == "send")
        .join(customers.select("customer_id", "name", "email", "phone"), on="customer_id", how="left")
        .with_row_index("outbox_id", offset=1)
    )
    expires = day + timedelta(days=policy.links["expiry_days"])
    by_email = sends.filter(pl.col("chosen_channel") == "email")["outbox_id"]
    stop = pl.DataFrame({"outbox_id": by_email, "stop": _tokens(by_email.to_list(), "unsubscribe", secret, expires)})
    sends = sends.join(stop, on="outbox_id", how="left")
    scale = pl.when(pl.col("currency") == "JPY").then(1).otherwise(100)
    major, minor = pl.col("amount_minor") // scale, pl.col("amount_minor") % scale
    amount = (
        pl.when(scale == 1)
        .then(pl.format("{} {}", "currency", major))
        .otherwise(pl.format("{} {}.{}", "currency", major, minor.cast(pl.String).str.zfill(2)))
    )
    tone = pl.col("tone").replace_strict(TONES, default="")
    email = pl.col("chosen_channel") == "email"
    pay_url, stop_url = pl.lit(policy.links["payment_url"]), pl.lit(policy.links["unsubscribe_url"])
    sender = pl.lit(policy.sender)
    email_body = pl.format(
        EMAIL, "name", tone, "lines", "amount_text", "episode_due", pay_url, "pay", sender, stop_url, "stop"
    )
    sms_body = pl.format(SMS, sender, tone, "amount_text", "episode_due", pay_url, "pay")
    return sends.with_columns(
        pl.Series("pay", _tokens(sends["outbox_id"].to_list(), "payment", secret, expires)),
        amount.alias("amount_text"),
        pl.col("invoice_ids").list.join(", ").alias("lines"),
    ).select(
        "outbox_id",
        "chosen_channel",
        pl.when(email).then("email").otherwise("phone").alias("recipient"),
        pl.when(email).then(pl.format("Reminder: {} due, invoices {}", "amount_text", "lines")).alias("subject"),
        pl.when(email).then(email_body).otherwise(sms_body).alias("body"),
    )
