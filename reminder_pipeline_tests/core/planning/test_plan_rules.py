"""The policy engine's rules, one scenario each: paid, disputed, promises, partial payments, calendars, windows."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import polars as pl
import pytest

from reminder_pipeline.config_files import load_policy
from reminder_pipeline.core.policy.config import LaterInvoices, Policy
from reminder_pipeline_tests.core.planning.scenarios import (
    DAY,
    RUN_AT,
    a_customer,
    an_invoice,
    decide,
    only,
    outbox_of,
    outbox_row,
)


def test_the_highest_step_due_goes_out_for_every_overdue_invoice_in_one_message() -> None:
    row = only(decide([an_invoice("I1", 15), an_invoice("I2", 8, balance=2_500), an_invoice("I3", -20)]))
    assert (row["decision"], row["step"], row["channel"]) == ("send", "firm_reminder", "email")
    assert row["episode_id"] == "I1"
    assert row["invoice_ids"] == ["I1", "I2"], "the invoice not yet due waits for its own ladder"
    assert row["amount_minor"] == 12_500
    assert row["superseded_steps"] == ["courtesy", "reminder", "second_reminder"]


def test_partial_payments_are_reminded_for_the_balance() -> None:
    assert only(decide([an_invoice("I1", 2, balance=3_333)]))["amount_minor"] == 3_333


def test_a_customer_who_has_paid_since_is_not_reminded() -> None:
    row = only(decide([an_invoice("I1", 15, balance=0), an_invoice("I2", 9, balance=0)]))
    assert (row["decision"], row["reason"]) == ("skip", "paid")


def test_disputed_invoices_are_left_out_and_a_fully_disputed_customer_is_skipped() -> None:
    row = only(decide([an_invoice("I1", 40), an_invoice("I2", 2)], disputed=["I1"]))
    assert (row["episode_id"], row["invoice_ids"], row["step"]) == ("I2", ["I2"], "reminder")
    row = only(decide([an_invoice("I1", 40)], disputed=["I1"]))
    assert (row["decision"], row["reason"]) == ("skip", "disputed")


def test_a_promise_to_pay_pauses_until_its_date_plus_grace_then_escalates() -> None:
    promise = {"customer_id": "C1", "promised_date": DAY - timedelta(days=2), "made_on": DAY - timedelta(9)}
    pending = only(decide([an_invoice("I1", 8)], promises=[{**promise, "status": "pending"}]))
    assert (pending["decision"], pending["reason"]) == ("skip", "promise_to_pay_pending")
    broken = {**promise, "promised_date": DAY - timedelta(days=4), "status": "pending"}
    sent_before = outbox_of(outbox_row("second_reminder", 7, DAY - timedelta(days=10)))
    row = only(decide([an_invoice("I1", 8)], promises=[broken], outbox=sent_before))
    assert (row["decision"], row["step"], row["escalated"]) == ("send", "firm_reminder", True)
    kept = only(decide([an_invoice("I1", 8)], promises=[{**promise, "status": "kept"}], outbox=sent_before))
    assert (kept["decision"], kept["reason"]) == ("skip", "no_step_due")


def test_risk_changes_the_ladder() -> None:
    high = only(decide([an_invoice("I1", 7)], risk_band="high"))
    low = only(decide([an_invoice("I1", 7)], risk_band="low"))
    assert (high["ladder"], high["step"]) == ("high_risk", "firm_reminder")
    assert (low["ladder"], low["step"]) == ("low_risk", "reminder")


def test_public_holidays_and_weekends_are_quiet_days_in_the_customers_country() -> None:
    good_friday = date(2026, 4, 3)
    invoices = [
        {**an_invoice("I1", 0), "due_date": good_friday - timedelta(days=9)},
        {**an_invoice("I2", 0, customer_id="C2"), "due_date": good_friday - timedelta(days=9)},
    ]
    customers = [a_customer("C1"), a_customer("C2", country="JP", time_zone="Asia/Tokyo", locale="ja_JP")]
    at = datetime.combine(good_friday, time(5), tzinfo=UTC)
    decisions = decide(invoices, customers, day=good_friday, now=at)
    by_customer = {r["customer_id"]: r for r in decisions.iter_rows(named=True)}
    assert by_customer["C1"]["reason"] == "quiet_day", "Good Friday is a public holiday in Germany"
    assert by_customer["C2"]["decision"] == "send", "but not in Japan"
    saturday = date(2026, 3, 14)
    row = only(decide([an_invoice("I1", 3)], day=saturday, now=datetime.combine(saturday, time(5), tzinfo=UTC)))
    assert row["reason"] == "quiet_day"


def test_a_country_can_have_its_own_working_week_window_and_quiet_days() -> None:
    base = load_policy()
    rules = base.contact.model_validate(
        {
            **base.contact.model_dump(),
            "countries": {
                "DE": {"business_days": ["mon", "wed"], "send_window": {"start": "10:00", "end": "12:00"}},
                "FR": {"quiet_days": [DAY]},
            },
        }
    )
    policy = base.model_copy(update={"contact": rules})
    customers = [a_customer("C1"), a_customer("C2", country="FR", time_zone="Europe/Paris")]
    invoices = [an_invoice("I1", 3), an_invoice("I2", 3, customer_id="C2")]
    tuesday = {r["customer_id"]: r for r in decide(invoices, customers, policy=policy).iter_rows(named=True)}
    assert tuesday["C1"]["reason"] == "quiet_day"
    assert tuesday["C2"]["reason"] == "quiet_day"
    wednesday = DAY + timedelta(days=1)
    row = decide(invoices, customers, policy=policy, day=wednesday, now=RUN_AT + timedelta(days=1)).row(0, named=True)
    assert row["decision"] == "send"
    assert row["window_start"] == datetime(2026, 3, 11, 9, 0, tzinfo=UTC), "10:00 in Berlin (CET)"
    assert row["window_end"] == datetime(2026, 3, 11, 11, 0, tzinfo=UTC)


def test_a_window_already_over_moves_to_the_next_local_day_while_the_business_day_lasts() -> None:
    chatham = a_customer("C1", country="NZ", time_zone="Pacific/Chatham", phone=None)
    still_open = only(decide([an_invoice("I1", 3)], [chatham]))
    assert still_open["send_on"] == DAY, "09:00-19:00 in Chatham (UTC+13:45) ends at 05:15 UTC"
    row = only(decide([an_invoice("I1", 3)], [chatham], now=RUN_AT + timedelta(hours=1)))
    assert row["decision"] == "send"
    assert row["send_on"] == DAY + timedelta(days=1)
    assert row["window_start"] == datetime(2026, 3, 10, 19, 15, tzinfo=UTC)
    late_replan = only(decide([an_invoice("I1", 3)], [chatham], now=RUN_AT + timedelta(days=1)))
    assert (late_replan["decision"], late_replan["reason"]) == ("skip", "window_passed")


def test_an_unknown_zone_gets_the_window_safe_in_every_zone_of_the_country() -> None:
    row = only(decide([an_invoice("I1", 3)], [a_customer(country="US", time_zone=None, phone=None)]))
    zones = row["zones"].split("|")
    assert {"America/New_York", "America/Los_Angeles", "Pacific/Honolulu"} <= set(zones)
    # 09:00 in Honolulu (UTC-10) to 19:00 in New York (EDT since 8 March)
    assert (row["window_start"], row["window_end"]) == (
        datetime(2026, 3, 10, 19, 0, tzinfo=UTC),
        datetime(2026, 3, 10, 23, 0, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"email_opt_out_at": RUN_AT, "sms_opt_out_at": RUN_AT}, "opted_out"),
        ({"email": None, "phone": None}, "no_valid_contact"),
        ({"email": None, "sms_consent": False}, "no_valid_contact"),
    ],
)
def test_no_channel_is_used_without_a_valid_consented_contact(change: dict[str, Any], reason: str) -> None:
    row = only(decide([an_invoice("I1", 2)], [a_customer(**change)]))
    assert (row["decision"], row["reason"]) == ("skip", reason)


def test_the_preferred_channel_wins_when_the_step_allows_it_and_the_fallback_otherwise() -> None:
    assert only(decide([an_invoice("I1", 2)], [a_customer(preferred_channel="sms")]))["channel"] == "sms"
    row = only(decide([an_invoice("I1", 2)], [a_customer(preferred_channel="sms", sms_opt_out_at=RUN_AT)]))
    assert row["channel"] == "email"


def test_a_hand_off_to_a_collector_is_a_task_not_a_message() -> None:
    row = only(decide([an_invoice("I1", 50)], [a_customer(email=None, phone=None)]))
    assert (row["decision"], row["step"], row["channel"]) == ("handoff", "collector", "collector")


def test_moving_between_ladders_never_repeats_a_step_already_reached() -> None:
    """Low risk sent its +3 reminder; as medium risk (standard ladder) at +6 nothing is due beyond +3 until
    +7. High risk sent its +7 firm reminder; standard's +14 firm reminder is the same step, reached: the
    next is standard's final notice at +30, sent once."""
    low_then_medium = only(
        decide(
            [an_invoice("I1", 6)],
            outbox=outbox_of(outbox_row("reminder", 3, DAY - timedelta(days=3), ladder="low_risk")),
        )
    )
    assert (low_then_medium["decision"], low_then_medium["reason"]) == ("skip", "no_step_due")
    high = outbox_of(outbox_row("firm_reminder", 7, DAY - timedelta(days=7), ladder="high_risk", channel="sms"))
    row = only(decide([an_invoice("I1", 14)], outbox=high))
    assert (row["decision"], row["reason"]) == ("skip", "no_step_due")
    row = only(decide([an_invoice("I1", 30)], outbox=high))
    assert (row["decision"], row["ladder"], row["step"], row["offset_days"]) == (
        "send",
        "standard",
        "final_notice",
        30,
    )
    assert row["superseded_steps"] == []
    again = only(
        decide(
            [an_invoice("I1", 32)],
            outbox=pl.concat(
                [high, outbox_of(outbox_row("final_notice", 30, DAY - timedelta(days=2), channel="email"))]
            ),
        )
    )
    assert (again["decision"], again["reason"]) == ("skip", "no_step_due")


def test_planning_an_earlier_day_again_counts_the_contacts_of_later_days() -> None:
    later = outbox_of(outbox_row("second_reminder", 7, DAY + timedelta(days=1)))
    row = only(decide([an_invoice("I1", 6)], outbox=later))
    assert row["decision"] == "skip"
    assert row["reason"] in ("no_step_due", "too_soon")


def test_the_days_own_unsent_plan_does_not_hide_the_step_already_reached() -> None:
    promise = {"customer_id": "C1", "promised_date": DAY - timedelta(days=5), "made_on": DAY - timedelta(days=12)}
    outbox = outbox_of(
        outbox_row("firm_reminder", 14, DAY - timedelta(days=10)),
        outbox_row("final_notice", 30, DAY, status="planned"),
    )
    row = only(decide([an_invoice("I1", 24)], promises=[{**promise, "status": "pending"}], outbox=outbox))
    assert (row["decision"], row["step"], row["escalated"]) == ("send", "final_notice", True)


def test_a_promise_kept_or_made_for_an_earlier_episode_says_nothing_about_a_new_one() -> None:
    old = {"customer_id": "C1", "promised_date": DAY - timedelta(days=55), "made_on": DAY - timedelta(days=60)}
    new_invoice = an_invoice("NEW", -3)
    row = only(decide([new_invoice], promises=[{**old, "status": "pending"}]))
    assert (row["decision"], row["step"], row["escalated"]) == ("send", "courtesy", False)
    named = {**old, "made_on": DAY - timedelta(days=10), "invoice_id": "PAID", "status": "pending"}
    row = only(decide([an_invoice("I1", 8)], promises=[named]))
    assert (row["step"], row["escalated"]) == ("second_reminder", False), "the invoice promised is no longer owed"


def test_a_customer_with_nothing_known_about_where_they_are_is_not_contacted() -> None:
    row = only(decide([an_invoice("I1", 3)], [a_customer(time_zone=None, phone=None, country=None)]))
    assert (row["decision"], row["reason"]) == ("skip", "no_send_window")


def test_a_step_reached_under_another_ladder_is_not_planned_again() -> None:
    """Standard sent its +1 reminder; re-banded low risk, whose reminder comes at +3, the episode has had its
    reminder: the next step is low risk's firm reminder at +14, not a second reminder."""
    standard = outbox_of(outbox_row("reminder", 1, DAY - timedelta(days=3)))
    row = only(decide([an_invoice("I1", 4)], outbox=standard, risk_band="low"))
    assert (row["decision"], row["reason"]) == ("skip", "no_step_due")
    row = only(decide([an_invoice("I1", 14)], outbox=standard, risk_band="low"))
    assert (row["decision"], row["ladder"], row["step"]) == ("send", "low_risk", "firm_reminder")


def test_a_new_ladder_continues_from_the_steps_reached_not_from_its_start() -> None:
    """High risk sent its courtesy (-5) and reminder (+1) by SMS; as standard at +2 the standard reminder (+1)
    is the same step, reached: nothing is due until standard's second reminder at +7."""
    high = outbox_of(
        outbox_row("courtesy", -5, DAY - timedelta(days=7), ladder="high_risk"),
        outbox_row("reminder", 1, DAY - timedelta(days=1), ladder="high_risk", channel="sms"),
    )
    row = only(decide([an_invoice("I1", 2)], outbox=high))
    assert (row["decision"], row["reason"]) == ("skip", "no_step_due")


def test_an_episode_handed_to_a_collector_is_never_handed_over_again() -> None:
    """The standard ladder handed the episode over at +45; re-banded low risk, whose hand-off is at +60, it
    gets no second collector task — nor, under a policy naming its hand-off differently, another one."""
    task = outbox_of(outbox_row("collector", 45, DAY - timedelta(days=15), channel="collector", status="task_open"))
    row = only(decide([an_invoice("I1", 60)], outbox=task, risk_band="low"))
    assert (row["decision"], row["reason"]) == ("skip", "no_step_due")
    base = load_policy()
    renamed = base.model_validate(
        {
            **base.model_dump(),
            "ladders": {
                **{name: ladder.model_dump() for name, ladder in base.ladders.items()},
                "low_risk": {
                    "steps": [
                        *[s.model_dump() for s in base.ladders["low_risk"].steps[:-1]],
                        {"name": "agency", "offset_days": 60, "action": "handoff"},
                    ]
                },
            },
        }
    )
    row = only(decide([an_invoice("I1", 60)], outbox=task, risk_band="low", policy=renamed))
    assert (row["decision"], row["reason"]) == ("skip", "no_step_due")


def test_a_customer_whose_credit_covers_what_is_owed_is_not_chased() -> None:
    """An overpayment on an earlier invoice left a credit: while it covers the overdue balance in that
    currency, the customer is not chased (a collector applies or refunds it); a smaller one does not stop it."""
    owed = [an_invoice("I1", 8, balance=10_000)]
    covered = only(decide(owed, credits=[{"customer_id": "C1", "currency": "EUR", "credit_minor": 10_000}]))
    assert (covered["decision"], covered["reason"]) == ("skip", "covered_by_credit")
    other_currency = only(decide(owed, credits=[{"customer_id": "C1", "currency": "USD", "credit_minor": 50_000}]))
    assert other_currency["decision"] == "send"
    partly = only(decide(owed, credits=[{"customer_id": "C1", "currency": "EUR", "credit_minor": 2_500}]))
    assert (partly["decision"], partly["amount_minor"]) == ("send", 10_000)


def test_a_broken_promise_does_not_escalate_an_invoice_that_is_not_yet_due() -> None:
    """A promise made while the customer's only open invoice was still current, then broken: nothing is late
    yet, so no step moves forward (a courtesy note 19 days early, 'escalated after a broken promise', was sent)."""
    promise = {"customer_id": "C1", "promised_date": DAY - timedelta(days=5), "made_on": DAY - timedelta(days=10)}
    row = only(decide([an_invoice("NEW", -19)], promises=[{**promise, "status": "pending"}]))
    assert (row["decision"], row["reason"], row["escalated"]) == ("skip", "no_step_due", False)
    due = only(decide([an_invoice("NEW", 2)], promises=[{**promise, "status": "pending"}]))
    assert (due["decision"], due["escalated"]) == ("send", True), "once overdue, the broken promise counts"


HANDED_ON = DAY - timedelta(days=15)
HANDED_OFF = outbox_of(outbox_row("collector", 45, HANDED_ON, channel="collector", status="task_open"))
"""The standard ladder handed episode I1 to a collector 15 days ago (at +45), with I2 overdue beside it."""
WITH_THE_COLLECTOR = [{"customer_id": "C1", "invoice_id": i, "business_date": HANDED_ON} for i in ("I1", "I2")]
OLD_DEBT = [an_invoice("I1", 60), an_invoice("I2", 40, balance=2_500)]


def _holding() -> Policy:
    base = load_policy()
    return base.model_copy(update={"handoff": base.handoff.model_copy(update={"later_invoices": LaterInvoices.HOLD})})


def test_invoices_billed_after_a_hand_off_are_dunned_as_their_own_episode() -> None:
    """I3, billed after the hand-off, gets its courtesy note and its reminders like any episode, for its own
    balance: the collector's I1 and I2 are neither its episode nor in its message."""
    assert load_policy().handoff.later_invoices is LaterInvoices.NEW_EPISODE, "the default"
    courtesy = only(
        decide([*OLD_DEBT, an_invoice("I3", -3, balance=700)], outbox=HANDED_OFF, handed_over=WITH_THE_COLLECTOR)
    )
    assert (courtesy["decision"], courtesy["step"], courtesy["channel"]) == ("send", "courtesy", "email")
    assert (courtesy["episode_id"], courtesy["invoice_ids"], courtesy["amount_minor"]) == ("I3", ["I3"], 700)
    later = [*OLD_DEBT, an_invoice("I3", 7, balance=700), an_invoice("I4", 2, balance=300), an_invoice("I5", -20)]
    reminder = only(decide(later, outbox=HANDED_OFF, handed_over=WITH_THE_COLLECTOR))
    assert (reminder["decision"], reminder["step"], reminder["episode_id"]) == ("send", "second_reminder", "I3")
    assert (reminder["invoice_ids"], reminder["amount_minor"]) == (["I3", "I4"], 1_000)
    paid_episode = [an_invoice("I1", 60, balance=0), OLD_DEBT[1], an_invoice("I3", 1, balance=700)]
    row = only(decide(paid_episode, outbox=HANDED_OFF, handed_over=WITH_THE_COLLECTOR))
    assert (row["episode_id"], row["invoice_ids"]) == ("I3", ["I3"]), "I2 stays the collector's until paid"
    only_theirs = only(decide(OLD_DEBT, outbox=HANDED_OFF, handed_over=WITH_THE_COLLECTOR))
    assert (only_theirs["decision"], only_theirs["reason"]) == ("skip", "with_collector")


def test_under_hold_nothing_is_planned_after_a_hand_off_while_its_episode_is_owed() -> None:
    for invoice in (an_invoice("I3", -3, balance=700), an_invoice("I3", 7, balance=700)):
        row = only(decide([*OLD_DEBT, invoice], outbox=HANDED_OFF, handed_over=WITH_THE_COLLECTOR, policy=_holding()))
        assert (row["decision"], row["reason"], row["episode_id"]) == ("skip", "no_step_due", "I1")


def test_on_the_day_of_a_hand_off_nothing_else_is_planned_for_the_customer() -> None:
    """Planned again on the day of the hand-off, the day's episode is still the one handed over."""
    today = outbox_of(outbox_row("collector", 45, DAY, channel="collector", status="task_open"))
    handed_today = [{**row, "business_date": DAY} for row in WITH_THE_COLLECTOR]
    row = only(decide([*OLD_DEBT, an_invoice("I3", -3, balance=700)], outbox=today, handed_over=handed_today))
    assert (row["decision"], row["reason"], row["episode_id"]) == ("skip", "no_step_due", "I1")


def test_a_promise_about_the_collectors_invoices_says_nothing_about_the_later_episode() -> None:
    """A collector records a promise on the invoice they hold: I3's episode, billed after the hand-off, is
    neither paused by it while pending nor escalated once it is broken."""
    later = {**an_invoice("I3", 8, balance=700), "issue_date": HANDED_ON + timedelta(days=1)}
    about_i1 = {"customer_id": "C1", "invoice_id": "I1", "made_on": DAY - timedelta(days=2), "status": "pending"}
    without = only(decide([*OLD_DEBT, later], outbox=HANDED_OFF, handed_over=WITH_THE_COLLECTOR))
    for promised in (DAY + timedelta(days=5), DAY - timedelta(days=6)):
        promise = {**about_i1, "promised_date": promised}
        row = only(decide([*OLD_DEBT, later], outbox=HANDED_OFF, handed_over=WITH_THE_COLLECTOR, promises=[promise]))
        assert (row["decision"], row["step"], row["escalated"]) == (without["decision"], without["step"], False)
    assert (without["decision"], without["episode_id"]) == ("send", "I3")
