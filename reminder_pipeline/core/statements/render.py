"""A statement of account in words: by email a table of the open invoices with the totals by currency, by SMS
a short summary, each in the customer's language and written for their locale.

Statements are few (a cycle day's customers) and each lists its own invoices, so each is rendered the
ordinary way, with real values, from the ``statement_*`` templates of its language; the columns it
produces are the reminders' (``RENDERED_SCHEMA``), so that the same checks, the same last look and
the same delivery apply. A multi-currency statement's ``amount_text`` is its totals joined (``€80.00 +
US$20.00``) and ``amount_minor`` their sum, as the ledger's balances of its invoices add up.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl

from reminder_pipeline.core.canonical import Channel
from reminder_pipeline.core.channels import recipient_of
from reminder_pipeline.core.outbox import STATEMENT_STEP
from reminder_pipeline.core.policy.config import Policy
from reminder_pipeline.core.rendering.dates import format_dates
from reminder_pipeline.core.rendering.links import LinkSigner
from reminder_pipeline.core.rendering.money import format_amounts
from reminder_pipeline.core.rendering.render import (
    MAX_SMS_SEGMENTS,
    RENDERED_SCHEMA,
    RenderContext,
    _language_of,
    _links,
)
from reminder_pipeline.core.rendering.sms import GSM7_CHARACTERS, gsm_safe, sms_encoding, sms_segments
from reminder_pipeline.core.rendering.templates import TemplateProblem, Templates

STATEMENT_TEMPLATES = (
    "statement_email_subject.txt.j2",
    "statement_email.txt.j2",
    "statement_email.html.j2",
    "statement_sms.txt.j2",
)
TOTALS_SEPARATOR = " + "


def statement_languages(templates: Templates) -> frozenset[str]:
    """The languages with every statement template."""
    return frozenset(
        language
        for language in templates.languages
        if all(templates.has(f"{language}/{name}") for name in STATEMENT_TEMPLATES)
    )


@dataclass(frozen=True)
class StatementContext:
    policy: Policy
    templates: Templates
    signer: LinkSigner
    now: datetime

    def __post_init__(self) -> None:
        default = self.policy.contact.default_language
        if default not in statement_languages(self.templates):
            raise TemplateProblem(
                f"the policy's contact.default_language '{default}' has no statement templates in "
                f"{self.templates.origin} ({', '.join(STATEMENT_TEMPLATES)})"
            )


def _formatted_lines(lines: pl.DataFrame, frame: pl.DataFrame) -> pl.DataFrame:
    """Each invoice of each statement with its dates and amounts written for the statement's locale."""
    keyed = lines.join(
        frame.select("outbox_id", "format_locale", "send_on", "channel"), on="outbox_id", how="inner"
    ).sort("outbox_id", "due_date", "invoice_id")
    days = (pl.col("send_on") - pl.col("due_date")).dt.total_days()
    style = pl.when(pl.col("channel") == Channel.EMAIL).then(pl.lit("long")).otherwise(pl.lit("medium"))
    sms = pl.col("channel") == Channel.SMS
    return keyed.with_columns(
        format_dates(keyed, "due_date", "format_locale", style).alias("due_text"),
        format_amounts(keyed, "amount_minor", "currency", "format_locale", GSM7_CHARACTERS, sms).alias("amount_text"),
        format_amounts(keyed, "balance_minor", "currency", "format_locale", GSM7_CHARACTERS, sms).alias("balance_text"),
        days.alias("days"),
    )


def _totals(lines: pl.DataFrame) -> pl.DataFrame:
    """Per statement and currency: the balance open and the part of it overdue, written for its locale."""
    sums = (
        lines.group_by("outbox_id", "currency", "format_locale", "channel")
        .agg(
            pl.col("balance_minor").sum().alias("balance_minor"),
            pl.col("balance_minor").filter(pl.col("days") > 0).sum().alias("overdue_minor"),
        )
        .sort("outbox_id", "currency")
    )
    sms = pl.col("channel") == Channel.SMS
    return sums.with_columns(
        format_amounts(sums, "balance_minor", "currency", "format_locale", GSM7_CHARACTERS, sms).alias("balance_text"),
        format_amounts(sums, "overdue_minor", "currency", "format_locale", GSM7_CHARACTERS, sms).alias("overdue_text"),
    )


def _line(row: dict[str, Any]) -> dict[str, Any]:
    days = int(row["days"])
    return {
        "invoice_id": row["invoice_id"],
        "due_date": row["due_text"],
        "amount": row["amount_text"],
        "balance": row["balance_text"],
        "partial": row["balance_minor"] < row["amount_minor"],
        "state": "overdue" if days > 0 else "due_today" if days == 0 else "not_due",
        "days": abs(days),
        "one_day": abs(days) == 1,
    }


def _courtesy(row: dict[str, Any], lines: list[dict[str, Any]], raw: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The courtesy note a statement stands for: the invoices not yet due that fall due first."""
    if row["step"] == STATEMENT_STEP:
        return None
    coming = [line for line, source in zip(lines, raw, strict=True) if source["days"] < 0]
    if not coming:
        return None
    first_due = coming[0]["due_date"]
    due_first = [line for line in coming if line["due_date"] == first_due]
    return {"invoices": [line["invoice_id"] for line in due_first], "due_date": first_due, "count": len(due_first)}


def _context(
    row: dict[str, Any], lines: list[dict[str, Any]], totals: list[dict[str, Any]], policy: Policy
) -> dict[str, Any]:
    sender = policy.sender
    formatted = [_line(line) for line in lines]
    name = (row["name"] or "").strip()
    return {
        "language": row["language"],
        "channel": row["channel"],
        "compact": row["compact"],
        "has_name": bool(name),
        "customer_name": name,
        "statement_date": row["statement_date"],
        "lines": formatted,
        "invoice_count": len(formatted),
        "overdue_count": sum(1 for line in formatted if line["state"] == "overdue"),
        "totals": [
            {
                "currency": t["currency"],
                "balance": t["balance_text"],
                "overdue": t["overdue_text"],
                "has_overdue": t["overdue_minor"] > 0,
            }
            for t in totals
        ],
        "total": TOTALS_SEPARATOR.join(t["balance_text"] for t in totals),
        "courtesy": _courtesy(row, formatted, lines),
        "payment_url": row["payment_url"],
        "unsubscribe_url": row["unsubscribe_url"] or "",
        "sender_name": sender.name,
        "sender_address": sender.address,
        "sender_email": sender.contact_email,
    }


def _write(frame: pl.DataFrame, lines: pl.DataFrame, totals: pl.DataFrame, context: StatementContext) -> pl.DataFrame:
    per_line: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for line in lines.iter_rows(named=True):
        per_line[line["outbox_id"]].append(line)
    per_total: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for total in totals.iter_rows(named=True):
        per_total[total["outbox_id"]].append(total)
    written = []
    for row in frame.iter_rows(named=True):
        values = _context(row, per_line[row["outbox_id"]], per_total[row["outbox_id"]], context.policy)
        language, email = row["language"], row["channel"] == Channel.EMAIL
        render = context.templates.render
        written.append(
            {
                "outbox_id": row["outbox_id"],
                "subject": render(f"{language}/statement_email_subject.txt.j2", False, values).strip()
                if email
                else None,
                "body_text": render(f"{language}/statement_{row['channel']}.txt.j2", False, values).strip(),
                "body_html": render(f"{language}/statement_email.html.j2", True, values) if email else None,
                "amount_text": values["total"],
                "invoice_ids": [line["invoice_id"] for line in per_line[row["outbox_id"]]],
                "template": f"{language}/{row['channel']}:statement" + (" (compact)" if row["compact"] else ""),
            }
        )
    texts = pl.DataFrame(
        written,
        schema={
            "outbox_id": pl.Int64(), "subject": pl.String(), "body_text": pl.String(), "body_html": pl.String(),
            "amount_text": pl.String(), "invoice_ids": pl.List(pl.String()), "template": pl.String(),
        },
    )  # fmt: skip
    sms = pl.col("channel") == Channel.SMS
    return (
        frame.join(texts, on="outbox_id")
        .with_columns(
            pl.when(sms).then(gsm_safe(pl.col(c))).otherwise(pl.col(c)).alias(c) for c in ("body_text", "amount_text")
        )
        .with_columns(
            pl.when(sms).then(sms_encoding(pl.col("body_text"))).alias("sms_encoding"),
            pl.when(sms).then(sms_segments(pl.col("body_text"))).alias("sms_segments"),
        )
    )


def render_statements(messages: pl.DataFrame, lines: pl.DataFrame, context: StatementContext) -> pl.DataFrame:
    """``RENDERED_SCHEMA`` per statement.

    ``messages``: outbox_id, customer_id, step, channel, business_date, send_on, currency, name, email, phone,
    locale. ``lines``: outbox_id, invoice_id, due_date, amount_minor, balance_minor, currency — the invoices
    each statement lists that are still owed (a statement without any is not rendered).
    """
    if messages.is_empty():
        return pl.DataFrame(schema=RENDERED_SCHEMA)
    available, default = statement_languages(context.templates), context.policy.contact.default_language
    messages = messages.with_columns(pl.col("name", "email", "phone", "locale").cast(pl.String))
    chosen = {loc: _language_of(loc, available, default) for loc in messages["locale"].unique().to_list()}
    frame = messages.join(lines.select("outbox_id").unique(), on="outbox_id", how="semi").with_columns(
        pl.col("locale").replace_strict({k: v[0] for k, v in chosen.items()}, return_dtype=pl.String).alias("language"),
        pl.col("locale")
        .replace_strict({k: v[1] for k, v in chosen.items()}, return_dtype=pl.String)
        .alias("format_locale"),
        recipient_of(pl.col("channel")).alias("recipient"),
        pl.lit(False).alias("compact"),
    )
    if frame.is_empty():
        return pl.DataFrame(schema=RENDERED_SCHEMA)
    style = pl.when(pl.col("channel") == Channel.EMAIL).then(pl.lit("long")).otherwise(pl.lit("medium"))
    frame = frame.with_columns(format_dates(frame, "business_date", "format_locale", style).alias("statement_date"))
    formatted = _formatted_lines(lines, frame)
    totals = _totals(formatted)
    frame = _links(frame, RenderContext(context.policy, context.templates, context.signer, context.now))
    frame = (
        frame.join(
            formatted.group_by("outbox_id").agg(pl.col("balance_minor").sum().alias("amount_minor")), on="outbox_id"
        )
        .drop("currency")
        .join(totals.group_by("outbox_id").agg(pl.col("currency").first()), on="outbox_id")
    )
    written = _write(frame, formatted, totals, context)
    too_long = (pl.col("channel") == Channel.SMS) & (pl.col("sms_segments") > MAX_SMS_SEGMENTS)
    if written.filter(too_long).height:
        base = frame.filter(pl.col("outbox_id").is_in(written.filter(too_long)["outbox_id"].implode()))
        shorter = _write(base.with_columns(pl.lit(True).alias("compact")), formatted, totals, context)
        written = pl.concat([written.filter(~too_long), shorter], how="diagonal_relaxed")
    return written.select(
        [
            pl.col(c).cast(t) if c in written.columns else pl.lit(None, dtype=t).alias(c)
            for c, t in RENDERED_SCHEMA.items()
        ]
    ).sort("outbox_id")
