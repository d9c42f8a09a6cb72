"""The audit can fail: a duplicate, a send in quiet hours, after a payment, after an opt-out, over the cap, a
stale step after the catch-up, and lost rows, planted in a copy of a simulation's ledger or provider log,
are each counted (the untouched copy counts none)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from reminder_pipeline.config_files import load_policy
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.simulation.audit import audit
from reminder_pipeline.simulation.audit_tables import Calendar
from reminder_pipeline_tests.simulation.conftest import Run

Messages = list[dict[str, Any]]


def _audit(
    run: Run,
    tmp_path: Path,
    ledger_change: Callable[[sqlite3.Connection], None] | None = None,
    log_change: Callable[[Messages, sqlite3.Connection], None] | None = None,
    folder_change: Callable[[Path], None] | None = None,
) -> dict[str, Any]:
    """The audit of a copy of ``run``'s folder, changed first."""
    copy = tmp_path / "copy"
    shutil.copytree(run.workdir, copy)
    messages = run.messages()
    with sqlite3.connect(copy / "ledger.sqlite") as connection:
        if ledger_change:
            ledger_change(connection)
        if log_change:
            log_change(messages, connection)
    if folder_change:
        folder_change(copy)
    result, calendar = run.result, run.result["calendar"]
    dates = Calendar(
        date.fromisoformat(result["first_day"]),
        date.fromisoformat(result["last_day"]),
        tuple(date.fromisoformat(d) for d in result["faults"]["outage"]),
        datetime.fromisoformat(calendar["last_plan_at"]),
        datetime.fromisoformat(calendar["last_delivery_at"]),
    )
    ledger = Ledger(f"sqlite:///{copy / 'ledger.sqlite'}")
    try:
        return audit(ledger, messages, load_policy(None), dates, copy)
    finally:
        ledger.dispose()


def _row(connection: sqlite3.Connection, query: str, *args: object) -> tuple[Any, ...]:
    found = connection.execute(query, args).fetchone()
    assert found is not None, query
    return tuple(found)


def test_the_untouched_copy_counts_nothing(faulty_run: Run, tmp_path: Path) -> None:
    assert _audit(faulty_run, tmp_path)["counters"] == faulty_run.counters


def test_a_message_accepted_twice_is_a_duplicate(faulty_run: Run, tmp_path: Path) -> None:
    counters = _audit(faulty_run, tmp_path, log_change=lambda m, _: m.append(dict(m[0])))["counters"]
    assert counters["duplicates"] == 1


def test_a_message_at_three_in_the_morning_is_in_quiet_hours(faulty_run: Run, tmp_path: Path) -> None:
    def night(messages: Messages, connection: sqlite3.Connection) -> None:
        key, zone = _row(
            connection,
            "SELECT o.dedupe_key, c.time_zone FROM outbox o JOIN customers c USING (customer_id) "
            "WHERE o.provider_id IS NOT NULL AND c.time_zone IS NOT NULL LIMIT 1",
        )
        message = next(m for m in messages if m["reminder_key"] == key)
        local = datetime.fromisoformat(message["accepted_at"]).astimezone(ZoneInfo(zone))
        message["accepted_at"] = local.replace(hour=3).isoformat()

    assert _audit(faulty_run, tmp_path, log_change=night)["counters"]["sent_in_quiet_hours"] == 1


def test_a_message_after_its_invoice_was_paid_is_counted(faulty_run: Run, tmp_path: Path) -> None:
    def after_payment(messages: Messages, connection: sqlite3.Connection) -> None:
        key, _invoice_ids, received = _row(
            connection,
            "SELECT o.dedupe_key, o.invoice_ids, max(e.received_at) FROM outbox o "
            "JOIN payments p ON o.invoice_ids = '[\"' || p.invoice_id || '\"]' "
            "JOIN inbound_events e ON e.source = 'payment' AND e.dedupe_key = p.payment_id "
            "JOIN invoices i ON i.invoice_id = p.invoice_id "
            "WHERE o.provider_id IS NOT NULL GROUP BY o.dedupe_key "
            "HAVING sum(p.amount_minor) >= max(i.amount_minor) LIMIT 1",
        )
        message = next(m for m in messages if m["reminder_key"] == key)
        paid = datetime.fromisoformat(received).replace(tzinfo=ZoneInfo("UTC"))
        message["accepted_at"] = (paid + timedelta(minutes=1)).isoformat()

    assert _audit(faulty_run, tmp_path, log_change=after_payment)["counters"]["sent_after_payment"] == 1


def test_a_message_after_the_opt_out_is_counted(faulty_run: Run, tmp_path: Path) -> None:
    def opted_out(connection: sqlite3.Connection) -> None:
        customer, _sent_at = _row(
            connection,
            "SELECT customer_id, min(sent_at) FROM outbox WHERE provider_id IS NOT NULL AND channel = 'sms' "
            "AND customer_id IN (SELECT customer_id FROM customers WHERE sms_opt_out_at IS NULL) "
            "GROUP BY customer_id LIMIT 1",
        )
        connection.execute(
            "UPDATE customers SET sms_opt_out_at = '2000-01-01 00:00:00' WHERE customer_id = ?", (customer,)
        )

    assert _audit(faulty_run, tmp_path, ledger_change=opted_out)["counters"]["sent_after_opt_out"] >= 1


def test_two_messages_on_one_local_day_are_over_the_cap(faulty_run: Run, tmp_path: Path) -> None:
    def same_day(messages: Messages, connection: sqlite3.Connection) -> None:
        customer = _row(
            connection,
            "SELECT customer_id FROM outbox WHERE provider_id IS NOT NULL AND status = 'delivered' "
            "GROUP BY customer_id HAVING count(*) >= 2 LIMIT 1",
        )[0]
        keys = {r[0] for r in connection.execute("SELECT dedupe_key FROM outbox WHERE customer_id = ?", (customer,))}
        first, second = sorted((m for m in messages if m["reminder_key"] in keys), key=lambda m: m["accepted_at"])[:2]
        second["accepted_at"] = (datetime.fromisoformat(first["accepted_at"]) + timedelta(minutes=1)).isoformat()

    assert _audit(faulty_run, tmp_path, log_change=same_day)["counters"]["over_cap"] >= 1


def test_a_superseded_step_on_the_catch_up_day_is_stale(faulty_run: Run, tmp_path: Path) -> None:
    catch_up = faulty_run.result["audit"]["stale_after_catch_up"]["catch_up_day"]

    def stale(connection: sqlite3.Connection) -> None:
        outbox_id = _row(
            connection,
            "SELECT outbox_id FROM outbox WHERE business_date = ? AND provider_id IS NOT NULL "
            "AND step_index > 0 LIMIT 1",
            catch_up,
        )[0]
        connection.execute("UPDATE outbox SET step_index = step_index - 1 WHERE outbox_id = ?", (outbox_id,))

    audited = _audit(faulty_run, tmp_path, ledger_change=stale)
    assert audited["details"]["stale_after_catch_up"]["superseded"] == 1
    assert audited["counters"]["stale_after_catch_up"] == 1


@pytest.mark.parametrize(
    ("kind", "change"),
    [
        (
            "customer_days_without_decision",
            "DELETE FROM reminder_decisions WHERE decision_id = (SELECT min(decision_id) FROM reminder_decisions "
            "WHERE business_date = (SELECT max(business_date) FROM reminder_decisions))",
        ),
        (
            "reminders_ending_nowhere",
            "UPDATE outbox SET status = 'rendered' "
            "WHERE outbox_id = (SELECT min(outbox_id) FROM outbox WHERE status IN ('expired', 'cancelled'))",
        ),
        (
            "ledger_sends_the_provider_never_got",
            "UPDATE outbox SET provider_id = 'SMnever', status = 'sent' WHERE outbox_id = "
            "(SELECT min(outbox_id) FROM outbox WHERE status = 'cancelled')",
        ),
        (
            "drop_rows_unaccounted",
            "DELETE FROM ingest_batches WHERE batch_id = (SELECT max(batch_id) FROM ingest_batches)",
        ),
        (
            "decided_sends_without_reminder",
            "DELETE FROM outbox WHERE outbox_id = (SELECT min(outbox_id) FROM outbox "
            "WHERE status IN ('expired', 'cancelled') AND channel != 'collector')",
        ),
    ],
)
def test_a_lost_row_planted_in_the_ledger_is_counted(faulty_run: Run, tmp_path: Path, kind: str, change: str) -> None:
    audited = _audit(faulty_run, tmp_path, ledger_change=lambda c: c.execute(change).rowcount or pytest.fail(change))
    assert audited["details"]["lost_rows"][kind] >= 1
    assert audited["counters"]["lost_rows"] >= 1


def test_an_acknowledged_payment_the_ledger_never_got_is_lost(faulty_run: Run, tmp_path: Path) -> None:
    def forget(folder: Path) -> None:
        with (folder / "payments_posted.jsonl").open("a") as journal:
            journal.write(json.dumps({"payment_id": "SIM-NEVER-1", "invoice_id": "INV-1", "paid_at": "x"}) + "\n")

    audited = _audit(faulty_run, tmp_path, folder_change=forget)
    assert audited["details"]["lost_rows"]["payments_unaccounted"] == 1


def _a_customer_reached_on_the_catch_up_day_and_later(connection: sqlite3.Connection, catch_up: str) -> tuple[str, str]:
    """The reminder keys of a ladder step planned on the catch-up day and of a later one to the same customer,
    both delivered."""
    first, later = _row(
        connection,
        "SELECT a.dedupe_key, b.dedupe_key FROM outbox a JOIN outbox b ON b.customer_id = a.customer_id "
        "AND b.business_date > a.business_date WHERE a.business_date = ? AND a.ladder != 'statement' "
        "AND b.ladder != 'statement' AND a.status = 'delivered' AND b.status = 'delivered' "
        "ORDER BY a.outbox_id, b.outbox_id LIMIT 1",
        catch_up,
    )
    return str(first), str(later)


def test_a_second_message_reaching_a_customer_on_the_catch_up_day_is_a_burst(faulty_run: Run, tmp_path: Path) -> None:
    catch_up = faulty_run.result["audit"]["stale_after_catch_up"]["catch_up_day"]

    def also_that_day(messages: Messages, connection: sqlite3.Connection) -> None:
        first, later = _a_customer_reached_on_the_catch_up_day_and_later(connection, catch_up)
        at = datetime.fromisoformat(next(m["accepted_at"] for m in messages if m["reminder_key"] == first))
        next(m for m in messages if m["reminder_key"] == later)["accepted_at"] = (at + timedelta(hours=1)).isoformat()

    audited = _audit(faulty_run, tmp_path, log_change=also_that_day)
    assert audited["details"]["stale_after_catch_up"]["burst"] == 1
    assert audited["counters"]["stale_after_catch_up"] >= 1


def test_two_steps_the_catch_up_planned_for_one_customer_are_a_burst_whatever_day_each_went(
    faulty_run: Run, tmp_path: Path
) -> None:
    """The catch-up's plan chased one customer twice: the day's cap spread the two over two days, the burst stays
    (a statement of the same day is no such step: it is planned by the billing cycle)."""
    catch_up = faulty_run.result["audit"]["stale_after_catch_up"]["catch_up_day"]

    def planned_twice(connection: sqlite3.Connection) -> None:
        _, later = _a_customer_reached_on_the_catch_up_day_and_later(connection, catch_up)
        connection.execute("UPDATE outbox SET business_date = ? WHERE dedupe_key = ?", (catch_up, later))

    audited = _audit(faulty_run, tmp_path, ledger_change=planned_twice)
    assert audited["details"]["stale_after_catch_up"]["burst"] == 1
    assert audited["counters"]["stale_after_catch_up"] >= 1
