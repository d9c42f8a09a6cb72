"""The day's messages, in each customer's language, written over polars columns.

Per message: the invoices it covers (for the balance still owed), the total, dates and amounts
written for the customer's locale, a signed payment link (and for email an unsubscribe link),
then the subject and bodies from the templates of its language, channel and step. An SMS that
would take more than two parts is written again in its compact form.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import polars as pl
from babel import Locale, UnknownLocaleError
from markupsafe import Markup

from reminder_pipeline.core.canonical import Channel
from reminder_pipeline.core.channels import recipient_of
from reminder_pipeline.core.policy.config import Policy, StepAction
from reminder_pipeline.core.rendering.dates import format_dates
from reminder_pipeline.core.rendering.links import PAYMENT, UNSUBSCRIBE, LinkSigner
from reminder_pipeline.core.rendering.money import format_amounts
from reminder_pipeline.core.rendering.sms import GSM7_CHARACTERS, gsm_safe, sms_encoding, sms_segments
from reminder_pipeline.core.rendering.templates import Skeleton, TemplateProblem, Templates, html_escaped

MESSAGE_SLOTS = frozenset(
    {
        "customer_name",
        "amount",
        "invoice_lines",
        "first_invoice",
        "oldest_due_date",
        "pay_by",
        "payment_url",
        "unsubscribe_url",
    }
)
LINE_SLOTS = frozenset({"invoice_id", "due_date", "amount", "balance", "days"})
RAW_HTML_SLOTS = frozenset({"invoice_lines"})
"""Slots filled with HTML built from escaped parts: not escaped again."""
MAX_SMS_SEGMENTS = 2
RENDER_CHUNK = 50_000
"""Messages written at a time: only one chunk's working columns (slots, invoice lists, variants) in memory."""
PAY_WITHIN_DAYS = 7
"""A final notice gives at least this long to pay, even when it goes out late."""
RENDERED_SCHEMA = {
    "outbox_id": pl.Int64(),
    "channel": pl.String(),
    "recipient": pl.String(),
    "locale": pl.String(),
    "language": pl.String(),
    "template": pl.String(),
    "subject": pl.String(),
    "body_text": pl.String(),
    "body_html": pl.String(),
    "sms_encoding": pl.String(),
    "sms_segments": pl.Int64(),
    "invoice_ids": pl.List(pl.String()),
    "amount_minor": pl.Int64(),
    "currency": pl.String(),
    "amount_text": pl.String(),
    "payment_url": pl.String(),
    "unsubscribe_url": pl.String(),
    "links_expire_on": pl.Date(),
}


VariantNames = Callable[[dict[str, Any]], tuple[dict[str, Any], dict[str, str | None]]]
"""A variant's key -> (the values shared by its messages, the template of each output)."""


@dataclass(frozen=True)
class RenderContext:
    policy: Policy
    templates: Templates
    signer: LinkSigner
    now: datetime
    """When the messages are written: their links expire ``policy.links.expiry_days`` later."""

    def __post_init__(self) -> None:
        default = self.policy.contact.default_language
        if default not in self.templates.languages:
            raise TemplateProblem(
                f"the policy's contact.default_language '{default}' has no templates in {self.templates.origin} "
                f"(languages with every template: {', '.join(sorted(self.templates.languages))}); "
                "it is the language of every customer whose own has none"
            )


@cache
def _language_of(locale: str | None, available: frozenset[str], default: str) -> tuple[str, str]:
    """``(template language, formatting locale)``: the customer's own when templates exist for its
    language, else the default language, written for the customer's territory where Babel knows it."""
    try:
        parsed = Locale.parse((locale or default).replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return default, default
    if parsed.language in available:
        return parsed.language, str(parsed)
    try:
        return default, str(Locale.parse(f"{default}_{parsed.territory}")) if parsed.territory else default
    except (UnknownLocaleError, ValueError):
        return default, default


def _languages(messages: pl.DataFrame, templates: Templates, default: str) -> pl.DataFrame:
    distinct = messages.select("locale").unique()
    chosen = [_language_of(loc, templates.languages, default) for loc in distinct["locale"].to_list()]
    return distinct.with_columns(
        pl.Series("language", [c[0] for c in chosen], dtype=pl.String),
        pl.Series("format_locale", [c[1] for c in chosen], dtype=pl.String),
    )


def _fill_variants(
    frame: pl.DataFrame,
    keys: list[str],
    outputs: Mapping[str, tuple[str, bool]],
    text_values: Mapping[str, pl.Expr],
    html_values: Mapping[str, pl.Expr],
    constants_of: VariantNames,
    templates: Templates,
    slots: frozenset[str],
) -> pl.DataFrame:
    """Fill ``outputs`` (column: (template name key, html?)) per variant of ``keys``; the first and the last
    row of each variant are also rendered the ordinary way and must come out the same."""
    pieces = []
    for key, group in frame.partition_by(keys, as_dict=True, maintain_order=True).items():
        constants, names = constants_of(dict(zip(keys, key, strict=True)))
        filled: dict[str, pl.Expr] = {}
        skeletons: dict[str, tuple[Skeleton, bool, str]] = {}
        for column, (template_key, html) in outputs.items():
            name = names[template_key]
            if name is None:
                filled[column] = pl.lit(None, dtype=pl.String)
                continue
            skeleton = templates.skeleton(name, html, constants, slots)
            skeletons[column] = (skeleton, html, name)
            filled[column] = skeleton.fill(html_values if html else text_values)
        done = group.with_columns(**filled)
        for index in {0, done.height - 1}:
            _verify(done.row(index, named=True), skeletons, constants, templates, text_values)
        pieces.append(done)
    return pl.concat(pieces, how="diagonal_relaxed") if pieces else frame


def _verify(
    row: dict[str, Any],
    skeletons: Mapping[str, tuple[Skeleton, bool, str]],
    constants: Mapping[str, Any],
    templates: Templates,
    text_values: Mapping[str, pl.Expr],
) -> None:
    values = {slot: str(row[f"_slot_{slot}"]) for slot in text_values}
    for column, (_, html, name) in skeletons.items():
        context = dict(constants) | values
        if html:
            # the invoice list in HTML is built from escaped parts
            context |= {slot: Markup(row[f"_html_{slot}"]) for slot in RAW_HTML_SLOTS if f"_html_{slot}" in row}  # noqa: S704
        expected = templates.render(name, html, context)
        if expected != row[column]:
            raise TemplateProblem(
                f"{name}: a per-message value is changed inside the template (the fast rendering differs from an "
                "ordinary one); place values as they are, e.g. {{ customer_name }}"
            )


def _line_constants(key: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str | None]]:
    language = key["language"]
    return (
        {"partial": key["partial"], "state": key["state"], "one_day": key["one_day"], "language": language},
        {"txt": f"{language}/invoice_line.txt.j2", "html": f"{language}/invoice_line.html.j2"},
    )


def _lines(lines: pl.DataFrame, templates: Templates) -> pl.DataFrame:
    """Per message: its invoices, the total still owed, and the invoice list as text and HTML."""
    days = (pl.col("send_on") - pl.col("due_date")).dt.total_days()
    prepared = lines.with_columns(
        format_dates(lines, "due_date", "format_locale").alias("_slot_due_date"),
        format_amounts(lines, "amount_minor", "currency", "format_locale").alias("_slot_amount"),
        format_amounts(lines, "balance_minor", "currency", "format_locale").alias("_slot_balance"),
        pl.col("invoice_id").alias("_slot_invoice_id"),
        days.abs().cast(pl.String).alias("_slot_days"),
        (pl.col("balance_minor") < pl.col("amount_minor")).alias("partial"),
        pl.when(days > 0)
        .then(pl.lit("overdue"))
        .when(days == 0)
        .then(pl.lit("due_today"))
        .otherwise(pl.lit("not_due"))
        .alias("state"),
        (days == 1).alias("one_day"),
    )
    text_values = {slot: pl.col(f"_slot_{slot}") for slot in LINE_SLOTS}
    html_values = {slot: html_escaped(pl.col(f"_slot_{slot}")) for slot in LINE_SLOTS}
    rendered = _fill_variants(
        prepared,
        ["language", "partial", "state", "one_day"],
        {"line_txt": ("txt", False), "line_html": ("html", True)},
        text_values,
        html_values,
        _line_constants,
        templates,
        LINE_SLOTS,
    )
    return (
        rendered.sort("outbox_id", "due_date", "invoice_id")
        .group_by("outbox_id", maintain_order=True)
        .agg(
            pl.col("invoice_id").alias("invoice_ids"),
            pl.col("balance_minor").sum().alias("amount_minor"),
            pl.len().alias("invoice_count"),
            pl.col("invoice_id").first().alias("first_invoice"),
            pl.col("due_date").min().alias("oldest_due"),
            pl.col("line_txt").str.join("\n").alias("_slot_invoice_lines"),
            pl.col("line_html").str.join("\n").alias("_html_invoice_lines"),
        )
    )


def _handoff_offsets(policy: Policy) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "ladder": list(policy.ladders),
            "handoff_offset": [
                next((s.offset_days for s in ladder.steps if s.action is StepAction.HANDOFF), None)
                for ladder in policy.ladders.values()
            ],
        },
        schema={"ladder": pl.String(), "handoff_offset": pl.Int64()},
    )


def _links(frame: pl.DataFrame, context: RenderContext) -> pl.DataFrame:
    """A signed payment link for every message; an unsubscribe link for every email (SMS has STOP)."""
    links = context.policy.links
    expires = context.now.date() + timedelta(days=links.expiry_days)
    payment = context.signer.tokens(frame["outbox_id"], PAYMENT, expires)
    emails = frame.filter(pl.col("channel") == Channel.EMAIL).select("outbox_id")
    unsubscribe = emails.with_columns(
        (pl.lit(links.unsubscribe_url) + context.signer.tokens(emails["outbox_id"], UNSUBSCRIBE, expires)).alias(
            "unsubscribe_url"
        )
    )
    return frame.with_columns(
        (pl.lit(links.payment_url) + payment).alias("payment_url"),
        pl.lit(expires).alias("links_expire_on"),
    ).join(unsubscribe, on="outbox_id", how="left")


def _message_constants(templates: Templates, policy: Policy) -> VariantNames:
    sender = policy.sender

    def constants_of(key: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str | None]]:
        language, channel = key["language"], key["channel"]
        content = templates.content(language, key["tone"], key["step"])
        constants = {
            "language": language,
            "channel": channel,
            "tone": key["tone"],
            "step": key["step"],
            "content": content,
            "invoice_count": key["invoice_count"],
            "overdue": key["overdue"],
            "has_name": key["has_name"],
            "compact": key["compact"],
            "sender_name": sender.name,
            "sender_address": sender.address,
            "sender_email": sender.contact_email,
        }
        email = channel == Channel.EMAIL
        names = {
            "subject": f"{language}/email_subject.txt.j2" if email else None,
            "text": f"{language}/email.txt.j2" if email else f"{language}/sms.txt.j2",
            "html": f"{language}/email.html.j2" if email else None,
            "content": content,
        }
        return constants, names

    return constants_of


def _write(frame: pl.DataFrame, context: RenderContext) -> pl.DataFrame:
    text_values = {slot: pl.col(f"_slot_{slot}") for slot in MESSAGE_SLOTS}
    html_values = {
        slot: pl.col(f"_html_{slot}") if slot in RAW_HTML_SLOTS else html_escaped(pl.col(f"_slot_{slot}"))
        for slot in MESSAGE_SLOTS
    }
    constants_of = _message_constants(context.templates, context.policy)
    written = _fill_variants(
        frame,
        ["language", "channel", "tone", "step", "invoice_count", "overdue", "has_name", "compact"],
        {"subject": ("subject", False), "body_text": ("text", False), "body_html": ("html", True)},
        text_values,
        html_values,
        constants_of,
        context.templates,
        MESSAGE_SLOTS,
    )
    sms = pl.col("channel") == Channel.SMS
    return written.with_columns(
        pl.when(sms).then(gsm_safe(pl.col("body_text"))).otherwise(pl.col("body_text")).alias("body_text"),
        pl.when(sms).then(gsm_safe(pl.col("amount_text"))).otherwise(pl.col("amount_text")).alias("amount_text"),
    ).with_columns(
        pl.when(sms).then(sms_encoding(pl.col("body_text"))).alias("sms_encoding"),
        pl.when(sms).then(sms_segments(pl.col("body_text"))).alias("sms_segments"),
        pl.concat_str(
            [
                pl.col("language"),
                pl.lit("/"),
                pl.col("channel"),
                pl.lit(":"),
                pl.col("tone"),
                pl.lit("/"),
                pl.col("step"),
                pl.when(pl.col("compact")).then(pl.lit(" (compact)")).otherwise(pl.lit("")),
            ]
        ).alias("template"),
    )


def render_messages(messages: pl.DataFrame, lines: pl.DataFrame, context: RenderContext) -> pl.DataFrame:
    """``RENDERED_SCHEMA`` per message, ``RENDER_CHUNK`` messages at a time.

    ``messages``: outbox_id, ladder, step, tone, channel, send_on, currency, name, email, phone, locale.
    ``lines``: outbox_id, invoice_id, due_date, amount_minor, balance_minor — the invoices each message
    covers that are still owed (a message without any is not rendered).
    """
    if messages.height <= RENDER_CHUNK:
        return _render_chunk(messages, lines, context)
    chunks = messages.with_columns((pl.int_range(pl.len()) // RENDER_CHUNK).alias("_chunk"))
    owned = lines.join(chunks.select("outbox_id", "_chunk"), on="outbox_id", how="inner")
    lines_of = owned.partition_by("_chunk", as_dict=True, include_key=False)
    return pl.concat(
        [
            _render_chunk(chunk, lines_of.get(key, lines.clear()), context)
            for key, chunk in chunks.partition_by("_chunk", as_dict=True, include_key=False).items()
        ]
    ).sort("outbox_id")


def _render_chunk(messages: pl.DataFrame, lines: pl.DataFrame, context: RenderContext) -> pl.DataFrame:
    if messages.is_empty():
        return pl.DataFrame(schema=RENDERED_SCHEMA)
    policy, templates = context.policy, context.templates
    messages = messages.with_columns(pl.col("name", "email", "phone", "locale").cast(pl.String))
    frame = messages.join(_languages(messages, templates, policy.contact.default_language), on="locale", how="left")
    per_line = lines.join(
        frame.select("outbox_id", "language", "format_locale", "currency", "send_on"), on="outbox_id", how="inner"
    )
    covered = _lines(per_line, templates)
    frame = frame.join(covered, on="outbox_id", how="inner").join(_handoff_offsets(policy), on="ladder", how="left")
    pay_by = pl.max_horizontal(
        pl.col("oldest_due") + pl.duration(days=pl.col("handoff_offset").fill_null(0)),
        pl.col("send_on") + timedelta(days=PAY_WITHIN_DAYS),
    )
    frame = frame.with_columns(
        pay_by.alias("_pay_by"),
        (pl.col("oldest_due") < pl.col("send_on")).alias("overdue"),
        pl.col("name").str.strip_chars().fill_null("").alias("_slot_customer_name"),
        pl.col("first_invoice").alias("_slot_first_invoice"),
        recipient_of(pl.col("channel")).alias("recipient"),
        pl.lit(False).alias("compact"),
    ).with_columns((pl.col("_slot_customer_name") != "").alias("has_name"))
    frame = frame.with_columns(
        _amounts(frame, "amount_minor").alias("amount_text"),
        _dates(frame, "oldest_due").alias("_slot_oldest_due_date"),
        _dates(frame, "_pay_by").alias("_slot_pay_by"),
    ).with_columns(pl.col("amount_text").alias("_slot_amount"))
    frame = _links(frame, context).with_columns(
        pl.col("payment_url").alias("_slot_payment_url"),
        pl.col("unsubscribe_url").fill_null("").alias("_slot_unsubscribe_url"),
    )
    written = _write(frame, context)
    too_long = (pl.col("channel") == Channel.SMS) & (pl.col("sms_segments") > MAX_SMS_SEGMENTS)
    if written.filter(too_long).height:
        shorter = _write(written.filter(too_long).with_columns(pl.lit(True).alias("compact")), context)
        written = pl.concat([written.filter(~too_long), shorter], how="diagonal_relaxed")
    return written.select(
        [
            pl.col(c).cast(t) if c in written.columns else pl.lit(None, dtype=t).alias(c)
            for c, t in RENDERED_SCHEMA.items()
        ]
    ).sort("outbox_id")


def _amounts(frame: pl.DataFrame, column: str) -> pl.Series:
    """Amounts as the locale writes them; in SMS with the ISO code where the symbol is not GSM-7 (₹, ₩...)."""
    sms = pl.col("channel") == Channel.SMS
    return format_amounts(frame, column, "currency", "format_locale", symbol_allowed=GSM7_CHARACTERS, restricted=sms)


def _dates(frame: pl.DataFrame, column: str) -> pl.Series:
    """Long dates in emails, medium ones in SMS, each written for the message's locale."""
    style = pl.when(pl.col("channel") == Channel.EMAIL).then(pl.lit("long")).otherwise(pl.lit("medium"))
    return format_dates(frame, column, "format_locale", style).alias(column)
