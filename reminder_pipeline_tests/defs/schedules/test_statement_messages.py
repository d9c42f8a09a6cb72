"""The statement run as Dagster runs it, sending through the provider sandbox: one statement of account per
cycle customer who owes something, at most once per cycle whatever is run again, none to a customer who
has paid everything or has no channel left, the day's courtesy note folded in, within the rules of contact."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
import pytest
from babel.numbers import format_currency
from sqlalchemy import select

from reminder_pipeline.core.outbox import STATEMENT_LADDER, OutboxStatus, statement_key
from reminder_pipeline.defs.delivery.assets import email_deliveries, sms_deliveries
from reminder_pipeline.defs.schedules.statements import StatementStore, billing_cycle_statements
from reminder_pipeline.ledger.schema import outbox, reminder_messages
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.providers.sandbox import SandboxConfig, running_sandbox
from reminder_pipeline_tests.defs.runs import asset_metadata, asset_resources, provider_resources
from reminder_pipeline_tests.statements.world import BERLIN, CYCLE, NEXT_FREE, cycle_morning, opt_out_and_pay


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.delenv("TWILIO_REGION", raising=False)
    monkeypatch.delenv("TWILIO_EDGE", raising=False)
    with running_sandbox(SandboxConfig(port=0, log_path=tmp_path / "sandbox_messages.jsonl")) as running:
        yield running


def _resources(tmp_path: Path, ledger: Ledger, url: str) -> dict[str, Any]:
    return (
        asset_resources(tmp_path, ledger_url=ledger.url)
        | provider_resources(url, callback_base="http://127.0.0.1:8000")
        | {"statement_store": StatementStore(root=str(tmp_path / "statements"))}
    )


def _statement_run(resources: dict[str, Any]) -> dict[str, Any]:
    result = dg.materialize(
        [billing_cycle_statements],
        resources=resources,
        partition_key=CYCLE.isoformat(),
        run_config={"ops": {"billing_cycle_statements": {"config": {"run_at_local_time": "07:00"}}}},
    )
    assert result.success
    return asset_metadata(result, "billing_cycle_statements")


def _deliver(resources: dict[str, Any], day: date, at_local: time = time(10)) -> None:
    at = datetime.combine(day, at_local, tzinfo=BERLIN).isoformat()
    config = {"config": {"run_at": at}}
    result = dg.materialize(
        [email_deliveries, sms_deliveries],
        resources=resources,
        run_config={"ops": {"email_deliveries": config, "sms_deliveries": config}},
    )
    assert result.success


def _statements(sandbox: Any) -> dict[str, list[dict[str, Any]]]:
    """The statements the sandbox accepted, per customer."""
    keys = {statement_key(f"C{n}", CYCLE.isoformat()): f"C{n}" for n in range(1, 8)}
    found: dict[str, list[dict[str, Any]]] = {}
    for message in sandbox.control.messages():
        if message["reminder_key"] in keys:
            found.setdefault(keys[message["reminder_key"]], []).append(message)
    return found


def _rows(ledger: Ledger) -> pl.DataFrame:
    with ledger.begin() as connection:
        rows = connection.execute(
            select(
                outbox.c.customer_id, outbox.c.ladder, outbox.c.step, outbox.c.tone, outbox.c.channel,
                outbox.c.send_on, outbox.c.status, outbox.c.status_reason, reminder_messages.c.amount_minor,
            ).outerjoin(reminder_messages, reminder_messages.c.outbox_id == outbox.c.outbox_id)
        ).all()  # fmt: skip
    return pl.DataFrame([r._asdict() for r in rows], infer_schema_length=None)


def test_each_cycle_customer_who_owes_gets_one_statement_and_a_rerun_sends_nothing_more(
    ledger: Ledger, tmp_path: Path, sandbox: Any
) -> None:
    cycle_morning(ledger, tmp_path)
    resources = _resources(tmp_path, ledger, sandbox.url)
    first = _statement_run(resources)
    assert (first["statements_planned"], first["statements_written"], first["courtesy_folded"]) == (6, 6, 1)
    assert "Pat" not in str(first)
    assert "example.com" not in str(first)
    opt_out_and_pay(ledger, tmp_path)
    _deliver(resources, CYCLE, time(8, 30))
    assert _statements(sandbox) == {}, "before 09:00 in Berlin, the policy's window"
    _deliver(resources, CYCLE)
    on_cycle_day = _statements(sandbox)
    assert set(on_cycle_day) == {"C2", "C5", "C6"}, "C1 was reminded today; C3 another cycle; C4 paid; C7 no channel"
    assert all(len(sent) == 1 for sent in on_cycle_day.values())

    two_currencies = on_cycle_day["C2"][0]
    total = f"{format_currency(50, 'EUR', locale='en_US')} + {format_currency(20, 'USD', locale='en_US')}"
    assert total in two_currencies["body"]
    assert total in two_currencies["subject"]
    assert two_currencies["to"] == "c2@example.com"

    folded = on_cycle_day["C5"][0]
    assert "N5" in folded["body"]
    assert "Pour rappel" in folded["body"], "the courtesy note is in the statement, in the customer's language"
    per_customer = Counter(m["to"] for m in sandbox.control.messages())
    assert per_customer["c5@example.com"] == 1, "no courtesy note of its own besides the statement"

    summary = on_cycle_day["C6"][0]
    assert summary["channel"] == "sms"
    assert format_currency(45, "EUR", locale="de_DE").replace("\xa0", " ") in summary["body"]
    assert "STOP" in summary["body"]

    rows = _rows(ledger)
    stopped = rows.filter(pl.col("customer_id").is_in(["C8", "C9"])).sort("customer_id")
    assert stopped["status"].to_list() == [OutboxStatus.CANCELLED.value] * 2, "the last look: opted out, paid"
    assert "opted out" in stopped["status_reason"][0]
    assert "paid" in stopped["status_reason"][1]
    courtesy = rows.filter((pl.col("customer_id") == "C5") & (pl.col("ladder") != STATEMENT_LADDER))
    assert courtesy["status"].to_list() == [OutboxStatus.CANCELLED.value]
    assert courtesy["status_reason"].item().startswith("folded into the statement")
    later = rows.filter((pl.col("customer_id") == "C1") & (pl.col("ladder") == STATEMENT_LADDER))
    assert later["send_on"].to_list() == [NEXT_FREE]
    assert later["amount_minor"].to_list() == [20_000]

    again = _statement_run(resources)
    assert (again["statements_planned"], again["statements_written"], again["courtesy_folded"]) == (4, 1, 0)
    skipped = {r.data["reason"]: r.data["customers"] for r in again["skipped"].records}
    assert skipped == {"opted_out": 2}, "C7 and C8 opted out; C9 owes nothing now"
    _deliver(resources, CYCLE)
    assert _statements(sandbox) == on_cycle_day, "a re-run sends nothing more"

    _deliver(resources, NEXT_FREE)
    _statement_run(resources)
    _deliver(resources, NEXT_FREE)
    final = _statements(sandbox)
    assert set(final) == {"C1", "C2", "C5", "C6"}
    assert all(len(sent) == 1 for sent in final.values()), "at most once per customer and cycle"
    deferred = final["C1"][0]["body"]
    assert format_currency(200, "EUR", locale="de_DE") in deferred
    assert format_currency(120, "EUR", locale="de_DE") in deferred, "the overdue part, shown by currency"
    assert "O1" in deferred
    assert "N1" in deferred
    statements = _rows(ledger).filter(pl.col("ladder") == STATEMENT_LADDER)
    assert statements.height == 6
    assert statements["customer_id"].n_unique() == 6
