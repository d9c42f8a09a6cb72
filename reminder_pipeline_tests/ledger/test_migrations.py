from __future__ import annotations

import threading

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from reminder_pipeline.ledger.engine import make_engine
from reminder_pipeline.ledger.migrate import VERSION_TABLE, current_revision, head_revision, upgrade
from reminder_pipeline.ledger.schema import metadata


def test_migrations_build_exactly_the_declared_schema(ledger_url: str) -> None:
    engine = make_engine(ledger_url)
    upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "version_table": VERSION_TABLE})
        differences = compare_metadata(context, metadata)
    engine.dispose()
    assert differences == []


def test_upgrading_twice_is_a_no_op(ledger_url: str) -> None:
    engine = make_engine(ledger_url)
    upgrade(engine)
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    assert {"customers", "invoices", "payments", "disputes", "promises_to_pay", "quarantine"} <= set(
        inspect(engine).get_table_names()
    )
    engine.dispose()


def test_concurrent_first_starts_migrate_once(ledger_url: str) -> None:
    errors: list[BaseException] = []

    def start() -> None:
        engine = make_engine(ledger_url)
        try:
            upgrade(engine)
        except BaseException as exc:
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    engine = make_engine(ledger_url)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_the_ledger_shares_a_database_with_another_alembic_user(ledger_url: str) -> None:
    """Dagster's storage keeps its own alembic_version; the ledger must not read or write it."""
    engine = make_engine(ledger_url)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        connection.exec_driver_sql("INSERT INTO alembic_version VALUES ('29b539ebc72a')")
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one() == "29b539ebc72a"
    engine.dispose()
