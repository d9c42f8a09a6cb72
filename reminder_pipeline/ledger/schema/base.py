"""The ledger's one MetaData, which every table of every domain is defined on.

Its naming convention gives constraints and indexes the names the Alembic migrations use.
"""

from __future__ import annotations

from sqlalchemy import MetaData, String, Table

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)


def text_limits(table: Table) -> dict[str, int]:
    """The length limit of each bounded text column of ``table``: what an incoming value must fit."""
    return {c.name: c.type.length for c in table.columns if isinstance(c.type, String) and c.type.length}
