"""The channels a reminder can go by, and everything that differs between them, in one registry.

Adding a channel is adding a :class:`ChannelSpec` here (and its templates and provider): whether
it reaches a customer, why not, where its recipient's address lives and how that is masked are
read from the registry by segmentation, planning, rendering, its checks and the previews.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from reminder_pipeline.core.canonical import Channel
from reminder_pipeline.core.privacy import HIDDEN, mask_email, mask_phone

NO_CHANNEL = "none"
"""A segment's channel when nothing reaches the customer."""


@dataclass(frozen=True)
class ChannelSpec:
    channel: Channel
    address: str
    """The customer column holding the recipient (an email address, a phone number)."""
    opt_out: str
    """The customer column holding when the customer opted out of the channel."""
    consent: str | None
    """The customer column that must be true before the channel may be used (None: no prior consent needed)."""
    refused: str
    """The customer column holding the address a provider refused for good (it reaches nobody until it changes)."""
    mask: Callable[[pl.Expr], pl.Expr]
    """How the recipient is shown in logs and metadata (promise 8)."""
    label: str
    """The channel in words ("email", "SMS")."""
    noun: str
    """The recipient's address in words ("email address", "phone number")."""


CHANNELS: dict[Channel, ChannelSpec] = {
    Channel.EMAIL: ChannelSpec(
        Channel.EMAIL, "email", "email_opt_out_at", None, "email_refused", mask_email, "email", "email address"
    ),
    Channel.SMS: ChannelSpec(
        Channel.SMS, "phone", "sms_opt_out_at", "sms_consent", "phone_refused", mask_phone, "SMS", "phone number"
    ),
}
CHANNEL_NAMES = tuple(c.value for c in CHANNELS)
FALLBACK_ORDER = (Channel.EMAIL, Channel.SMS)
"""Which channel a segment names when the preferred one does not reach the customer."""


def with_contact_columns(customers: pl.DataFrame) -> pl.DataFrame:
    """``customers`` with every column the registry reads (a refusal column a frame lacks means none)."""
    missing = [spec.refused for spec in CHANNELS.values() if spec.refused not in customers.columns]
    return customers.with_columns(pl.lit(None, dtype=pl.String).alias(name) for name in missing)


def _each(channel: pl.Expr, value: Callable[[ChannelSpec], pl.Expr], otherwise: pl.Expr) -> pl.Expr:
    expr = otherwise
    for spec in CHANNELS.values():
        expr = pl.when(channel == spec.channel.value).then(value(spec)).otherwise(expr)
    return expr


def unreachable_reason(spec: ChannelSpec) -> pl.Expr:
    """Why ``spec``'s channel does not reach the customer, in words (null when it does)."""
    reasons = [(pl.col(spec.opt_out).is_not_null(), f"the customer opted out of {spec.label}")]
    if spec.consent is not None:
        reasons.append((~pl.col(spec.consent).fill_null(False), f"the customer has not consented to {spec.label}"))
    reasons.append((pl.col(spec.address).is_null(), f"the customer has no {spec.noun} any more"))
    reasons.append(
        (
            pl.col(spec.refused).is_not_null() & (pl.col(spec.refused) == pl.col(spec.address)),
            f"the provider refused the customer's {spec.noun} for good",
        )
    )
    expr: pl.Expr = pl.lit(None, dtype=pl.String)
    for condition, reason in reversed(reasons):
        expr = pl.when(condition).then(pl.lit(reason)).otherwise(expr)
    return expr


def reachable(channel: Channel) -> pl.Expr:
    """Whether ``channel`` reaches the customer: an address for it, consent where needed, no opt-out."""
    return unreachable_reason(CHANNELS[channel]).is_null()


def why_unreachable(channel: pl.Expr) -> pl.Expr:
    """Per row, why the channel named in ``channel`` does not reach the customer (null when it does)."""
    return _each(channel, unreachable_reason, pl.lit("no such channel"))


def reachable_by(channel: pl.Expr) -> pl.Expr:
    """Per row, whether the channel named in ``channel`` reaches the customer (false for no channel)."""
    return _each(channel, lambda spec: reachable(spec.channel), pl.lit(False))


def opted_out_of(channel: pl.Expr) -> pl.Expr:
    """Per row, whether the customer opted out of the channel named in ``channel``."""
    return _each(channel, lambda spec: pl.col(spec.opt_out).is_not_null(), pl.lit(False))


def recipient_of(channel: pl.Expr) -> pl.Expr:
    """Per row, the customer's address for the channel named in ``channel``."""
    return _each(channel, lambda spec: pl.col(spec.address), pl.lit(None, dtype=pl.String))


def mask_recipient(channel: pl.Expr, recipient: pl.Expr) -> pl.Expr:
    """The recipient as logs and metadata may show it: masked the channel's way, nothing for another channel."""
    expr: pl.Expr = pl.lit(HIDDEN)
    for spec in CHANNELS.values():
        expr = pl.when(channel == spec.channel.value).then(spec.mask(recipient)).otherwise(expr)
    return pl.when(recipient.is_null()).then(pl.lit(None, dtype=pl.String)).otherwise(expr)
