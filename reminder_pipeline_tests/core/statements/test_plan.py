"""Who gets a statement of account on a cycle day, by which channel and when: the pure planning rules."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import polars as pl
import pytest

from reminder_pipeline.config_files import load_policy
from reminder_pipeline.core.outbox import STATEMENT_LADDER, OutboxStatus, reminder_key, statement_key, statement_keys
from reminder_pipeline.core.planning.contacts import contacts_around
from reminder_pipeline.core.policy.config import ContactRules, Policy, StatementSms
from reminder_pipeline.core.statements.plan import (
    OUTBOX_COLUMNS,
    SLOT_DAYS,
    StatementInputs,
    StatementSkip,
    plan_statements,
    within_rules,
)

DAY = date(2026, 4, 30)  # a Thursday
MORNING = datetime.combine(DAY, time(5), tzinfo=UTC)
CONTACT = {
    "name": None, "email": None, "phone": None, "country": "DE", "time_zone": "Europe/Berlin", "locale": "de_DE",
    "preferred_channel": "email", "email_opt_out_at": None, "sms_opt_out_at": None, "sms_consent": False,
    "email_refused": None, "phone_refused": None,
}  # fmt: skip


INVOICE_SCHEMA = {"invoice_id": pl.String, "customer_id": pl.String, "due_date": pl.Date, "balance_minor": pl.Int64}


def _customer(customer_id: str, **changes: Any) -> dict[str, Any]:
    return {"customer_id": customer_id, **CONTACT, "email": f"{customer_id.lower()}@example.com", **changes}


def _row(outbox_id: int, customer_id: str, send_on: date, **changes: Any) -> dict[str, Any]:
    row = {
        "outbox_id": outbox_id, "dedupe_key": f"k{outbox_id}", "customer_id": customer_id, "episode_id": "E",
        "ladder": "standard", "step": "reminder", "step_index": 1, "offset_days": 1, "tone": "friendly",
        "channel": "email", "business_date": send_on, "send_on": send_on, "status": OutboxStatus.SENT.value,
        "window_end": datetime.combine(send_on, time(17), tzinfo=UTC),
    }  # fmt: skip
    return row | changes


def _inputs(
    customers: list[dict[str, Any]],
    invoices: list[tuple[str, str, date, int]],
    rows: list[dict[str, Any]] = (),  # type: ignore[assignment]
    *,
    now: datetime = MORNING,
    disputed: tuple[str, ...] = (),
) -> StatementInputs:
    frame = pl.DataFrame(customers, infer_schema_length=None).with_columns(
        pl.col("email_opt_out_at", "sms_opt_out_at").cast(pl.Datetime("us", "UTC")),
        pl.col("name", "email", "phone", "email_refused", "phone_refused").cast(pl.String),
    )
    return StatementInputs(
        day=DAY,
        now=now,
        cycle=frame.select("customer_id"),
        open_invoices=pl.DataFrame(invoices, schema=INVOICE_SCHEMA, orient="row").with_columns(
            pl.lit("EUR").alias("currency")
        ),
        disputed=pl.DataFrame({"invoice_id": list(disputed)}, schema={"invoice_id": pl.String}),
        customers=frame,
        outbox=pl.DataFrame(list(rows), schema=OUTBOX_COLUMNS),
    )  # fmt: skip


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy()


def _decided(plan: Any) -> dict[str, dict[str, Any]]:
    return {row["customer_id"]: row for row in plan.decisions.iter_rows(named=True)}


def test_a_statement_key_is_one_per_customer_and_cycle_date_and_never_a_reminders_key() -> None:
    keys = (
        pl.DataFrame({"c": ["C1", "C|2"]}).select(statement_keys(pl.col("c"), "2026-04-30").alias("k"))["k"].to_list()
    )
    assert keys == [statement_key("C1", "2026-04-30"), statement_key("C|2", "2026-04-30")]
    assert statement_key("C1", "2026-04-30") != statement_key("C1", "2026-05-31")
    assert statement_key("C1", "2026-04-30") != reminder_key("C1", "2026-04-30", "statement", "email")
    assert statement_key("C1", "2026-04-30") not in {statement_key(c, d) for c in ("C", "C11") for d in ("2026-04-3",)}


def test_only_customers_who_owe_something_undisputed_get_one_each_by_email_else_sms(policy: Policy) -> None:
    inputs = _inputs(
        [
            _customer("C1"),
            _customer("C2", phone="+4915112345602", sms_consent=True, email_opt_out_at=MORNING),
            _customer("C3", email_opt_out_at=MORNING),
            _customer("C4"),
            _customer("C5"),
            _customer("C6", email=None, phone="+4915112345606", sms_consent=False),
        ],
        [
            ("A", "C1", DAY, 100), ("B", "C1", DAY + timedelta(30), 50), ("C", "C2", DAY, 10), ("D", "C3", DAY, 10),
            ("E", "C4", DAY, 0), ("F", "C5", DAY, 10), ("G", "C6", DAY, 10),
        ],
        disputed=("F",),
    )  # fmt: skip
    plan = plan_statements(inputs, policy)
    decided = _decided(plan)
    assert set(decided) == {"C1", "C2", "C3", "C6"}, "C4 has paid everything, C5 disputes all it owes"
    assert (decided["C1"]["channel"], decided["C1"]["reason"]) == ("email", None)
    assert (decided["C2"]["channel"], decided["C2"]["reason"]) == ("sms", None), "email opted out: the SMS summary"
    assert decided["C3"]["reason"] == StatementSkip.OPTED_OUT.value
    assert decided["C6"]["reason"] == StatementSkip.NO_VALID_CONTACT.value, "no consent to SMS"
    rows = {row["customer_id"]: row for row in plan.outbox.iter_rows(named=True)}
    assert set(rows) == {"C1", "C2"}
    assert rows["C1"]["invoice_ids"] == ["A", "B"]
    assert rows["C1"]["amount_minor"] == 150
    assert rows["C1"]["dedupe_key"] == statement_key("C1", DAY.isoformat())
    assert rows["C1"]["ladder"] == STATEMENT_LADDER
    no_sms = policy.model_copy(update={"statements": policy.statements.model_copy(update={"sms": StatementSms.NONE})})
    assert _decided(plan_statements(inputs, no_sms))["C2"]["reason"] == StatementSkip.OPTED_OUT.value


def test_it_arrives_inside_the_send_window_on_the_first_day_the_rules_of_contact_allow(policy: Policy) -> None:
    friday, saturday, monday = DAY + timedelta(1), DAY + timedelta(2), DAY + timedelta(4)
    customers = [_customer(f"C{n}") for n in range(1, 5)]
    invoices = [(f"I{n}", f"C{n}", DAY, 100) for n in range(1, 5)]
    rows = [
        _row(1, "C2", DAY),  # reminded today: three days' gap, then the weekend
        _row(2, "C3", DAY - timedelta(3)),  # reminded three days ago: today is fine
        _row(3, "C4", DAY - timedelta(2), status=OutboxStatus.CANCELLED.value),  # never went out: no contact
    ]
    decided = _decided(plan_statements(_inputs(customers, invoices, rows), policy))
    assert decided["C1"]["send_on"] == DAY
    assert decided["C1"]["window_start"] == datetime.combine(DAY, time(7), tzinfo=UTC), "09:00 in Berlin"
    assert decided["C1"]["window_end"] == datetime.combine(DAY, time(17), tzinfo=UTC), "19:00 in Berlin"
    assert decided["C2"]["send_on"] == monday
    assert decided["C3"]["send_on"] == DAY
    assert decided["C4"]["send_on"] == DAY
    late = datetime.combine(DAY, time(18), tzinfo=UTC)  # today's window is over; 1 May is a holiday in Germany
    assert _decided(plan_statements(_inputs(customers, invoices, rows, now=late), policy))["C1"]["send_on"] == monday
    in_gb = [_customer("C1", country="GB", time_zone="Europe/London"), *customers[1:]]
    assert _decided(plan_statements(_inputs(in_gb, invoices, rows, now=late), policy))["C1"]["send_on"] == friday
    after = datetime.combine(DAY + timedelta(1), time(1), tzinfo=UTC)
    over = _decided(plan_statements(_inputs(customers, invoices, rows, now=after), policy))
    assert {r["reason"] for r in over.values()} == {StatementSkip.CYCLE_DAY_OVER.value}, "nothing late from a backfill"
    assert saturday not in {r["send_on"] for r in decided.values()}


def test_no_day_within_the_week_leaves_it_unsent_with_the_reason(policy: Policy) -> None:
    busy = [_row(n, "C1", DAY + timedelta(n)) for n in range(-6, SLOT_DAYS + 3, 3)]
    decided = _decided(plan_statements(_inputs([_customer("C1")], [("I1", "C1", DAY, 100)], busy), policy))
    assert decided["C1"]["reason"] == StatementSkip.NO_DAY_ALLOWED.value


def allowed(candidate: date, others: list[date], rules: ContactRules) -> bool:
    """Whether a message may arrive on ``candidate`` besides messages on ``others``, as the statements decide it."""
    schema = {"customer_id": pl.String, "send_on": pl.Date, "channel": pl.String}
    counted = pl.DataFrame([("C", on, "email") for on in others], schema=schema, orient="row")
    target = pl.DataFrame({"customer_id": ["C"], "send_on": [candidate]})
    around = target.join(contacts_around(counted, target), on=["customer_id", "send_on"], how="left")
    return bool(around.select(within_rules(rules)).item())


def test_the_rules_of_contact_count_every_other_message_around_the_day(policy: Policy) -> None:
    rules = policy.contact
    assert allowed(DAY, [], rules)
    assert not allowed(DAY, [DAY], rules), "one message a day"
    assert not allowed(DAY, [DAY - timedelta(2)], rules), "the minimum interval"
    assert not allowed(DAY, [DAY + timedelta(2)], rules), "a message already planned after it counts too"
    assert allowed(DAY, [DAY - timedelta(3), DAY + timedelta(3)], rules)
    capped = rules.model_copy(update={"min_days_between_contacts": 0, "weekly_cap": 2})
    assert not allowed(DAY, [DAY - timedelta(1), DAY - timedelta(5)], capped), "the weekly cap"


def test_the_days_courtesy_note_not_sent_yet_is_folded_into_the_statement(policy: Policy) -> None:
    courtesy = {"tone": "courtesy", "step": "courtesy", "step_index": 0, "offset_days": -3, "episode_id": "N5"}
    rows = [
        _row(7, "C5", DAY, status=OutboxStatus.RENDERED.value, **courtesy),
        _row(8, "C6", DAY, status=OutboxStatus.SENT.value, **courtesy),  # already went out: not folded
    ]
    customers = [_customer("C5"), _customer("C6")]
    invoices = [("N5", "C5", DAY + timedelta(3), 100), ("N6", "C6", DAY + timedelta(3), 100)]
    plan = plan_statements(_inputs(customers, invoices, rows), policy)
    assert plan.folded.select("customer_id", "outbox_id", "status").rows() == [("C5", 7, OutboxStatus.CANCELLED.value)]
    rows_out = {row["customer_id"]: row for row in plan.outbox.iter_rows(named=True)}
    assert (rows_out["C5"]["episode_id"], rows_out["C5"]["step"], rows_out["C5"]["offset_days"]) == (
        "N5",
        "courtesy",
        -3,
    )
    assert rows_out["C5"]["send_on"] == DAY, "in the courtesy note's place"
    assert rows_out["C6"]["step"] == "statement"
    assert rows_out["C6"]["send_on"] > DAY, "the courtesy note went out today: the statement waits"


def test_a_statement_already_in_the_outbox_does_not_count_against_itself(policy: Policy) -> None:
    own = _row(9, "C1", DAY, dedupe_key=statement_key("C1", DAY.isoformat()), ladder=STATEMENT_LADDER,
               status=OutboxStatus.RENDERED.value)  # fmt: skip
    decided = _decided(plan_statements(_inputs([_customer("C1")], [("I1", "C1", DAY, 100)], [own]), policy))
    assert decided["C1"]["send_on"] == DAY


def test_a_customer_a_collector_paused_gets_no_statement_either(policy: Policy) -> None:
    inputs = _inputs([_customer("C1"), _customer("C2")], [("I1", "C1", DAY, 5_000), ("I2", "C2", DAY, 7_000)])
    paused = pl.DataFrame({"customer_id": ["C2"]})
    decided = _decided(plan_statements(dataclasses.replace(inputs, paused=paused), policy))
    assert decided["C1"]["reason"] is None
    assert decided["C2"]["reason"] == StatementSkip.PAUSED_BY_COLLECTOR.value
    assert _decided(plan_statements(inputs, policy))["C2"]["reason"] is None, "not paused: its statement goes"
