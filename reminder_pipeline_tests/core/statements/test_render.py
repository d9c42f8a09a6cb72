"""A statement of account in words: totals by currency, every invoice with its days overdue, the pay link, the
folded courtesy note, each language's templates, and an SMS that stays short."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import polars as pl
import pytest
from babel.numbers import format_currency

from reminder_pipeline.config_files import load_policy, load_templates
from reminder_pipeline.core.rendering.checks import message_problems
from reminder_pipeline.core.rendering.links import LinkSigner
from reminder_pipeline.core.rendering.templates import TemplateProblem, Templates
from reminder_pipeline.core.statements.render import StatementContext, render_statements, statement_languages

DAY = date(2026, 4, 30)
NOW = datetime.combine(DAY, time(7), tzinfo=UTC)
LINE_SCHEMA = {
    "outbox_id": pl.Int64, "invoice_id": pl.String, "due_date": pl.Date, "amount_minor": pl.Int64,
    "balance_minor": pl.Int64, "currency": pl.String,
}  # fmt: skip


def _message(outbox_id: int, channel: str, locale: str, **changes: Any) -> dict[str, Any]:
    return {
        "outbox_id": outbox_id, "customer_id": f"C{outbox_id}", "step": "statement", "channel": channel,
        "business_date": DAY, "send_on": DAY, "currency": "EUR", "name": f"Pat <b>{outbox_id}</b>",
        "email": f"c{outbox_id}@example.com", "phone": "+4915112345600", "locale": locale,
        "window_start": datetime.combine(DAY, time(7), tzinfo=UTC),
        "window_end": datetime.combine(DAY, time(17), tzinfo=UTC),
        "country": "DE", "time_zone": "Europe/Berlin", "email_opt_out_at": None, "sms_opt_out_at": None,
        "sms_consent": True, "email_refused": None, "phone_refused": None,
    } | changes  # fmt: skip


def _render(messages: list[dict[str, Any]], lines: list[tuple[Any, ...]]) -> pl.DataFrame:
    context = StatementContext(load_policy(), load_templates(), LinkSigner("a-test-secret-of-some-length"), NOW)
    frame = pl.DataFrame(messages, infer_schema_length=None).with_columns(
        pl.col("email_opt_out_at", "sms_opt_out_at").cast(pl.Datetime("us", "UTC")),
        pl.col("email_refused", "phone_refused").cast(pl.String),
    )
    return render_statements(frame, pl.DataFrame(lines, schema=LINE_SCHEMA, orient="row"), context)


def test_every_language_of_the_reminders_has_statement_templates() -> None:
    templates = load_templates()
    assert statement_languages(templates) == templates.languages
    assert {"en", "de", "fr", "es"} <= templates.languages


def test_an_email_statement_lists_every_invoice_and_the_totals_by_currency() -> None:
    rendered = _render(
        [_message(1, "email", "en_US")],
        [
            (1, "O1", date(2026, 4, 15), 12000, 12000, "EUR"),
            (1, "P1", date(2026, 4, 29), 5000, 2000, "EUR"),
            (1, "U1", date(2026, 5, 30), 2000, 2000, "USD"),
        ],
    ).row(0, named=True)
    eur, usd = format_currency(140, "EUR", locale="en_US"), format_currency(20, "USD", locale="en_US")
    assert rendered["amount_text"] == f"{eur} + {usd}"
    assert rendered["amount_minor"] == 16000, "the ledger's balances of its invoices added up"
    assert rendered["invoice_ids"] == ["O1", "P1", "U1"]
    text = rendered["body_text"]
    assert f"Total open: {eur} + {usd}" in text
    assert "- O1, due April 15, 2026: €120.00 (15 days overdue)" in text
    assert "- P1, due April 29, 2026: €20.00 left of €50.00 (1 day overdue)" in text
    assert "- U1, due May 30, 2026: $20.00\n" in text
    assert f"EUR: {eur} open, {format_currency(140, 'EUR', locale='en_US')} overdue" in text
    assert "USD:" not in text, "nothing overdue in dollars"
    assert rendered["payment_url"] in text
    assert rendered["unsubscribe_url"] in text
    assert rendered["unsubscribe_url"] in rendered["body_html"]
    assert "Pat &lt;b&gt;1&lt;/b&gt;" in rendered["body_html"], "the name escaped in HTML"
    assert "<td>15 days overdue</td>" in rendered["body_html"]
    assert rendered["subject"] == f"Statement of account, April 30, 2026: {eur} + {usd} open"
    assert rendered["template"] == "en/email:statement"


def test_the_folded_courtesy_note_and_the_customers_language() -> None:
    rendered = _render(
        [_message(2, "email", "es_MX", step="courtesy"), _message(3, "email", "ja_JP", step="courtesy")],
        [(2, "N2", date(2026, 5, 3), 3000, 3000, "EUR"), (3, "N3", date(2026, 5, 3), 3000, 3000, "EUR")],
    )
    spanish, default = rendered.row(0, named=True), rendered.row(1, named=True)
    assert "Un recordatorio: la factura N2 vence el 3 de mayo de 2026." in spanish["body_text"]
    assert spanish["template"] == "es/email:statement"
    assert default["template"] == "en/email:statement", "no Japanese templates: the policy's default language"
    assert "A courtesy note: invoice N3 is due on" in default["body_text"]


def test_an_sms_statement_is_a_short_summary_and_passes_every_check() -> None:
    messages = [_message(4, "sms", "de_DE"), _message(5, "email", "fr_FR")]
    lines = [(4, f"I{n}", date(2026, 4, 1 + n), 1000, 1000, "EUR") for n in range(12)]
    lines += [(5, "F1", date(2026, 4, 1), 1000, 1000, "EUR")]
    rendered = _render(messages, lines)
    sms = rendered.row(0, named=True)
    assert sms["sms_segments"] <= 2
    assert sms["subject"] is None
    assert sms["body_html"] is None
    assert "120,00 € offen" in sms["body_text"].replace("\xa0", " ")
    assert "STOP" in sms["body_text"]
    assert "I0" not in sms["body_text"], "a summary, not the list"
    balances = pl.DataFrame(lines, schema=LINE_SCHEMA, orient="row").select("invoice_id", "balance_minor")
    frame = pl.DataFrame(messages, infer_schema_length=None)
    contacts = frame.drop("window_start", "window_end").with_columns(
        pl.col("email_opt_out_at", "sms_opt_out_at").cast(pl.Datetime("us", "UTC")),
        pl.col("email_refused", "phone_refused").cast(pl.String),
    )
    outbox = frame.select("outbox_id", "customer_id", "send_on", "window_start", "window_end")
    problems = message_problems(rendered, outbox, balances, contacts.drop("outbox_id", "channel"), load_policy())
    assert problems["problems"].to_list() == [[], []]


def test_a_default_language_without_statement_templates_is_refused() -> None:
    sources = {name: text for name, text in load_templates()._sources.items() if "statement_" not in name}
    with pytest.raises(TemplateProblem, match="no statement templates"):
        StatementContext(load_policy(), Templates(sources), LinkSigner("a-test-secret-of-some-length"), NOW)
