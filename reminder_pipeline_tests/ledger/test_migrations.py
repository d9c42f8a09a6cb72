from __future__ import annotations

import threading

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError

from reminder_pipeline.ledger.engine import make_engine
from reminder_pipeline.ledger.migrate import MIGRATIONS, VERSION_TABLE, current_revision, head_revision, upgrade
from reminder_pipeline.ledger.schema import metadata


def _downgrade(engine: Engine, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


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


def test_outbox_keys_lose_the_ladder_and_a_step_planned_under_two_ladders_keeps_one_row(ledger_url: str) -> None:
    """Revision 0004: keys become (customer, episode, step, channel); of two rows for the same step under
    two ladders the one that went furthest keeps the key, the other is superseded (cancelled if open)."""
    engine = make_engine(ledger_url)
    upgrade(engine, "0003")
    old_rows = [
        (1, "standard", "collector", "collector", "task_open", "2026-11-25"),
        (2, "low_risk", "collector", "collector", "task_open", "2026-11-30"),
        (3, "standard", "courtesy", "email", "rendered", "2026-11-01"),
        (4, "low_risk", "reminder", "email", "expired", "2026-11-03"),
        (5, "standard", "reminder", "email", "rendered", "2026-11-04"),
    ]
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO customers (customer_id, known_on, source) VALUES ('C0000676', '2026-11-01', 'test')"
        )
        for outbox_id, ladder, step, channel, status, on in old_rows:
            key = "|".join(f"{len(p)}:{p}" for p in ("C0000676", "INV-00008192", ladder, step, channel))
            connection.execute(
                text(
                    "INSERT INTO outbox (outbox_id, dedupe_key, customer_id, episode_id, ladder, step, step_index,"
                    " offset_days, channel, business_date, send_on, status, invoice_ids, amount_minor, currency,"
                    " policy_version) VALUES (:id, :key, 'C0000676', 'INV-00008192', :ladder, :step, 0, 0, :channel,"
                    " :on, :on, :status, '[]', 100, 'EUR', 'test')"
                ),
                {
                    "id": outbox_id,
                    "key": key,
                    "ladder": ladder,
                    "step": step,
                    "channel": channel,
                    "status": status,
                    "on": on,
                },
            )
    upgrade(engine)
    with engine.connect() as connection:
        rows = {
            r[0]: (r[1], r[2], r[3])
            for r in connection.exec_driver_sql("SELECT outbox_id, dedupe_key, status, status_reason FROM outbox")
        }
    base = "8:C0000676|12:INV-00008192"
    assert rows[2] == (f"{base}|9:collector|9:collector", "task_open", None), "the later open task keeps the key"
    assert rows[1] == (f"{base}|9:collector|9:collector|superseded:1", "cancelled", "the same step is outbox row 2")
    assert rows[3] == (f"{base}|8:courtesy|5:email", "rendered", None)
    assert rows[5] == (f"{base}|8:reminder|5:email", "rendered", None), "a waiting row wins over an expired one"
    assert rows[4] == (f"{base}|8:reminder|5:email|superseded:4", "expired", None)
    engine.dispose()


def test_dashboard_sessions_come_to_a_ledger_with_users_and_go_again(ledger_url: str) -> None:
    """Revision 0008: the sessions and login-failure tables join a ledger whose users exist already, a session
    row must name a user, and a downgrade to 0007 takes both tables away and keeps the users."""
    engine = make_engine(ledger_url)
    upgrade(engine, "0007")
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO users (user_id, username, password_hash, role) VALUES (7, 'cora', 'x', 'collector')"
        )
    upgrade(engine)
    assert {"dashboard_sessions", "login_failures"} <= set(inspect(engine).get_table_names())
    columns = {"digest": "d" * 64, "at": "2026-03-10 09:00:00"}
    insert_session = (
        "INSERT INTO dashboard_sessions (session_digest, user_id, created_at, last_seen_at, expires_at)"
        " VALUES (:digest, :user, :at, :at, :at)"
    )
    with engine.begin() as connection:
        connection.execute(text(insert_session), {**columns, "user": 7})
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(text(insert_session), {**columns, "digest": "e" * 64, "user": 8})
    _downgrade(engine, "0007")
    assert not {"dashboard_sessions", "login_failures"} & set(inspect(engine).get_table_names())
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT username FROM users").scalar_one() == "cora"
    engine.dispose()


def test_a_users_last_login_is_filled_from_the_sessions_the_ledger_still_holds(ledger_url: str) -> None:
    """Revision 0010: ``users.last_login_at`` takes the newest session of each user (none: none), and a
    downgrade to 0009 takes the column away and keeps the users."""
    engine = make_engine(ledger_url)
    upgrade(engine, "0009")
    with engine.begin() as connection:
        for user_id, name in ((7, "cora"), (8, "vic")):
            connection.execute(
                text("INSERT INTO users (user_id, username, password_hash, role) VALUES (:id, :name, 'x', 'viewer')"),
                {"id": user_id, "name": name},
            )
        for digest, at in (("d" * 64, "2026-03-10 09:00:00"), ("e" * 64, "2026-03-11 17:30:00")):
            connection.execute(
                text(
                    "INSERT INTO dashboard_sessions (session_digest, user_id, created_at, last_seen_at, expires_at)"
                    " VALUES (:digest, 7, :at, :at, :at)"
                ),
                {"digest": digest, "at": at},
            )
    upgrade(engine)
    with engine.connect() as connection:
        rows = dict(connection.execute(text("SELECT username, last_login_at FROM users")).tuples().all())
    assert rows["vic"] is None
    assert str(rows["cora"]).startswith("2026-03-11 17:30:00")
    _downgrade(engine, "0009")
    assert "last_login_at" not in {c["name"] for c in inspect(engine).get_columns("users")}
    with engine.connect() as connection:
        assert sorted(connection.exec_driver_sql("SELECT username FROM users").scalars()) == ["cora", "vic"]
    engine.dispose()
