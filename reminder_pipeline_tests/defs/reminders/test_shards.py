"""The plan by customer shard in Dagster: one run per (day, shard) partition, each deciding its shard's
customers; together every customer once. Not registered at the default of one shard."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from sqlalchemy import select

from reminder_pipeline.core.planning.shards import Shard
from reminder_pipeline.defs.reminders import shards as sharded
from reminder_pipeline.ledger.schema import reminder_decisions
from reminder_pipeline.ledger.store import Ledger, upgrade_ledger
from reminder_pipeline_tests.defs.runs import MORNING, asset_resources
from reminder_pipeline_tests.delivery.crowd import DAY, owing, people

COUNT = 3


def test_each_shard_partition_plans_its_customers_and_together_all(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    upgrade_ledger(url)
    crowd = people(60)
    with Ledger(url) as ledger:
        owing(ledger, tmp_path, crowd)
    job = sharded.sharded_plan_job(COUNT)
    decided: dict[str, set[str]] = {}
    with dg.instance_for_test() as instance:
        for index in range(COUNT):
            key = dg.MultiPartitionKey({"date": DAY.isoformat(), "shard": str(index)})
            result = job.execute_in_process(
                instance=instance,
                resources=asset_resources(tmp_path),
                partition_key=key,
                run_config={"ops": {"plan_shard": MORNING}},
            )
            assert result.success
            assert result.output_for_node("plan_shard")["shard"] == f"{index}-of-{COUNT}"
            with Ledger(url) as ledger, ledger.begin() as connection:
                runs = select(reminder_decisions.c.customer_id).where(reminder_decisions.c.run_id == result.run_id)
                decided[str(index)] = set(connection.execute(runs).scalars())
    ids = {p.customer_id for p in crowd}
    assert set().union(*decided.values()) == ids
    assert sum(len(d) for d in decided.values()) == len(ids)
    for shard_key, customers in decided.items():
        assert customers
        assert {c for c in ids if Shard(int(shard_key), COUNT).members(_frame([c])).height} == customers


def _frame(ids: list[str]) -> pl.DataFrame:
    return pl.DataFrame({"customer_id": ids})


def test_one_shard_the_default_registers_no_sharded_job(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(sharded.SHARDS_ENV, raising=False)
    assert sharded.plan_shards() == 1
    monkeypatch.setenv(sharded.SHARDS_ENV, "4")
    assert sharded.plan_shards() == 4
    monkeypatch.setenv(sharded.SHARDS_ENV, "0")
    with pytest.raises(ValueError, match="at least 1"):
        sharded.plan_shards()
