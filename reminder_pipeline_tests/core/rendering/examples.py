"""Example messages and their invoice lines, shared by the rendering and checks tests."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import polars as pl

from reminder_pipeline.config_files import load_policy, load_templates
from reminder_pipeline.core.policy.config import Policy
from reminder_pipeline.core.rendering.links import LinkSigner
from reminder_pipeline.core.rendering.render import RenderContext
from reminder_pipeline.core.rendering.templates import Templates

SEND_ON = date(2026, 3, 10)


NOW = datetime(2026, 3, 10, 5, 0, tzinfo=UTC)


SECRET = "golden-files-secret-not-for-production"


LOCALES = {"en": "en_GB", "es": "es_ES", "fr": "fr_FR", "de": "de_DE"}


NAMES = {"en": "Olivia O'Brien & Co <Ltd>", "es": "Lucía Fernández", "fr": "Élodie Lefèvre", "de": "Jürgen Müller"}


def render_context(policy: Policy | None = None, templates: Templates | None = None) -> RenderContext:
    return RenderContext(policy or load_policy(), templates or load_templates(), LinkSigner(SECRET), NOW)


def example_message(outbox_id: int, locale: str, channel: str, step: str, tone: str, **extra: Any) -> dict[str, Any]:
    return {
        "outbox_id": outbox_id,
        "customer_id": f"C{outbox_id}",
        "ladder": "standard",
        "step": step,
        "tone": tone,
        "channel": channel,
        "send_on": SEND_ON,
        "currency": "EUR",
        "name": None,
        "email": "customer@example.com",
        "phone": "+4915112345678",
        "locale": locale,
        **extra,
    }


def example_line(outbox_id: int, invoice_id: str, due: date, amount: int, balance: int | None = None) -> dict[str, Any]:
    return {
        "outbox_id": outbox_id,
        "invoice_id": invoice_id,
        "due_date": due,
        "amount_minor": amount,
        "balance_minor": amount if balance is None else balance,
    }


def golden_set(language: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    locale, name = LOCALES[language], NAMES[language]
    messages = [
        example_message(1, locale, "email", "courtesy", "courtesy", name=name),
        example_message(2, locale, "email", "reminder", "friendly", name=name),
        example_message(3, locale, "email", "firm_reminder", "firm"),
        example_message(4, locale, "email", "final_notice", "final", name=name),
        example_message(5, locale, "sms", "reminder", "friendly"),
        example_message(6, locale, "sms", "final_notice", "final"),
    ]
    lines = [
        example_line(1, "INV-1001", date(2026, 3, 13), 45_000),
        example_line(2, "INV-0990", date(2026, 2, 28), 20_000, balance=7_550),
        example_line(2, "INV-0995", date(2026, 3, 9), 123_456),
        example_line(3, "INV-0900", date(2026, 2, 20), 99_900),
        example_line(4, "INV-0800", date(2026, 2, 1), 1_500_000),
        example_line(4, "INV-0850", date(2026, 2, 15), 250),
        example_line(5, "INV-0991", date(2026, 3, 1), 20_000),
        example_line(6, "INV-0801", date(2026, 2, 1), 1_500_000),
    ]
    return pl.DataFrame(messages), pl.DataFrame(lines)
