from __future__ import annotations

from pathlib import Path

import psycopg2
from sqlalchemy import inspect

from benchmarks.daily_run import day_ledger
from benchmarks.scratch_postgres import SERVER


def _databases() -> set[str]:
    connection = psycopg2.connect(**SERVER)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT datname FROM pg_database")
            return {row[0] for row in cursor.fetchall()}
    finally:
        connection.close()


def test_the_daily_runs_postgresql_ledger_is_migrated_and_dropped_afterwards(
    postgres_server: dict[str, object], tmp_path: Path
) -> None:
    """Other tests make and drop databases at the same time: only those named as the benchmark's are looked at."""
    before = _databases()
    with day_ledger("postgresql", tmp_path) as ledger:
        made = {name for name in _databases() - before if name.startswith("rp_bench_day_")}
        assert len(made) == 1
        with ledger.begin() as connection:
            assert {"invoices", "outbox", "payments"} <= set(inspect(connection).get_table_names())
    assert not made & _databases()
    assert not list(tmp_path.iterdir()), "no SQLite file beside the work"


def test_the_daily_runs_sqlite_ledger_is_a_fresh_file_in_the_work_folder(tmp_path: Path) -> None:
    (tmp_path / "ledger.sqlite").write_text("a stale ledger of an earlier run")
    with day_ledger("sqlite", tmp_path) as ledger, ledger.begin() as connection:
        assert "invoices" in inspect(connection).get_table_names()
    assert (tmp_path / "ledger.sqlite").stat().st_size > 1000
