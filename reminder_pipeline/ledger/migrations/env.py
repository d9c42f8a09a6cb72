"""Alembic environment: always run programmatically with a live connection (see ledger.migrate)."""

from __future__ import annotations

from alembic import context

from reminder_pipeline.ledger.migrate import VERSION_TABLE
from reminder_pipeline.ledger.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
