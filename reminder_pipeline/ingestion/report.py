from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import polars as pl

from reminder_pipeline.core.receivables import credits_by_currency
from reminder_pipeline.core.validation.parse import currency_exponents


class ConservationError(RuntimeError):
    """Rows in != accepted + quarantined: a bug, never an input problem."""


@dataclass
class IngestReport:
    entity: str
    source: str
    source_key: str
    business_date: date | None
    rows_in: int
    accepted: int
    quarantined: int
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    folded_duplicates: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    effects: dict[str, int] = field(default_factory=dict)
    credits: list[dict[str, Any]] = field(default_factory=list)
    """Per currency, the batch's overpaid invoices and their excess: a credit on the customers."""

    def __post_init__(self) -> None:
        if self.rows_in != self.accepted + self.quarantined:
            raise ConservationError(
                f"{self.entity} from {self.source}: {self.rows_in} rows in but "
                f"{self.accepted} accepted + {self.quarantined} quarantined"
            )
        if sum(self.reasons.values()) != self.quarantined:
            raise ConservationError(f"{self.entity}: reason counts do not add up to {self.quarantined}")
        if self.accepted != self.inserted + self.updated + self.unchanged:
            raise ConservationError(
                f"{self.entity}: {self.accepted} accepted but {self.inserted} inserted + "
                f"{self.updated} updated + {self.unchanged} unchanged"
            )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["business_date"] = self.business_date.isoformat() if self.business_date else None
        return data


def major_units(minor: int, currency: str) -> str:
    """``490000, "EUR"`` -> ``"4900.00"``: exact, in the currency's own number of decimals."""
    digits = currency_exponents().get(currency, 2)
    return f"{Decimal(minor).scaleb(-digits):.{digits}f}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def overpayment_credits(overpaid: pl.DataFrame) -> tuple[list[dict[str, Any]], list[str]]:
    """An ingest's overpaid invoices as report entries per currency, and a line each to read."""
    entries = [
        {**row, "credit": major_units(row["credit_minor"], row["currency"])}
        for row in credits_by_currency(overpaid).iter_rows(named=True)
    ]
    lines = [
        f"{_count(e['overpaid_invoices'], 'invoice')} paid beyond the amount: {e['credit']} {e['currency']} is a "
        f"credit on {_count(e['customers'], 'customer')}, to refund or apply (the invoices' balance is 0)"
        for e in entries
    ]
    return entries, lines


@dataclass
class RunSummary:
    """Reports of one run added up: what the asset's metadata shows."""

    tables: int
    rows_in: int
    accepted: int
    quarantined: int
    inserted: int
    updated: int
    unchanged: int
    folded_duplicates: int
    reasons: dict[str, int]
    effects: dict[str, int]
    warnings: list[str]

    @property
    def quarantine_rate(self) -> float:
        return self.quarantined / self.rows_in if self.rows_in else 0.0


def summarise(reports: list[IngestReport]) -> RunSummary:
    reasons: dict[str, int] = {}
    effects: dict[str, int] = {}
    for report in reports:
        for reason, count in report.reasons.items():
            reasons[reason] = reasons.get(reason, 0) + count
        for effect, count in report.effects.items():
            effects[effect] = effects.get(effect, 0) + count
    return RunSummary(
        tables=len(reports),
        rows_in=sum(r.rows_in for r in reports),
        accepted=sum(r.accepted for r in reports),
        quarantined=sum(r.quarantined for r in reports),
        inserted=sum(r.inserted for r in reports),
        updated=sum(r.updated for r in reports),
        unchanged=sum(r.unchanged for r in reports),
        folded_duplicates=sum(r.folded_duplicates for r in reports),
        reasons=dict(sorted(reasons.items())),
        effects=effects,
        warnings=[f"{r.source}: {w}" for r in reports for w in r.warnings],
    )
