"""The last look decides each claimed row from what the ledger says at the moment the send starts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from reminder_pipeline.core.delivery.last_look import CANDIDATE_SCHEMA, LastLookReason, last_look
from reminder_pipeline.core.history import PromiseStatus
from reminder_pipeline.core.planning.plan import PROMISE_SCHEMA

DAY = date(2026, 3, 10)
NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)


def _candidates(**changes: object) -> pl.DataFrame:
    row = {
        "outbox_id": 1,
        "customer_id": "A",
        "channel": "email",
        "send_on": DAY,
        "business_date": DAY,
        "window_end": NOW + timedelta(hours=6),
        "invoice_ids": ["I-1", "I-2"],
        "recipient": "anna@example.com",
        "amount_minor": 300,
    } | changes
    return pl.DataFrame([row], schema=CANDIDATE_SCHEMA)


def _contacts(**changes: object) -> pl.DataFrame:
    row = {
        "customer_id": "A",
        "email": "anna@example.com",
        "phone": "+4915112345678",
        "country": "DE",
        "time_zone": "Europe/Berlin",
        "email_opt_out_at": None,
        "sms_opt_out_at": None,
        "sms_consent": True,
        "email_refused": None,
        "phone_refused": None,
    } | changes
    schema = dict.fromkeys(row, pl.String) | {
        "email_opt_out_at": pl.Datetime("us", "UTC"),
        "sms_opt_out_at": pl.Datetime("us", "UTC"),
        "sms_consent": pl.Boolean,
    }
    return pl.DataFrame([row], schema=schema)


LINES = pl.DataFrame({"invoice_id": ["I-1", "I-2"], "balance_minor": [100, 200]})
NO_DISPUTES = pl.DataFrame({"invoice_id": []}, schema={"invoice_id": pl.String})
NO_PROMISES = pl.DataFrame(schema=PROMISE_SCHEMA)
NOBODY = pl.DataFrame(schema={"customer_id": pl.String, "send_on": pl.Date})


def _look(candidates: pl.DataFrame | None = None, **inputs: object) -> dict[str, object]:
    arguments = {
        "contacts": _contacts(),
        "lines": LINES,
        "disputed": NO_DISPUTES,
        "promises": NO_PROMISES,
        "contacted": NOBODY,
        "now": NOW,
        "today": DAY,
        "promise_grace_days": 3,
    } | inputs
    decided = last_look(candidates if candidates is not None else _candidates(), **arguments)  # type: ignore[arg-type]
    return decided.row(0, named=True)


def test_a_row_with_everything_in_order_is_sent() -> None:
    assert _look() == {"outbox_id": 1, "status": "sending", "status_reason": None}


@pytest.mark.parametrize(
    ("inputs", "status", "reason"),
    [
        ({"lines": LINES.with_columns(pl.lit(0).alias("balance_minor"))}, "cancelled", LastLookReason.PAID),
        (
            {"lines": LINES.with_columns(pl.Series("balance_minor", [100, 150]))},
            "cancelled",
            LastLookReason.AMOUNT_CHANGED,
        ),
        ({"disputed": pl.DataFrame({"invoice_id": ["I-2"]})}, "cancelled", LastLookReason.DISPUTED),
        ({"contacts": _contacts(email="anna@new.example")}, "cancelled", LastLookReason.ADDRESS_CHANGED),
        ({"now": NOW + timedelta(hours=7)}, "expired", LastLookReason.WINDOW_CLOSED),
        (
            {"contacted": pl.DataFrame({"customer_id": ["A"], "send_on": [DAY]})},
            "cancelled",
            LastLookReason.ALREADY_CONTACTED,
        ),
    ],
)
def test_what_arrived_since_rendering_stops_the_send(inputs: dict[str, object], status: str, reason: str) -> None:
    assert _look(**inputs) == {"outbox_id": 1, "status": status, "status_reason": reason}


def test_an_opt_out_or_a_refused_address_stops_the_send_with_the_channel_named() -> None:
    opted = _look(contacts=_contacts(email_opt_out_at=NOW - timedelta(minutes=1)))
    refused = _look(contacts=_contacts(email_refused="anna@example.com"))
    assert (opted["status"], opted["status_reason"]) == ("cancelled", "the customer opted out of email")
    assert refused["status"] == "cancelled"
    assert "refused" in str(refused["status_reason"])


def test_a_refused_address_no_longer_counts_once_the_customer_changed_it() -> None:
    row = _candidates(recipient="anna@new.example")
    assert (
        _look(row, contacts=_contacts(email="anna@new.example", email_refused="anna@example.com"))["status"]
        == "sending"
    )


def test_a_promise_made_since_planning_holds_the_send_and_an_older_or_lapsed_one_does_not() -> None:
    def promise(made_on: date, promised: date, invoice: str | None = None) -> pl.DataFrame:
        row = {
            "customer_id": "A",
            "invoice_id": invoice,
            "promised_date": promised,
            "made_on": made_on,
            "status": "pending",
        }
        return pl.DataFrame([row], schema=PROMISE_SCHEMA)

    assert _look(promises=promise(DAY, DAY + timedelta(days=5)))["status_reason"] == LastLookReason.PROMISE
    assert _look(promises=promise(DAY, DAY + timedelta(days=5), "I-2"))["status_reason"] == LastLookReason.PROMISE
    assert _look(promises=promise(DAY, DAY + timedelta(days=5), "OTHER"))["status"] == "sending"
    assert _look(promises=promise(DAY - timedelta(days=1), DAY + timedelta(days=5)))["status"] == "sending"
    assert _look(promises=promise(DAY, DAY - timedelta(days=4)))["status"] == "sending"


@pytest.mark.parametrize(
    ("status", "holds"),
    [
        (PromiseStatus.PENDING, True),
        (PromiseStatus.KEPT, False),
        (PromiseStatus.CANCELLED, False),
        (PromiseStatus.BROKEN, False),
    ],
)
def test_only_a_pending_promise_holds_the_send(status: PromiseStatus, holds: bool) -> None:
    row = {"customer_id": "A", "invoice_id": None, "promised_date": DAY + timedelta(days=5), "made_on": DAY}
    looked = _look(promises=pl.DataFrame([{**row, "status": status.value}], schema=PROMISE_SCHEMA))
    assert (looked["status_reason"] == LastLookReason.PROMISE) is holds
    assert looked["status"] == ("cancelled" if holds else "sending")


def test_two_rows_for_one_customer_on_one_day_send_only_the_first() -> None:
    rows = pl.concat([_candidates(), _candidates(outbox_id=2, channel="sms", recipient="+4915112345678")])
    decided = last_look(
        rows,
        contacts=_contacts(),
        lines=LINES,
        disputed=NO_DISPUTES,
        promises=NO_PROMISES,
        contacted=NOBODY,
        now=NOW,
        today=DAY,
        promise_grace_days=3,
    ).sort("outbox_id")
    assert decided["status"].to_list() == ["sending", "cancelled"]
    assert decided["status_reason"][1] == LastLookReason.ALREADY_CONTACTED


def test_a_customer_who_moved_to_a_zone_where_it_is_night_now_is_not_sent() -> None:
    moved = _look(contacts=_contacts(time_zone="America/Los_Angeles", country="US"))  # 04:00 there
    assert (moved["status"], moved["status_reason"]) == ("cancelled", LastLookReason.QUIET_HOURS_NOW)
    unknown_zone = _look(contacts=_contacts(time_zone=None, country="US", phone=None))  # every US zone
    assert unknown_zone["status_reason"] == LastLookReason.QUIET_HOURS_NOW


def test_a_second_row_still_goes_when_the_first_of_the_day_was_stopped_for_another_reason() -> None:
    rows = pl.concat([_candidates(), _candidates(outbox_id=2, channel="sms", recipient="+4915112345678")])
    decided = last_look(
        rows,
        contacts=_contacts(email_opt_out_at=NOW),
        lines=LINES,
        disputed=NO_DISPUTES,
        promises=NO_PROMISES,
        contacted=NOBODY,
        now=NOW,
        today=DAY,
        promise_grace_days=3,
    ).sort("outbox_id")
    assert decided["status"].to_list() == ["cancelled", "sending"]
