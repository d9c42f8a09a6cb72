"""An invoice-history file as a :class:`History`, without a ledger (for ``reminders evaluate``).

Rows go through the same reading, mapping and validation as ingestion; quarantined rows are
counted and left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from reminder_pipeline.core.canonical import Entity
from reminder_pipeline.core.history import History, export_date, reported_payments
from reminder_pipeline.core.mapping import Mapping, apply_mapping, derive_customers
from reminder_pipeline.core.validation.customers import validate_customers
from reminder_pipeline.core.validation.invoices import validate_invoices
from reminder_pipeline.core.validation.references import find_duplicates, share_outcomes
from reminder_pipeline.core.validation.result import ValidationResult
from reminder_pipeline.ingestion.files import read_file


@dataclass(frozen=True)
class LoadedHistory:
    history: History
    rows_in: int
    accepted: int
    quarantined: dict[str, int] = field(default_factory=dict)


def load_history_file(path: Path | str, mapping: Mapping | None = None) -> LoadedHistory:
    mapping = mapping or Mapping(entity=Entity.INVOICES)
    if mapping.entity is not Entity.INVOICES:
        raise ValueError(f"an invoice history needs an invoices mapping, not {mapping.entity.value}")
    table = read_file(path, delimiter=mapping.delimiter, encoding=mapping.encoding)
    duplicates = find_duplicates(apply_mapping(table.frame, mapping), "invoice_id")
    validated = validate_invoices(duplicates.unique, mapping.format)
    copies = share_outcomes(duplicates.folded, validated.quarantined)
    result = ValidationResult(
        validated.accepted,
        pl.concat([duplicates.conflicting, validated.quarantined, copies.quarantined], how="vertical"),
    )
    invoices = result.accepted
    derived = derive_customers(table.frame, mapping)
    customers = (
        validate_customers(apply_mapping(derived, Mapping(entity=Entity.CUSTOMERS)), mapping.format).accepted
        if derived is not None
        else None
    )
    payments = reported_payments(invoices, export_date(invoices, None))
    disputes = invoices.filter(pl.col("disputed").fill_null(False)).select(
        "invoice_id", pl.col("dispute_date").alias("opened_on")
    )
    reasons = (
        pl.concat([result.quarantined.select("reason"), table.malformed.select("reason")]).group_by("reason").len()
    )
    return LoadedHistory(
        history=History.of(customers=customers, invoices=invoices, payments=payments, disputes=disputes),
        rows_in=table.rows_in,
        accepted=invoices.height,
        quarantined={r: int(n) for r, n in sorted(reasons.iter_rows())},
    )
