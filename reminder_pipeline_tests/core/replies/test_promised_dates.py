"""Promised dates relative to a fixed today: Tuesday 10 March 2026 (rules in ``calendar_rules``)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reminder_pipeline.core.replies import ReplyIntent, classify_reply

TODAY = date(2026, 3, 10)

PROMISES = [
    # English
    ("I'll pay on Friday", "2026-03-13"),
    ("will pay next friday", "2026-03-13"),
    ("I'll pay Tuesday", "2026-03-17"),
    ("paying next week", "2026-03-20"),
    ("I will pay by the end of next week", "2026-03-20"),
    ("I'll pay it by the end of the week", "2026-03-13"),
    ("I can pay 15/12", "2026-12-15"),
    ("I can pay on 4/2", "2026-04-02"),
    ("I'll pay on 12/25/2026", "2026-12-25"),
    ("I'll pay tomorrow", "2026-03-11"),
    ("i'll pay the day after tomorrow", "2026-03-12"),
    ("I will pay in two weeks", "2026-03-24"),
    ("I'll pay in 10 days", "2026-03-20"),
    ("I'll pay in a month", "2026-04-10"),
    ("I'll pay at the end of the month", "2026-03-31"),
    ("will pay early next month", "2026-04-05"),
    ("I'll pay on the 5th", "2026-04-05"),
    ("I'll pay on the 10th", "2026-03-10"),
    ("I'll pay on March 5", "2027-03-05"),
    ("I'll pay May 2nd", "2026-05-02"),
    ("I'll pay mid-April", "2026-04-15"),
    ("I'll pay today", "2026-03-10"),
    ("I paid half last Friday and I'll pay the rest on Monday", "2026-03-16"),
    # Spanish
    ("le pago el lunes", "2026-03-16"),
    ("pagaré el jueves que viene", "2026-03-12"),
    ("le pago el 15/12", "2026-12-15"),
    ("pago el 3/4", "2026-04-03"),
    ("pagaré a finales de mes", "2026-03-31"),
    ("le pago el mes que viene", "2026-04-30"),
    ("le pago mañana por la mañana", "2026-03-11"),
    ("pago pasado mañana", "2026-03-12"),
    ("le pago en dos semanas", "2026-03-24"),
    ("pagaré dentro de 5 días", "2026-03-15"),
    ("pagaré el 1 de mayo", "2026-05-01"),
    ("le pago el día 25", "2026-03-25"),
    ("le pago a finales de abril", "2026-04-30"),
    ("pagaré este fin de semana", "2026-03-15"),
    # French
    ("je paierai vendredi prochain", "2026-03-13"),
    ("je vous paie à la fin du mois", "2026-03-31"),
    ("je paierai fin avril", "2026-04-30"),
    ("je paierai le 3/4", "2026-04-03"),
    ("je paie la semaine prochaine", "2026-03-20"),
    ("je réglerai fin de la semaine prochaine", "2026-03-20"),
    ("je paierai dans quinze jours", "2026-03-24"),
    ("je paierai dans 3 semaines", "2026-03-31"),
    ("je paie après-demain", "2026-03-12"),
    ("je paierai le 1er mai", "2026-05-01"),
    ("je paierai début avril", "2026-04-05"),
    ("je paierai le 2", "2026-04-02"),
    # German
    ("Ich zahle Ende nächster Woche", "2026-03-20"),
    ("ich zahle naechsten Freitag", "2026-03-13"),
    ("Ich zahle am 3. Januar", "2027-01-03"),
    ("Ich zahle am 15.12.", "2026-12-15"),
    ("Ich zahle am 3.4.", "2026-04-03"),
    ("ich zahle uebermorgen", "2026-03-12"),
    ("Ich zahle in zwei Wochen", "2026-03-24"),
    ("Ich zahle in einer Woche", "2026-03-17"),
    ("Ich überweise Ende des Monats", "2026-03-31"),
    ("Ich überweise Ende April", "2026-04-30"),
    ("Ich zahle Anfang nächsten Monats", "2026-04-05"),
    ("Ich zahle am Wochenende", "2026-03-15"),
    ("ich zahle morgen früh", "2026-03-11"),
    ("Ich zahle am 1. Mai 2026", "2026-05-01"),
]


@pytest.mark.parametrize(("text", "promised"), PROMISES)
def test_a_promise_is_pinned_to_the_date_it_names(text: str, promised: str) -> None:
    found = classify_reply(text, TODAY)
    assert (found.intent, found.promised_date) == (ReplyIntent.PROMISE_TO_PAY, date.fromisoformat(promised))


@pytest.mark.parametrize(
    "text",
    [
        "I'll pay when I get paid",
        "pagaré cuando cobre",
        "je paierai quand je serai payé",
        "ich zahle sobald das Gehalt da ist",
    ],
)
def test_a_promise_without_a_date_has_none(text: str) -> None:
    found = classify_reply(text, TODAY)
    assert (found.intent, found.promised_date) == (ReplyIntent.PROMISE_TO_PAY, None)


@pytest.mark.parametrize(
    "text",
    [
        "I paid last Friday",
        "ya pagué el viernes pasado",
        "j'ai payé la semaine dernière",
        "habe vor einer Woche bezahlt",
    ],
)
def test_a_past_date_is_not_a_promise(text: str) -> None:
    found = classify_reply(text, TODAY)
    assert (found.intent, found.promised_date) == (ReplyIntent.PAID, None)


@pytest.mark.parametrize(
    ("text", "day_first", "promised"),
    [
        ("I'll pay on 4/5", None, "2026-04-05"),
        ("I'll pay on 4/5", True, "2026-05-04"),
        ("pago el 4/5", False, "2026-04-05"),
    ],
)
def test_the_day_month_order_is_the_language_s_unless_told(text: str, day_first: bool | None, promised: str) -> None:
    assert classify_reply(text, TODAY, day_first=day_first).promised_date == date.fromisoformat(promised)


def test_a_bare_numeric_date_in_no_known_language_is_read_day_first() -> None:
    found = classify_reply("3/4", TODAY)
    assert (found.intent, found.promised_date, found.language) == (ReplyIntent.PROMISE_TO_PAY, date(2026, 4, 3), None)


def test_29_february_is_the_next_one_there_is() -> None:
    assert classify_reply("je paie le 29 février", TODAY).promised_date == date(2028, 2, 29)


def test_a_date_a_customer_cannot_mean_is_not_read() -> None:
    assert classify_reply("I'll pay on 31/02", TODAY).promised_date is None
    assert classify_reply("I'll pay at 5.30", TODAY).promised_date is None


WITHOUT_A_YEAR = [text for text, _ in PROMISES if "2026" not in text]


@given(
    st.sampled_from([*WITHOUT_A_YEAR, "I'll pay on the 31st", "pago el 31", "am 30. zahle ich"]),
    st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)),
)
def test_a_promised_date_is_never_before_today(text: str, today: date) -> None:
    """Nor more than a year and a bit ahead: a day and month without a year are the next ones."""
    promised = classify_reply(text, today).promised_date
    assert promised is None or today <= promised <= today + timedelta(days=400)
