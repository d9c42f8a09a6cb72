"""The ledger: the system of record for billing, risk results and reminders (SQLAlchemy Core).

``schema/`` holds the tables (a module per domain, one MetaData) and ``migrate`` their Alembic
migrations, which run only when called (``store.upgrade_ledger``): opening a ``store.Ledger`` never
changes a schema. ``bulk`` moves polars frames in and out, typed by the tables (``schema_of``).
Per domain: ``receivables`` and ``history`` (billing), ``ingest`` and ``quarantine`` (ingestion's
reads and writes), ``model_registry`` and ``risk`` (risk), ``planning``, ``outbox`` and ``messages``
(reminders).
"""
