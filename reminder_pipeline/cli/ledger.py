"""Commands on the ledger: ingest a file, migrate the schema, look at the quarantine."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import click

from reminder_pipeline.cli.base import INPUT_FILE, emit, examples, main, open_ledger
from reminder_pipeline.cli.progress import bars
from reminder_pipeline.config_files import load_mapping
from reminder_pipeline.core.canonical import Entity
from reminder_pipeline.core.mapping import Mapping
from reminder_pipeline.core.validation.reasons import Reason
from reminder_pipeline.core.yaml_config import ConfigError


@main.command(
    epilog=examples(
        "reminders ingest --file ../shared/data/ibm_ar.csv --mapping reminder_pipeline/mappings/ibm_ar.yaml \\",
        "    --db sqlite:///data/ibm.sqlite --json",
        "# a customer list in canonical columns, as of a business day",
        "reminders ingest --file customers.csv --entity customers --business-date 2026-03-02",
    )
)
@click.option(
    "--file",
    "file_path",
    required=True,
    type=INPUT_FILE,
    help="CSV or Parquet file.",
)
@click.option(
    "--mapping",
    "mapping_path",
    type=INPUT_FILE,
    help="YAML column mapping.",
)
@click.option(
    "--entity",
    type=click.Choice([e.value for e in Entity]),
    help="What the file holds (default: the mapping's, else invoices).",
)
@click.option(
    "--db",
    "db_url",
    help="Ledger database URL (default: $REMINDERS_DB_URL or the embedded SQLite file).",
)
@click.option(
    "--business-date",
    type=click.DateTime(["%Y-%m-%d"]),
    help="The business date the file belongs to.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def ingest(
    file_path: Path,
    mapping_path: Path | None,
    entity: str | None,
    db_url: str | None,
    business_date: Any,
    as_json: bool,
) -> None:
    """Ingest one file into the ledger. Bad rows are quarantined with a reason; exit code 2 only when
    the file itself is unusable (missing, binary, wrong headers, bad mapping)."""
    from reminder_pipeline.ingestion.files import read_file
    from reminder_pipeline.ingestion.service import ingest_table

    mapping = load_mapping(mapping_path) if mapping_path else Mapping(entity=Entity(entity or "invoices"))
    if entity and Entity(entity) is not mapping.entity:
        raise ConfigError(f"--entity {entity} but the mapping is for {mapping.entity.value}")
    track = bars()
    with track(f"reading {file_path.name}"):
        table = read_file(file_path, delimiter=mapping.delimiter, encoding=mapping.encoding)
    with open_ledger(db_url, upgrade=True) as ledger, track(f"validating and ingesting {file_path.name}"):
        day: date | None = business_date.date() if business_date else None
        reports = ingest_table(ledger, table, mapping=mapping, business_date=day)
        display_url = ledger.display_url
    main_report, derived = reports[-1], reports[:-1]
    payload = {
        "file": str(file_path),
        "ledger": display_url,
        **{k: v for k, v in main_report.to_dict().items() if k not in ("source",)},
        "derived": [r.to_dict() for r in derived],
    }
    lines = [
        f"{file_path}: {main_report.rows_in} {main_report.entity} rows in, {main_report.accepted} accepted "
        f"({main_report.inserted} new, {main_report.updated} updated, {main_report.unchanged} unchanged), "
        f"{main_report.quarantined} quarantined",
        *[f"  {reason}: {count}" for reason, count in main_report.reasons.items()],
        *[f"  warning: {w}" for w in main_report.warnings],
        *[f"  {r.entity} derived from the file: {r.accepted} accepted, {r.quarantined} quarantined" for r in derived],
    ]
    emit(payload, as_json, "\n".join(lines))


@main.group(epilog=examples("reminders db upgrade --db postgresql+psycopg2://reminders@127.0.0.1/reminders"))
def db() -> None:
    """The ledger database."""


@db.command(
    "upgrade",
    epilog=examples("reminders db upgrade", "reminders db upgrade --db postgresql+psycopg2://reminders@db/reminders"),
)
@click.option("--db", "db_url", help="Ledger database URL.")
def db_upgrade(db_url: str | None) -> None:
    """Create or migrate the ledger schema to the latest version."""
    from reminder_pipeline.ledger.migrate import current_revision

    with open_ledger(db_url, upgrade=True) as ledger:
        click.echo(f"{ledger.display_url} is at revision {current_revision(ledger.engine)}")


@main.command(
    epilog=examples(
        "reminders quarantine --db sqlite:///data/ibm.sqlite",
        "reminders quarantine --reason invalid_date --limit 50 --json",
    )
)
@click.option("--db", "db_url", help="Ledger database URL.")
@click.option("--reason", type=click.Choice([r.value for r in Reason]), help="Only this reason code.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1), help="How many rows to list.")
@click.option("--json", "as_json", is_flag=True)
def quarantine(db_url: str | None, reason: str | None, limit: int, as_json: bool) -> None:
    """Counts of quarantined rows per reason, and the latest rows (without their raw, possibly personal, values)."""
    from reminder_pipeline.ledger.quarantine import quarantine_overview

    with (
        open_ledger(db_url, upgrade=False) as ledger,
        ledger.begin() as connection,
    ):
        counts, latest = quarantine_overview(connection, reason=reason, limit=limit)
    payload = {"counts": counts, "latest": latest.to_dicts()}
    text = "\n".join(
        [*(f"{r}: {n}" for r, n in counts.items())]
        + [
            f"  {row['entity']} {row['source']} row {row['source_row']}: {row['reason']} — {row['detail']}"
            for row in latest.to_dicts()
        ]
    )
    emit(payload, as_json, text or "the quarantine is empty")
