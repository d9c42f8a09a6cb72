"""Why a customer gets, or does not get, a reminder today."""

from __future__ import annotations

from enum import StrEnum


class Decision(StrEnum):
    SEND = "send"
    HANDOFF = "handoff"
    SKIP = "skip"


class SkipReason(StrEnum):
    PAID = "paid"
    DISPUTED = "disputed"
    WITH_COLLECTOR = "with_collector"
    COVERED_BY_CREDIT = "covered_by_credit"
    PROMISE_PENDING = "promise_to_pay_pending"
    PAUSED = "paused_by_collector"
    NO_STEP_DUE = "no_step_due"
    QUIET_DAY = "quiet_day"
    OPTED_OUT = "opted_out"
    NO_VALID_CONTACT = "no_valid_contact"
    CAPPED_TODAY = "capped_today"
    CAPPED_WEEK = "capped_week"
    TOO_SOON = "too_soon"
    NO_SEND_WINDOW = "no_send_window"
    WINDOW_PASSED = "window_passed"


STOP_REASONS = frozenset(
    {
        SkipReason.PAID,
        SkipReason.DISPUTED,
        SkipReason.WITH_COLLECTOR,
        SkipReason.COVERED_BY_CREDIT,
        SkipReason.PROMISE_PENDING,
        SkipReason.PAUSED,
        SkipReason.OPTED_OUT,
        SkipReason.NO_VALID_CONTACT,
    }
)
"""Reasons that stop every unsent reminder of the customer, whichever day planned it."""

DESCRIPTIONS: dict[str, str] = {
    SkipReason.PAID: "every invoice open on the day has been paid since",
    SkipReason.DISPUTED: "every open invoice is disputed",
    SkipReason.WITH_COLLECTOR: "every invoice still owed is with a collector (handed over) or disputed",
    SkipReason.COVERED_BY_CREDIT: "the customer's credit (money paid beyond earlier invoices) covers what is owed: "
    "apply or refund it rather than chase",
    SkipReason.PROMISE_PENDING: "a promise to pay is pending (until its date plus grace)",
    SkipReason.PAUSED: "a collector paused the customer's reminders",
    SkipReason.NO_STEP_DUE: "no ladder step is due that has not been sent already",
    SkipReason.QUIET_DAY: "not a business day in the customer's country (weekend or public holiday)",
    SkipReason.OPTED_OUT: "opted out of every channel the step may use",
    SkipReason.NO_VALID_CONTACT: "no valid contact for any channel the step may use",
    SkipReason.CAPPED_TODAY: "already contacted today",
    SkipReason.CAPPED_WEEK: "the weekly cap of messages is reached",
    SkipReason.TOO_SOON: "the minimum interval since the last contact has not passed",
    SkipReason.NO_SEND_WINDOW: "no hour of the send window is safe in every zone the customer may be in",
    SkipReason.WINDOW_PASSED: "the day's send window is over (a past day replanned): nothing is sent late",
}
