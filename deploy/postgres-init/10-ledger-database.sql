-- The compose PostgreSQL holds two databases: "dagster" (POSTGRES_DB, the Dagster instance) and this one,
-- the ledger. Run once, on the first start of an empty data volume.
CREATE DATABASE reminders;
