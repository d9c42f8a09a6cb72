"""Rendered messages: golden files per language (reviewed by eye once), and the rendering rules.

Set ``UPDATE_GOLDEN=1`` to rewrite the golden files after a deliberate change, then read the diff.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from reminder_pipeline.config_files import TEMPLATES, load_policy, load_templates
from reminder_pipeline.core.rendering.links import PAYMENT, LinkSigner
from reminder_pipeline.core.rendering.render import render_messages
from reminder_pipeline.core.rendering.templates import TemplateProblem
from reminder_pipeline.core.rendering.triage import triage
from reminder_pipeline_tests.core.rendering.examples import (
    LOCALES,
    NOW,
    SECRET,
    SEND_ON,
    example_line,
    example_message,
    golden_set,
    render_context,
)

GOLDEN = Path(__file__).parent / "golden"


def _as_text(rendered: pl.DataFrame) -> str:
    blocks = []
    for row in rendered.iter_rows(named=True):
        header = f"=== {row['template']} | {row['locale']} | {row['recipient']}"
        if row["channel"] == "sms":
            header += f" | {row['sms_encoding']}, {row['sms_segments']} part(s)"
        parts = [header]
        if row["subject"] is not None:
            parts.append(f"Subject: {row['subject']}")
        parts.append(row["body_text"])
        if row["body_html"] is not None:
            parts += ["--- html", row["body_html"]]
        blocks.append("\n".join(parts))
    return "\n\n".join(blocks) + "\n"


@pytest.mark.parametrize("language", sorted(LOCALES))
def test_messages_match_the_golden_files(language: str) -> None:
    messages, lines = golden_set(language)
    text = _as_text(render_messages(messages, lines, render_context()))
    path = GOLDEN / f"{language}.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), f"rendered {language} messages differ from {path} (UPDATE_GOLDEN=1 to rewrite)"


def test_every_message_states_the_balance_owed_and_a_link_that_verifies() -> None:
    messages, lines = golden_set("de")
    rendered = render_messages(messages, lines, render_context())
    by_id = {r["outbox_id"]: r for r in rendered.iter_rows(named=True)}
    assert by_id[2]["amount_minor"] == 7_550 + 123_456, "a partial payment leaves its balance to remind for"
    assert by_id[2]["amount_text"] == "1.310,06\xa0€"
    assert by_id[2]["invoice_ids"] == ["INV-0990", "INV-0995"], "oldest first"
    signer = LinkSigner(SECRET)
    for row in by_id.values():
        assert row["amount_text"] in row["body_text"]
        token = row["payment_url"].removeprefix(load_policy().links.payment_url)
        assert signer.verify(token, PAYMENT, date(2026, 4, 9)) == row["outbox_id"]
        assert row["links_expire_on"] == date(2026, 4, 9)


def test_html_bodies_escape_names_and_text_bodies_keep_them() -> None:
    messages, lines = golden_set("en")
    row = render_messages(messages, lines, render_context()).filter(pl.col("outbox_id") == 2).row(0, named=True)
    assert "Olivia O'Brien & Co <Ltd>" in row["body_text"]
    assert "Olivia O&#39;Brien &amp; Co &lt;Ltd&gt;" in row["body_html"]
    assert "<Ltd>" not in row["body_html"]


def test_a_customer_without_a_language_of_its_own_gets_the_default_written_for_its_locale() -> None:
    message = example_message(1, "ja_JP", "email", "reminder", "friendly", currency="JPY")
    rendered = render_messages(
        pl.DataFrame([message]), pl.DataFrame([example_line(1, "J-1", date(2026, 3, 1), 5_000)]), render_context()
    ).row(0, named=True)
    assert rendered["template"].startswith("en/")
    assert "¥5,000" in rendered["body_text"]


def test_a_default_language_without_templates_is_refused_before_anything_is_written() -> None:
    """Issue 8: the default language is every other language's fallback, so it must have templates."""
    policy = load_policy()
    portuguese = policy.model_copy(update={"contact": policy.contact.model_copy(update={"default_language": "pt"})})
    with pytest.raises(TemplateProblem, match=r"contact\.default_language 'pt' has no templates in .*de, en, es, fr"):
        render_context(portuguese)


def test_an_sms_too_long_for_two_parts_is_written_in_its_compact_form() -> None:
    policy = load_policy()
    long_sender = policy.model_copy(update={"sender": policy.sender.model_copy(update={"name": "Sender " * 26})})
    message = example_message(1, "en_GB", "sms", "reminder", "friendly")
    line = example_line(1, "INV-1", date(2026, 3, 1), 5_000)
    normal = render_messages(pl.DataFrame([message]), pl.DataFrame([line]), render_context()).row(0, named=True)
    shorter = render_messages(pl.DataFrame([message]), pl.DataFrame([line]), render_context(long_sender)).row(
        0, named=True
    )
    assert "(compact)" not in normal["template"]
    assert shorter["template"].endswith("(compact)")
    assert shorter["sms_segments"] == 2
    assert len(shorter["body_text"]) > 160


def test_sms_amounts_and_dates_stay_within_gsm7() -> None:
    message = example_message(1, "fr_FR", "sms", "firm_reminder", "firm")
    rendered = render_messages(
        pl.DataFrame([message]), pl.DataFrame([example_line(1, "F-1", date(2026, 2, 1), 1_234_567)]), render_context()
    ).row(0, named=True)
    assert "12 345,67 €" in rendered["body_text"], "narrow and non-breaking spaces become plain spaces"
    assert rendered["sms_encoding"] == "GSM-7"
    inr = example_message(2, "en_IN", "sms", "firm_reminder", "firm", currency="INR")
    rendered = render_messages(
        pl.DataFrame([inr]), pl.DataFrame([example_line(2, "I-1", date(2026, 2, 1), 3_341_253)]), render_context()
    ).row(0, named=True)
    assert "INR 33,412.53" in rendered["body_text"]
    assert rendered["sms_encoding"] == "GSM-7"


def test_a_template_that_changes_a_value_is_caught_before_anything_is_written(tmp_path: Path) -> None:
    import shutil

    folder = tmp_path / "templates"
    shutil.copytree(TEMPLATES, folder)
    firm = folder / "en" / "tones" / "firm.j2"
    firm.write_text(
        firm.read_text().replace("Payment overdue: {{ amount }}", "Payment overdue: {{ amount|replace('£', 'GBP ') }}")
    )
    message = example_message(1, "en_GB", "email", "firm_reminder", "firm", currency="GBP")
    with pytest.raises(TemplateProblem, match=r"en/(tones/firm|email_subject)"):
        render_messages(
            pl.DataFrame([message]),
            pl.DataFrame([example_line(1, "INV-1", date(2026, 2, 1), 5_000)]),
            render_context(templates=load_templates(folder)),
        )


def test_triage_cancels_what_is_paid_or_unreachable_and_keeps_the_rest() -> None:
    messages = pl.DataFrame(
        [
            {"outbox_id": 1, "customer_id": "A", "channel": "email", "invoice_ids": ["I1"]},
            {"outbox_id": 2, "customer_id": "B", "channel": "email", "invoice_ids": ["I2", "I3"]},
            {"outbox_id": 3, "customer_id": "C", "channel": "sms", "invoice_ids": ["I4"]},
            {"outbox_id": 4, "customer_id": "D", "channel": "email", "invoice_ids": ["I5"]},
        ]
    )
    lines = pl.DataFrame(
        {
            "invoice_id": ["I1", "I2", "I3", "I4", "I5"],
            "due_date": [SEND_ON] * 5,
            "amount_minor": [100] * 5,
            "balance_minor": [0, 0, 40, 100, 100],
        }
    )
    utc = pl.Datetime("us", "UTC")
    contacts = pl.DataFrame(
        {
            "customer_id": ["A", "B", "C", "D"],
            "email": ["a@x.io", "b@x.io", None, "d@x.io"],
            "phone": [None, None, "+4915112345678", None],
            "email_opt_out_at": [None, None, None, NOW],
            "sms_opt_out_at": [None, None, None, None],
            "sms_consent": [None, None, False, None],
        },
        schema_overrides={"email_opt_out_at": utc, "sms_opt_out_at": utc},
    )
    keep, owed, cancelled = triage(messages, lines, contacts, pl.DataFrame({"invoice_id": ["I3"]}))
    reasons = dict(cancelled.iter_rows())
    assert keep.height == 0
    assert owed.height == 0
    assert "nothing is owed" in reasons[1]
    assert "nothing is owed" in reasons[2], "I2 is paid and I3 is disputed"
    assert "consented to SMS" in reasons[3]
    assert "opted out of email" in reasons[4]
