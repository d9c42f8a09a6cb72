"""The canonical columns every billing source is mapped onto.

A source file may carry any extra columns; they travel with the row as ``attributes``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Entity(StrEnum):
    CUSTOMERS = "customers"
    INVOICES = "invoices"
    PAYMENTS = "payments"


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"


@dataclass(frozen=True)
class EntitySchema:
    key: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    dates: tuple[str, ...] = ()
    money: tuple[str, ...] = ()
    booleans: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


INVOICE_SCHEMA = EntitySchema(
    key="invoice_id",
    required=(
        "invoice_id",
        "customer_id",
        "issue_date",
        "due_date",
        "amount",
        "currency",
    ),
    optional=("paid_date", "paid_amount", "disputed", "dispute_date"),
    dates=("issue_date", "due_date", "paid_date", "dispute_date"),
    money=("amount", "paid_amount"),
    booleans=("disputed",),
)

CUSTOMER_SCHEMA = EntitySchema(
    key="customer_id",
    required=("customer_id",),
    optional=(
        "name",
        "email",
        "phone",
        "country",
        "region",
        "time_zone",
        "locale",
        "preferred_channel",
        "email_opt_out",
        "sms_opt_out",
        "sms_consent",
        "billing_cycle_day",
        "paperless_since",
        "payment_method",
    ),
    dates=("paperless_since",),
    booleans=("email_opt_out", "sms_opt_out", "sms_consent"),
)

PAYMENT_SCHEMA = EntitySchema(
    key="payment_id",
    required=("payment_id", "invoice_id", "amount", "currency", "paid_date"),
    optional=("method",),
    dates=("paid_date",),
    money=("amount",),
)

SCHEMAS: dict[Entity, EntitySchema] = {
    Entity.CUSTOMERS: CUSTOMER_SCHEMA,
    Entity.INVOICES: INVOICE_SCHEMA,
    Entity.PAYMENTS: PAYMENT_SCHEMA,
}

ROW_NUMBER = "__source_row__"
"""The row number frames carry through ingestion. A file may not use this name; the quarantine stores ``source_row``."""
HISTORY_PAYMENT_METHOD = "invoice_history"
"""Marks a payment an invoice-history file reported (paid amount, paid date) rather than a recorded one."""
ATTRIBUTES = "attributes"
