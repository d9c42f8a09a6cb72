"""Billing sources: a drop folder, and a SQL database queried per business date."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import create_engine, text

from reminder_pipeline.core.canonical import Entity
from reminder_pipeline.core.yaml_config import ConfigError
from reminder_pipeline.defs.common.ledger import LedgerResource
from reminder_pipeline.defs.ingestion.assets import customers, invoices
from reminder_pipeline.defs.ingestion.resources import SqlSource, billing_source_from_environment
from reminder_pipeline.ingestion.service import ingest_table
from reminder_pipeline.ingestion.sources import DropFolder, SqlQuerySource, load_source_config
from reminder_pipeline.ledger.store import Ledger, upgrade_ledger
from reminder_pipeline_tests.ingestion.helpers import write_csv

QUERIES = {
    "customers": "SELECT id AS customer_id, mail AS email, land AS country FROM clients WHERE joined = :business_date",
    "invoices": (
        "SELECT number AS invoice_id, client AS customer_id, issued AS issue_date, due AS due_date, "
        "total AS amount, ccy AS currency FROM bills WHERE issued = :business_date"
    ),
}


@pytest.fixture
def billing_db(postgres_url: str) -> str:
    """A billing system's own database, with its own names and real column types."""
    engine = create_engine(postgres_url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE clients (id TEXT, mail TEXT, land TEXT, joined DATE)"))
        connection.execute(
            text("CREATE TABLE bills (number TEXT, client TEXT, issued DATE, due DATE, total NUMERIC(12,2), ccy TEXT)")
        )
        connection.execute(
            text(
                "INSERT INTO clients VALUES ('K1','k1@example.com','DE','2026-03-02'),"
                "('K2','k2@example.com','FR','2026-03-02')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO bills VALUES ('B1','K1','2026-03-02','2026-04-01',120.50,'EUR'),"
                "('B2','K2','2026-03-02','2026-04-01',-3.00,'EUR'), ('B3','K1','2026-03-03','2026-04-02',7.25,'EUR')"
            )
        )
    engine.dispose()
    return postgres_url


def test_a_sql_source_reads_one_business_day_with_typed_columns(billing_db: str, sqlite_url: str) -> None:
    source = SqlQuerySource(billing_db, QUERIES, {})
    assert source.read(Entity.PAYMENTS, date(2026, 3, 2)) == []
    [day] = source.read(Entity.INVOICES, date(2026, 3, 2))
    assert day.table.frame.height == 2
    assert "password" not in day.table.source
    assert source.read(Entity.INVOICES, date(2026, 3, 2))[0].table.source_key == day.table.source_key
    upgrade_ledger(sqlite_url)
    with Ledger(sqlite_url) as ledger:
        [clients] = source.read(Entity.CUSTOMERS, date(2026, 3, 2))
        ingest_table(ledger, clients.table, mapping=clients.mapping)
        report = ingest_table(ledger, day.table, mapping=day.mapping)[-1]
    assert (report.accepted, report.reasons) == (1, {"negative_amount": 1})


def test_the_assets_read_a_sql_source_whose_url_comes_from_the_environment(
    billing_db: str, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BILLING_DB_URL", billing_db)
    source = SqlSource(url=dg.EnvVar("BILLING_DB_URL"), queries=QUERIES)
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [customers, invoices],
            instance=instance,
            resources={"ledger": LedgerResource(url=sqlite_url), "billing_source": source},
            tags={
                "dagster/asset_partition_range_start": "2026-03-02",
                "dagster/asset_partition_range_end": "2026-03-03",
            },
        )
    assert result.success
    events = [e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey("invoices")]
    assert sorted(e.partition for e in events) == ["2026-03-02", "2026-03-03"]
    by_day = {e.partition: e.materialization.metadata for e in events}
    assert sum(m["rows_in"].value for m in by_day.values()) == 3, "each day shows its own rows"
    assert sum(m["accepted"].value for m in by_day.values()) == 2
    assert billing_db not in str(result.dagster_run.run_config)


def test_a_source_yaml_picks_the_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "source.yaml"
    config.write_text("kind: sql\nurl_env: BILLING_DB_URL\nqueries:\n  invoices: SELECT 1\n")
    monkeypatch.setenv("REMINDERS_SOURCE_CONFIG", str(config))
    assert isinstance(billing_source_from_environment(), SqlSource)
    config.write_text("kind: sql\nqueries: {}\n")
    with pytest.raises(ConfigError, match="url_env"):
        load_source_config(config)


def test_a_drop_folder_lists_days_and_entity_files(tmp_path: Path) -> None:
    (tmp_path / "2026-03-02").mkdir()
    (tmp_path / "not-a-date").mkdir()
    write_csv(tmp_path / "2026-03-02" / "invoices_part1.csv", "invoice_id\n1")
    write_csv(tmp_path / "2026-03-02" / "invoices_part2.csv", "invoice_id\n2")
    write_csv(tmp_path / "2026-03-02" / "payments.txt", "ignored")
    folder = DropFolder(tmp_path, {})
    assert folder.dates_with_files() == [date(2026, 3, 2)]
    assert [p.name for p in folder.files(Entity.INVOICES, date(2026, 3, 2))] == [
        "invoices_part1.csv",
        "invoices_part2.csv",
    ]
    assert folder.read(Entity.PAYMENTS, date(2026, 3, 2)) == []
