"""An example message for people who write policies and templates: fictional data, real rendering."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
from babel import Locale, UnknownLocaleError
from babel.numbers import get_territory_currencies

from reminder_pipeline.core.policy.config import Policy, StepAction

EXAMPLE_AMOUNTS = (123_456, 45_000, 9_990, 250_000)


class PreviewError(ValueError):
    """The example asked for cannot be built (unknown ladder, step or locale)."""


def example_message(
    policy: Policy, *, locale: str, channel: str, ladder: str, step: str, invoices: int, today: date
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A message of ``step`` of ``ladder`` to a fictional customer in ``locale``, covering ``invoices`` invoices."""
    if ladder not in policy.ladders:
        raise PreviewError(f"no ladder '{ladder}' in the policy; known: {sorted(policy.ladders)}")
    found = next((s for s in policy.ladders[ladder].steps if s.name == step), None)
    if found is None or found.action is not StepAction.MESSAGE:
        names = [s.name for s in policy.ladders[ladder].steps if s.action is StepAction.MESSAGE]
        raise PreviewError(f"ladder '{ladder}' has no message step '{step}'; its message steps: {names}")
    try:
        parsed = Locale.parse(locale.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        raise PreviewError(f"unknown locale '{locale}': give a language and territory, e.g. en_GB, de_CH") from None
    currencies = get_territory_currencies(parsed.territory, today) if parsed.territory else []
    currency = currencies[0] if currencies else "EUR"
    due = today - timedelta(days=found.offset_days)
    messages = pl.DataFrame(
        {
            "outbox_id": [1],
            "customer_id": ["EXAMPLE"],
            "ladder": [ladder],
            "step": [step],
            "tone": [found.tone],
            "channel": [channel],
            "send_on": [today],
            "currency": [currency],
            "name": ["Alex Example"],
            "email": ["alex@example.com"],
            "phone": ["+15555550100"],
            "locale": [str(parsed)],
        }
    )
    lines = pl.DataFrame(
        {
            "outbox_id": [1] * invoices,
            "invoice_id": [f"INV-{1000 + n}" for n in range(invoices)],
            "due_date": [due + timedelta(days=7 * n) for n in range(invoices)],
            "amount_minor": [EXAMPLE_AMOUNTS[n % len(EXAMPLE_AMOUNTS)] for n in range(invoices)],
            "balance_minor": [
                EXAMPLE_AMOUNTS[n % len(EXAMPLE_AMOUNTS)] // (2 if n == 1 else 1) for n in range(invoices)
            ],
        }
    )
    return messages, lines
