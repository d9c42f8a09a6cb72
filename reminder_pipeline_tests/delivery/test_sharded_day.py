"""A day planned by shards, at the same time, then drained by several delivery processes on one PostgreSQL
outbox (issue 15): every customer's reminder planned once, sent once, none lost."""

from __future__ import annotations

import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from reminder_pipeline.config_files import load_templates
from reminder_pipeline.core.outbox import OutboxStatus
from reminder_pipeline.core.planning.shards import Shard
from reminder_pipeline.ledger.store import Ledger, upgrade_ledger
from reminder_pipeline.reminders.service import DayPlan, plan_and_record_day, render_day
from reminder_pipeline_tests.delivery import workers
from reminder_pipeline_tests.delivery.crowd import DAY, MORNING, POLICY, SEND_AT, SIGNER, owing, people
from reminder_pipeline_tests.delivery.helpers import keys_received, rows, statuses

S = OutboxStatus
CUSTOMERS = 4_000
SHARDS = 4


def _plan_shard(url: str, shard: Shard) -> DayPlan:
    """One shard's plan through its own connection pool, as a separate process or pod would run it."""
    with Ledger(url) as ledger:
        return plan_and_record_day(
            ledger, POLICY, DAY, MORNING, run_id=f"shard-{shard.label}", business_tz="UTC", shard=shard
        )


def test_a_day_planned_by_shards_at_once_is_sent_exactly_once_by_four_workers(
    postgres_url: str, tmp_path: Path, sandbox
) -> None:
    upgrade_ledger(postgres_url)
    with Ledger(postgres_url) as ledger:
        owing(ledger, tmp_path, people(CUSTOMERS))
        shards = [Shard(i, SHARDS) for i in range(SHARDS)]
        with ThreadPoolExecutor(SHARDS) as pool:
            plans = list(pool.map(lambda shard: _plan_shard(postgres_url, shard), shards))
        planned = [plan.summary()["send"] for plan in plans]
        assert sum(planned) == CUSTOMERS
        assert all(n > 0 for n in planned), planned
        assert all(plan.written.cancelled == 0 for plan in plans)  # no shard undid another's rows
        render_day(ledger, POLICY, load_templates(), SIGNER, DAY, MORNING)
        assert statuses(ledger) == {S.RENDERED: CUSTOMERS}
        options = ("--concurrency", "8", "--per-second", "2000", "--batch-size", "100")
        running = [workers.start(postgres_url, SEND_AT, sandbox.url, *options) for _ in range(4)]
        outputs = [worker.communicate(timeout=600) for worker in running]
        assert [w.returncode for w in running] == [0] * 4, [err[-2000:] for _, err in outputs]
        sent_by_worker = [json.loads(out)["email"]["sent"] for out, _ in outputs]
        assert sum(sent_by_worker) == CUSTOMERS
        received = keys_received(sandbox.control.messages())
        assert Counter(received.values()) == {1: CUSTOMERS}
        assert set(received) == {r["dedupe_key"] for r in rows(ledger).values()}
        assert statuses(ledger) == {S.SENT: CUSTOMERS}
