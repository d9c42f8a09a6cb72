"""What must be true of every message before a provider may see it; a message failing any check is held.

Each check reads the message as rendered against the ledger as it is now, through other code
than the rendering's own: placeholders left in the text, SMS length, the email unsubscribe
link, the amount against the ledger's balance, consent and opt-outs, and the send window
against the recipient's quiet hours.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import polars as pl

from reminder_pipeline.core.canonical import Channel
from reminder_pipeline.core.channels import why_unreachable, with_contact_columns
from reminder_pipeline.core.planning.windows import zones_of
from reminder_pipeline.core.policy.config import EARLIEST_SEND, LATEST_SEND, Policy
from reminder_pipeline.core.rendering.render import MAX_SMS_SEGMENTS, RENDER_CHUNK

CHECKS: dict[str, str] = {
    "no_unrendered_placeholder": "no template syntax or unfilled value is left in a subject or body",
    "sms_at_most_two_segments": f"every SMS fits in {MAX_SMS_SEGMENTS} parts",
    "email_has_unsubscribe_link": "every email carries its unsubscribe link, in the text and the HTML body",
    "amount_matches_ledger": "the amount in a message is the ledger's balance of its invoices now, as the text says",
    "no_opted_out_channel": "no message goes to a channel the customer opted out of or never consented to",
    "send_window_in_quiet_hours": "every send window lies within 08:00-21:00 and the policy's hours, in every zone "
    "the recipient may be in",
}
PLACEHOLDER = r"\{\{|\}\}|\{%|%\}|\{#|#\}|\x{E000}|\x{E001}"


def _window_ok(
    zones: str, send_on: date, start: datetime | None, end: datetime | None, policy: Policy, country: str | None
) -> bool:
    if start is None or end is None or start >= end:
        return False
    window = policy.contact.for_country(country)[3]
    for zone in zones.split("|"):
        local_start, local_end = start.astimezone(ZoneInfo(zone)), end.astimezone(ZoneInfo(zone))
        if not (local_start.date() == local_end.date() == send_on):
            return False
        if local_start.time() < max(EARLIEST_SEND, window.start) or local_end.time() > min(LATEST_SEND, window.end):
            return False
    return True


def _windows(messages: pl.DataFrame, contacts: pl.DataFrame, policy: Policy) -> pl.Series:
    zones = zones_of(contacts).join(contacts.select("customer_id", "country"), on="customer_id")
    keyed = messages.select("outbox_id", "customer_id", "send_on", "window_start", "window_end").join(
        zones, on="customer_id", how="left"
    )
    distinct = keyed.select("zones", "country", "send_on", "window_start", "window_end").unique()
    verdicts = distinct.with_columns(
        pl.Series(
            "window_ok",
            [
                zones_ is not None and _window_ok(zones_, on, start, end, policy, country)
                for zones_, country, on, start, end in distinct.iter_rows()
            ],
            dtype=pl.Boolean,
        )
    )
    joined = keyed.join(
        verdicts,
        on=["zones", "country", "send_on", "window_start", "window_end"],
        how="left",
        nulls_equal=True,
        maintain_order="left",
    )
    return joined["window_ok"].fill_null(False)


def message_problems(
    rendered: pl.DataFrame,
    outbox: pl.DataFrame,
    ledger_balances: pl.DataFrame,
    contacts: pl.DataFrame,
    policy: Policy,
) -> pl.DataFrame:
    """``outbox_id`` and ``problems`` (the checks each message fails, empty when it may go out), checked
    ``RENDER_CHUNK`` messages at a time.

    ``rendered``: ``RENDERED_SCHEMA``. ``outbox``: outbox_id, customer_id, send_on, window_start,
    window_end. ``ledger_balances``: invoice_id, balance_minor, read from the ledger now.
    ``contacts``: the customers' contact details, consent and opt-outs now.
    """
    if rendered.height <= RENDER_CHUNK:
        return _chunk_problems(rendered, outbox, ledger_balances, contacts, policy)
    return pl.concat(
        [
            _chunk_problems(rendered.slice(start, RENDER_CHUNK), outbox, ledger_balances, contacts, policy)
            for start in range(0, rendered.height, RENDER_CHUNK)
        ]
    ).sort("outbox_id")


def _chunk_problems(
    rendered: pl.DataFrame, outbox: pl.DataFrame, ledger_balances: pl.DataFrame, contacts: pl.DataFrame, policy: Policy
) -> pl.DataFrame:
    owed = (
        rendered.select("outbox_id", "invoice_ids")
        .explode("invoice_ids")
        .join(ledger_balances.rename({"invoice_id": "invoice_ids"}), on="invoice_ids", how="left")
        .group_by("outbox_id")
        .agg(pl.col("balance_minor").fill_null(0).sum().alias("ledger_balance"))
    )
    frame = (
        rendered.join(outbox.select("outbox_id", "customer_id"), on="outbox_id", how="left")
        .join(owed, on="outbox_id", how="left")
        .join(with_contact_columns(contacts), on="customer_id", how="left")
    )
    frame = frame.with_columns(
        _windows(frame.join(outbox.drop("customer_id"), on="outbox_id", how="left"), contacts, policy).alias(
            "_window_ok"
        )
    )
    email, sms = pl.col("channel") == Channel.EMAIL, pl.col("channel") == Channel.SMS
    placeholder = pl.any_horizontal(
        [pl.col(c).fill_null("").str.contains(PLACEHOLDER) for c in ("subject", "body_text", "body_html")]
    )
    failures = {
        "no_unrendered_placeholder": placeholder,
        "sms_at_most_two_segments": sms & (pl.col("sms_segments").fill_null(99) > MAX_SMS_SEGMENTS),
        "email_has_unsubscribe_link": email
        & (
            pl.col("unsubscribe_url").is_null()
            | ~pl.col("body_text").str.contains(pl.col("unsubscribe_url"), literal=True)
            | ~pl.col("body_html").fill_null("").str.contains(pl.col("unsubscribe_url"), literal=True)
        ),
        "amount_matches_ledger": (pl.col("amount_minor") != pl.col("ledger_balance").fill_null(-1))
        | ~pl.col("body_text").str.contains(pl.col("amount_text"), literal=True),
        "no_opted_out_channel": why_unreachable(pl.col("channel")).is_not_null(),
        "send_window_in_quiet_hours": ~pl.col("_window_ok"),
    }
    flags = frame.select("outbox_id", *[condition.fill_null(True).alias(name) for name, condition in failures.items()])
    return flags.select(
        "outbox_id",
        pl.concat_list(
            [pl.when(pl.col(name)).then(pl.lit(name)).otherwise(pl.lit(None, dtype=pl.String)) for name in failures]
        )
        .list.drop_nulls()
        .alias("problems"),
    ).sort("outbox_id")
