"""Free-text replies: negations, opt-outs in words, confidence, language (new phrases, not the labelled set)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reminder_pipeline.core.replies import CONFIDENT, ReplyIntent, classify_reply

TODAY = date(2026, 3, 10)


def _intent(text: str) -> ReplyIntent:
    return classify_reply(text, TODAY).intent


@pytest.mark.parametrize(
    "text",
    [
        "I have NOT paid",
        "i havent paid it yet",
        "I didn't pay yet, sorry",
        "no he pagado todavía",
        "Todavía no lo he pagado",
        "je n'ai pas encore réglé",
        "pas encore payé désolé",
        "Ich habe es noch nicht bezahlt",
        "noch nicht überwiesen",
    ],
)
def test_not_paid_is_never_paid(text: str) -> None:
    assert _intent(text) is not ReplyIntent.PAID


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("I haven't paid but I will on Monday", ReplyIntent.PROMISE_TO_PAY),
        ("no he pagado porque nunca recibí el producto", ReplyIntent.DISPUTE),
        ("je n'ai pas payé car le montant est faux", ReplyIntent.DISPUTE),
        ("Ich habe nicht bezahlt, weil ich nie etwas bestellt habe", ReplyIntent.DISPUTE),
    ],
)
def test_a_negation_leaves_the_rest_of_the_reply_its_meaning(text: str, intent: ReplyIntent) -> None:
    assert _intent(text) is intent


@pytest.mark.parametrize(
    "text",
    [
        "please stop texting me",
        "Don't text me again",
        "take me off your list",
        "no me escriban más",
        "por favor dejen de mandarme mensajes",
        "merci de ne plus m'envoyer de SMS",
        "ne m'écrivez plus",
        "bitte keine Nachrichten mehr",
        "schreiben Sie mir nicht mehr",
    ],
)
def test_an_opt_out_in_words(text: str) -> None:
    found = classify_reply(text, TODAY)
    assert (found.intent, found.confidence >= CONFIDENT) == (ReplyIntent.OPT_OUT, True)


@pytest.mark.parametrize(
    "text",
    [
        "you can text me again",
        "quiero volver a recibir sus mensajes",
        "je veux recevoir à nouveau vos SMS",
        "ich möchte wieder Nachrichten bekommen",
    ],
)
def test_an_opt_in_in_words(text: str) -> None:
    assert _intent(text) is ReplyIntent.OPT_IN


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("already paid it on Monday", ReplyIntent.PAID),
        ("ya le hice la transferencia", ReplyIntent.PAID),
        ("j'ai réglé par carte hier", ReplyIntent.PAID),
        ("habe gestern überwiesen", ReplyIntent.PAID),
        ("that charge is wrong", ReplyIntent.DISPUTE),
        ("el cobro es indebido", ReplyIntent.DISPUTE),
        ("je conteste le montant", ReplyIntent.DISPUTE),
        ("die Rechnung ist fehlerhaft", ReplyIntent.DISPUTE),
        ("could someone phone me?", ReplyIntent.CALL_REQUEST),
        ("¿me pueden llamar?", ReplyIntent.CALL_REQUEST),
        ("rappelez-moi", ReplyIntent.CALL_REQUEST),
        ("rufen Sie mich bitte an", ReplyIntent.CALL_REQUEST),
        ("what is this about?", ReplyIntent.HELP),
        ("¿de qué se trata?", ReplyIntent.HELP),
        ("qui êtes-vous ?", ReplyIntent.HELP),
        ("worum geht es?", ReplyIntent.HELP),
    ],
)
def test_the_other_intents(text: str, intent: ReplyIntent) -> None:
    assert _intent(text) is intent


@pytest.mark.parametrize("text", ["hmm", "the weather is nice", "asdfgh", "¿?", "12345", "🙂🙂"])
def test_unclear_text_is_other_with_a_confidence_below_the_threshold(text: str) -> None:
    found = classify_reply(text, TODAY)
    assert found.intent is ReplyIntent.OTHER
    assert found.confidence < CONFIDENT


@pytest.mark.parametrize("text", ["I paid already but I will pay the rest on Friday", "ya pagué pero es un error"])
def test_contradicting_statements_are_not_confident(text: str) -> None:
    assert classify_reply(text, TODAY).confidence < CONFIDENT


def test_a_blank_reply_is_other_with_no_confidence() -> None:
    found = classify_reply("   ", TODAY)
    assert (found.intent, found.confidence, found.language) == (ReplyIntent.OTHER, 0.0, None)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("I will pay on Friday", "en"),
        ("le pago el viernes", "es"),
        ("je paie vendredi", "fr"),
        ("ich zahle am Freitag", "de"),
        ("Mañana", "es"),
        ("übermorgen", "de"),
        ("ok 👍", None),
    ],
)
def test_the_language_is_said_when_the_text_shows_it(text: str, language: str | None) -> None:
    assert classify_reply(text, TODAY).language == language


def test_confidence_is_between_0_and_1() -> None:
    for text in (
        "paid",
        "PAID PAID PAID already paid, paid it, have paid",
        "stop texting me, don't text me, unsubscribe",
    ):
        assert 0.0 <= classify_reply(text, TODAY).confidence <= 1.0


@given(st.text(max_size=300), st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)))
def test_any_text_gets_a_well_formed_answer(text: str, today: date) -> None:
    found = classify_reply(text, today)
    assert isinstance(found.intent, ReplyIntent)
    assert 0.0 <= found.confidence <= 1.0
    assert found.promised_date is None or (found.intent is ReplyIntent.PROMISE_TO_PAY and found.promised_date >= today)
    assert found.language in {None, "en", "es", "fr", "de"}


def test_only_the_start_of_a_long_reply_is_read() -> None:
    long_email = "I already paid this last week. " + "Lorem ipsum dolor sit amet. " * 2000 + "I will pay on Friday"
    assert _intent(long_email) is ReplyIntent.PAID
