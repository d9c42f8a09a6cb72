"""Outbox keys without the ladder: a step is the same reminder under every ladder (promise 1).

Before, the dedupe key was (customer, episode, ladder, step, channel), so a customer moved to
another ladder by a new risk band could be planned a step already reached. Each row's key is
rewritten as (customer, episode, step, channel). Where two ladders had planned the same step on
the same channel, the row that went furthest keeps the key (one handed to a provider or a
collector, then one waiting to be sent, then the latest); each other row keeps a key of its own
marked ``superseded`` and, if it had not gone out yet or is a second open collector task, is
cancelled with the reason.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

NEVER_SENT = ("cancelled", "expired")
WAITING = ("planned", "rendered", "held")

outbox = sa.table(
    "outbox",
    sa.column("outbox_id", sa.Integer),
    sa.column("dedupe_key", sa.String),
    sa.column("customer_id", sa.String),
    sa.column("episode_id", sa.String),
    sa.column("ladder", sa.String),
    sa.column("step", sa.String),
    sa.column("channel", sa.String),
    sa.column("status", sa.String),
    sa.column("status_reason", sa.String),
)


def _key(*parts: str) -> str:
    """The length-prefixed key, as ``core.outbox.reminder_key`` writes it (frozen here)."""
    return "|".join(f"{len(part)}:{part}" for part in parts)


def _rank(status: str) -> int:
    if status in NEVER_SENT:
        return 0
    return 1 if status in WAITING else 2


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(
            outbox.c.outbox_id,
            outbox.c.customer_id,
            outbox.c.episode_id,
            outbox.c.step,
            outbox.c.channel,
            outbox.c.status,
        )
    ).all()
    groups: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for outbox_id, customer, episode, step, channel, status in rows:
        groups[_key(customer, episode, step, channel)].append((outbox_id, status))
    keys, superseded = [], []
    for key, members in groups.items():
        members.sort(key=lambda m: (_rank(m[1]), m[0]), reverse=True)
        keeper = members[0][0]
        keys.append({"id": keeper, "key": key})
        for outbox_id, status in members[1:]:
            keys.append({"id": outbox_id, "key": f"{key}|superseded:{outbox_id}"})
            if status in (*WAITING, "task_open"):
                superseded.append({"id": outbox_id, "reason": f"the same step is outbox row {keeper}"})
    update_key = (
        sa.update(outbox).where(outbox.c.outbox_id == sa.bindparam("id")).values(dedupe_key=sa.bindparam("key"))
    )
    if keys:
        bind.execute(update_key, keys)
    if superseded:
        bind.execute(
            sa.update(outbox)
            .where(outbox.c.outbox_id == sa.bindparam("id"))
            .values(status="cancelled", status_reason=sa.bindparam("reason")),
            superseded,
        )


def downgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(
            outbox.c.outbox_id,
            outbox.c.customer_id,
            outbox.c.episode_id,
            outbox.c.ladder,
            outbox.c.step,
            outbox.c.channel,
        )
    ).all()
    if rows:
        bind.execute(
            sa.update(outbox).where(outbox.c.outbox_id == sa.bindparam("id")).values(dedupe_key=sa.bindparam("key")),
            [{"id": row[0], "key": _key(*row[1:])} for row in rows],
        )
