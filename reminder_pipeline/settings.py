"""Where the product keeps its state, read from the environment with embedded defaults.

Nothing secret has a default: a PostgreSQL URL with a password only ever comes from
``REMINDERS_DB_URL``. Without it the ledger is a SQLite file under the data directory.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

DATA_DIR_ENV = "REMINDERS_HOME"
DB_URL_ENV = "REMINDERS_DB_URL"
PARTITIONS_START_ENV = "REMINDERS_PARTITIONS_START"
BUSINESS_TZ_ENV = "REMINDERS_BUSINESS_TZ"
DROP_DIR_ENV = "REMINDERS_DROP_DIR"
SOURCE_CONFIG_ENV = "REMINDERS_SOURCE_CONFIG"
LINK_SECRET_ENV = "REMINDERS_LINK_SECRET"  # noqa: S105 - the name of the variable, not a secret
TEMPLATES_ENV = "REMINDERS_TEMPLATES"

DEFAULT_PARTITIONS_START = "2024-01-01"


def data_dir() -> Path:
    """The project's data directory: ``$REMINDERS_HOME`` or ``./data``."""
    return Path(os.environ.get(DATA_DIR_ENV) or Path.cwd() / "data").resolve()


def default_ledger_url() -> str:
    return f"sqlite:///{data_dir() / 'ledger.sqlite'}"


def ledger_url() -> str:
    """The ledger's SQLAlchemy URL: ``$REMINDERS_DB_URL`` or the embedded SQLite file."""
    return os.environ.get(DB_URL_ENV) or default_ledger_url()


def drop_dir() -> Path:
    """The file source's drop folder: ``$REMINDERS_DROP_DIR`` or ``<data dir>/drop``."""
    return Path(os.environ.get(DROP_DIR_ENV) or data_dir() / "drop").resolve()


def partitions_start() -> str:
    value = os.environ.get(PARTITIONS_START_ENV) or DEFAULT_PARTITIONS_START
    date.fromisoformat(value)
    return value


def business_timezone() -> str:
    return os.environ.get(BUSINESS_TZ_ENV) or "UTC"
