"""Ingest one table of raw rows: map, validate, check against the ledger, write, quarantine the rest.

Everything for one table happens in one write transaction holding the entity's lock, so a crash
leaves the ledger as it was and two ingests of the same entity never interleave their
read-check-write. Rows in = accepted + quarantined is checked for every batch.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import polars as pl
from sqlalchemy import Connection

from reminder_pipeline.core.canonical import ROW_NUMBER, Entity
from reminder_pipeline.core.changes import Change
from reminder_pipeline.core.mapping import (
    Mapping,
    UnusableInputError,
    ValueFormat,
    apply_mapping,
    derive_customers,
    json_value,
)
from reminder_pipeline.core.validation.customers import validate_customers
from reminder_pipeline.core.validation.invoices import validate_invoices
from reminder_pipeline.core.validation.limits import check_lengths
from reminder_pipeline.core.validation.payments import validate_payments
from reminder_pipeline.core.validation.reasons import Reason
from reminder_pipeline.core.validation.references import find_duplicates, share_outcomes
from reminder_pipeline.core.validation.result import (
    ValidationResult,
    check,
    empty_quarantine,
    split_on_problems,
)
from reminder_pipeline.ingestion.apply import (
    Applied,
    apply_customers,
    apply_invoices,
    apply_payments,
)
from reminder_pipeline.ingestion.files import REPLACEMENT_CHARACTER, RawTable
from reminder_pipeline.ingestion.report import IngestReport, overpayment_credits
from reminder_pipeline.ingestion.sources import SourceTable
from reminder_pipeline.ledger import ingest
from reminder_pipeline.ledger.quarantine import SOURCE_LENGTH, resolve_quarantine, write_quarantine
from reminder_pipeline.ledger.store import Ledger

Validator = Callable[[pl.DataFrame, ValueFormat], ValidationResult]

VALIDATORS: dict[Entity, Validator] = {
    Entity.CUSTOMERS: validate_customers,
    Entity.INVOICES: validate_invoices,
    Entity.PAYMENTS: validate_payments,
}
NUL = "\x00"


def fit_source(source: str) -> str:
    """A source description that fits the ledger's column; a long path keeps its informative end."""
    if len(source) <= SOURCE_LENGTH:
        return source
    return "…" + source[-(SOURCE_LENGTH - 1) :]


def default_mapping(entity: Entity) -> Mapping:
    return Mapping(entity=entity)


def _raw_json(frame: pl.DataFrame, rows: pl.Series) -> pl.DataFrame:
    """The delivered values of ``rows`` as JSON text, kept with their quarantine records."""
    values = [c for c in frame.columns if c != ROW_NUMBER]
    chosen = frame.filter(pl.col(ROW_NUMBER).is_in(rows.implode()))
    schema = frame.schema
    if not values:
        return chosen.select(ROW_NUMBER, pl.lit(None, dtype=pl.String).alias("raw"))
    return chosen.select(
        ROW_NUMBER,
        pl.struct([json_value(c, schema[c]) for c in values]).struct.json_encode().alias("raw"),
    )


def _split_bad_encoding(frame: pl.DataFrame) -> ValidationResult:
    """Rows with undecodable bytes, or with NUL characters (PostgreSQL cannot store them in text), are quarantined.

    Done here rather than in the file reader, so rows from Parquet and SQL sources are checked too.
    """
    text_columns = [c for c, t in frame.schema.items() if t == pl.String]
    if not text_columns:
        return split_on_problems(frame, [])
    return split_on_problems(
        frame,
        [
            check(
                pl.any_horizontal(pl.col(text_columns).str.contains(REPLACEMENT_CHARACTER, literal=True)),
                Reason.INVALID_ENCODING,
                "the row holds bytes that are not valid in the file's encoding",
            ),
            check(
                pl.any_horizontal(pl.col(text_columns).str.contains(NUL, literal=True)),
                Reason.INVALID_ENCODING,
                "the row holds a NUL character, which is not text",
            ),
        ],
    )


def _apply(
    connection: Connection,
    entity: Entity,
    accepted: pl.DataFrame,
    source: str,
    business_date: date | None,
) -> tuple[pl.DataFrame, Applied]:
    if entity is Entity.CUSTOMERS:
        return apply_customers(connection, accepted, source, business_date)
    if entity is Entity.INVOICES:
        return apply_invoices(connection, accepted, source, business_date)
    return apply_payments(connection, accepted, source, business_date)


def _write_quarantine(
    connection: Connection,
    entity: Entity,
    quarantined: pl.DataFrame,
    raw: pl.DataFrame,
    *,
    source: str,
    source_key: str,
    business_date: date | None,
) -> None:
    if quarantined.is_empty():
        return
    rows = (
        quarantined.join(_raw_json(raw, quarantined[ROW_NUMBER]), on=ROW_NUMBER, how="left", maintain_order="left")
        if "raw" not in quarantined.columns
        else quarantined
    )
    records = rows.select(pl.col(ROW_NUMBER).alias("source_row"), "reason", "detail", "raw")
    write_quarantine(connection, entity, records, source=source, source_key=source_key, business_date=business_date)


def _validate(
    connection: Connection,
    entity: Entity,
    canonical: pl.DataFrame,
    fmt: ValueFormat,
    source: str,
    business_date: date | None,
) -> tuple[ValidationResult, Applied, int]:
    """Every check, then the ledger write. Returns the outcome per row, what applying did, copies folded.

    Repeated ids are found on the raw rows, before validation: copies that differ are all
    conflicting, identical ones are checked once and then share the kept row's outcome.
    """
    duplicates = find_duplicates(canonical, ingest.KEYS[entity])
    result = ValidationResult(duplicates.unique, duplicates.conflicting)
    result = result.then(VALIDATORS[entity](result.accepted, fmt))
    result = result.then(check_lengths(result.accepted, ingest.text_limits(entity)))
    accepted, applied = _apply(connection, entity, result.accepted, source, business_date)
    result = result.then(ValidationResult(accepted, applied.quarantined))
    copies = share_outcomes(duplicates.folded, result.quarantined)
    outcome = ValidationResult(
        pl.concat([result.accepted.select(ROW_NUMBER), copies.accepted]),
        pl.concat([result.quarantined, copies.quarantined]),
    )
    applied.changes[Change.NONE] += copies.accepted.height
    return outcome, applied, duplicates.folded.height


def ingest_rows(
    ledger: Ledger,
    entity: Entity,
    rows: pl.DataFrame,
    *,
    mapping: Mapping,
    source: str,
    source_key: str,
    business_date: date | None = None,
    malformed: pl.DataFrame | None = None,
    warnings: list[str] | None = None,
) -> IngestReport:
    """Ingest ``rows`` (raw values numbered by the row-number column) of one entity.

    A database error rolls everything back and raises :class:`LedgerWriteError`, whose message
    holds no row values.
    """
    started = datetime.now(UTC)
    source = fit_source(source)
    if malformed is None:
        malformed = pl.DataFrame(
            schema={
                ROW_NUMBER: pl.Int64,
                "reason": pl.String,
                "detail": pl.String,
                "raw": pl.String,
            }
        )
    encoding = _split_bad_encoding(rows)
    canonical = apply_mapping(encoding.accepted, mapping) if rows.width > 1 or rows.height > 0 else None
    with ledger.begin_write(f"ingest:{entity.value}") as connection:
        if canonical is None:
            result = ValidationResult(pl.DataFrame({ROW_NUMBER: []}, schema={ROW_NUMBER: pl.Int64}), empty_quarantine())
            applied, folded = Applied(empty_quarantine(), dict.fromkeys(Change, 0)), 0
        else:
            result, applied, folded = _validate(connection, entity, canonical, mapping.format, source, business_date)
        quarantined = pl.concat([encoding.quarantined, result.quarantined])
        accepted_rows = result.accepted[ROW_NUMBER]
        _write_quarantine(
            connection,
            entity,
            quarantined,
            rows,
            source=source,
            source_key=source_key,
            business_date=business_date,
        )
        _write_quarantine(
            connection,
            entity,
            malformed,
            rows,
            source=source,
            source_key=source_key,
            business_date=business_date,
        )
        resolve_quarantine(connection, entity, source_key, accepted_rows)
        changes = applied.changes
        credit_entries, credit_lines = overpayment_credits(applied.overpaid)
        reasons = (
            pl.concat([quarantined.select("reason"), malformed.select("reason")])
            .group_by("reason")
            .len()
            .sort("reason")
        )
        report = IngestReport(
            entity=entity.value,
            source=source,
            source_key=source_key,
            business_date=business_date,
            rows_in=rows.height + malformed.height,
            accepted=accepted_rows.len(),
            quarantined=quarantined.height + malformed.height,
            inserted=changes[Change.INSERT],
            updated=changes[Change.UPDATE],
            unchanged=changes[Change.NONE],
            folded_duplicates=folded,
            reasons={r: int(n) for r, n in reasons.iter_rows()},
            warnings=[*(warnings or []), *credit_lines],
            effects=applied.effects,
            credits=credit_entries,
        )
        ingest.record_batch(
            connection,
            ingest.BatchRecord(
                entity=entity,
                source=source,
                source_key=source_key,
                business_date=business_date,
                rows_in=report.rows_in,
                accepted=report.accepted,
                quarantined=report.quarantined,
                inserted=report.inserted,
                updated=report.updated,
                unchanged=report.unchanged,
                started_at=started,
                finished_at=datetime.now(UTC),
            ),
        )
    return report


def ingest_table(
    ledger: Ledger,
    table: RawTable,
    *,
    entity: Entity | None = None,
    mapping: Mapping | None = None,
    business_date: date | None = None,
) -> list[IngestReport]:
    """Ingest a file or query result; customers derived by the mapping go first. Last report = the table's.

    Raises :class:`UnusableInputError` naming the table's source when its columns do not fit the
    mapping; nothing is written then.
    """
    mapping = mapping or default_mapping(entity or Entity.INVOICES)
    entity = entity or mapping.entity
    if entity is not mapping.entity:
        raise ValueError(f"the mapping is for {mapping.entity.value}, not {entity.value}")
    try:
        return _ingest_table(ledger, table, entity, mapping, business_date)
    except UnusableInputError as exc:
        raise UnusableInputError(f"{table.source}: {exc}") from exc


def _ingest_table(
    ledger: Ledger, table: RawTable, entity: Entity, mapping: Mapping, business_date: date | None
) -> list[IngestReport]:
    reports = []
    if table.frame.height and mapping.customers is not None:
        apply_mapping(table.frame, mapping)  # refuse a file with wrong headers or types before writing anything
    derived = derive_customers(table.frame, mapping) if table.frame.height else None
    if derived is not None:
        reports.append(
            ingest_rows(
                ledger,
                Entity.CUSTOMERS,
                derived,
                mapping=Mapping(entity=Entity.CUSTOMERS, format=mapping.format),
                source=f"{table.source} (customers)",
                source_key=table.source_key,
                business_date=business_date,
            )
        )
    reports.append(
        ingest_rows(
            ledger,
            entity,
            table.frame,
            mapping=mapping,
            source=table.source,
            source_key=table.source_key,
            business_date=business_date,
            malformed=table.malformed,
            warnings=table.warnings,
        )
    )
    return reports


def ingest_from_source(
    ledger: Ledger,
    read: Callable[[Entity, date], list[SourceTable]],
    entity: Entity,
    days: list[date],
) -> list[IngestReport]:
    """Ingest every table a source delivers for ``entity`` on each of ``days``, in date order."""
    reports: list[IngestReport] = []
    for day in days:
        for item in read(entity, day):
            reports.extend(ingest_table(ledger, item.table, mapping=item.mapping, business_date=day))
    return reports
