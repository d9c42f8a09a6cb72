"""What planning reads from the ledger is typed by the tables, and agrees with the core's contract."""

from __future__ import annotations

from reminder_pipeline.core.planning.plan import HANDED_OVER_SCHEMA, OUTBOX_SCHEMA, PROMISE_SCHEMA
from reminder_pipeline.ledger import schema
from reminder_pipeline.ledger.bulk import schema_of


def test_the_core_planning_inputs_are_the_ledger_columns_types_and_all() -> None:
    assert schema_of(schema.outbox, list(OUTBOX_SCHEMA)) == OUTBOX_SCHEMA
    assert schema_of(schema.promises_to_pay, list(PROMISE_SCHEMA)) == PROMISE_SCHEMA
    handed_over = {
        **schema_of(schema.outbox, ["customer_id", "business_date"]),
        **schema_of(schema.invoices, ["invoice_id"]),
    }
    assert handed_over == HANDED_OVER_SCHEMA
