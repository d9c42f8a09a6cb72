"""The response model: its parameters, its dice, and the replies customers write (as the product reads them)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from reminder_pipeline.core.replies import CONFIDENT, ReplyIntent, classify_reply, keyword_command
from reminder_pipeline.simulation.behaviour import (
    BIT_NO_TEXT,
    BIT_PERSONALISED_TEXT,
    BIT_TEXT,
    Dice,
    ResponseModel,
    dispute_text,
    promise_text,
)

MODEL = ResponseModel()


def test_an_sms_weighs_twice_an_email_and_a_note_before_the_due_date_half() -> None:
    assert MODEL.effect(0.1, "sms", 0, before_due=False) == pytest.approx(0.4)
    assert MODEL.effect(0.1, "email", 0, before_due=False) == pytest.approx(0.2)
    assert MODEL.effect(0.1, "sms", 0, before_due=True) == pytest.approx(0.2)
    assert MODEL.effect(0.9, "sms", 0, before_due=False) == MODEL.max_effect
    assert ResponseModel(fatigue=0.5).effect(0.1, "sms", 2, before_due=False) == pytest.approx(0.1)


def test_the_trial_it_is_calibrated_on() -> None:
    """The Behavioural Insights Team's court-fine trial: 5 %, 23 %, 33 %."""
    assert (BIT_NO_TEXT, BIT_TEXT, BIT_PERSONALISED_TEXT) == (0.05, 0.23, 0.33)


def test_the_lag_follows_its_weights() -> None:
    dice = Dice(3)
    lags = [MODEL.lag(dice("lag", n)) for n in range(20_000)]
    shares = [lags.count(d) / len(lags) for d in range(4)]
    assert shares == pytest.approx(list(MODEL.lag_days), abs=0.02)


def test_the_dice_give_the_same_draw_for_the_same_key_and_seed_only() -> None:
    assert Dice(1)("x", "INV-1", 0) == Dice(1)("x", "INV-1", 0)
    assert Dice(1)("x", "INV-1", 0) != Dice(2)("x", "INV-1", 0)
    assert Dice(1)("x", "INV-1", 0) != Dice(1)("x", "INV-1", 1)
    draws = [Dice(5)(n) for n in range(10_000)]
    assert min(draws) >= 0.0
    assert max(draws) < 1.0
    assert sum(draws) / len(draws) == pytest.approx(0.5, abs=0.02)


@pytest.mark.parametrize("today", [date(2026, 3, 2) + timedelta(days=n) for n in range(7)])
def test_a_promise_names_a_weekday_within_six_days(today: date) -> None:
    for draw in (0.0, 0.3, 0.6, 0.999):
        promised = MODEL.promised_day(draw, today)
        assert promised.weekday() < 5
        assert today < promised <= today + timedelta(days=6)


@pytest.mark.parametrize("locale", ["en_US", "fr_FR", "de_DE", "es_MX", "ja_JP", None])
@pytest.mark.parametrize("ahead", [1, 2, 3, 4, 6])
def test_the_product_reads_a_promise_as_the_day_the_customer_meant(locale: str | None, ahead: int) -> None:
    today = date(2026, 3, 4)
    promised = today + timedelta(days=ahead)
    if promised.weekday() >= 5:
        return
    found = classify_reply(promise_text(locale, promised), today)
    assert found.intent is ReplyIntent.PROMISE_TO_PAY
    assert found.confidence >= CONFIDENT
    assert found.promised_date == promised


@pytest.mark.parametrize("locale", ["en_GB", "fr_CA", "de_DE", "es_ES", "ja_JP"])
def test_the_product_reads_a_dispute_as_a_dispute(locale: str) -> None:
    found = classify_reply(dispute_text(locale), date(2026, 3, 4))
    assert found.intent is ReplyIntent.DISPUTE
    assert found.confidence >= CONFIDENT


def test_stop_is_the_carriers_keyword() -> None:
    assert keyword_command("STOP") is not None
