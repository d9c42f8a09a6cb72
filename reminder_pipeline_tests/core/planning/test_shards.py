"""Customer shards: a stable function of the id, covering every customer once."""

from __future__ import annotations

import subprocess
import sys
import zlib

import polars as pl
import pytest

from reminder_pipeline.core.planning.shards import ALL_CUSTOMERS, Shard, shard_of

IDS = pl.Series("customer_id", [f"C{i:05d}" for i in range(2_000)])


def test_a_customers_shard_is_crc32_of_its_id_the_same_in_every_process() -> None:
    assert shard_of(pl.Series(["C00001"]), 4).item() == zlib.crc32(b"C00001") % 4
    other = subprocess.run(
        [
            sys.executable,
            "-c",
            "import polars as pl; from reminder_pipeline.core.planning.shards import shard_of;"
            "print(shard_of(pl.Series([f'C{i:05d}' for i in range(2000)]), 4).to_list())",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert other.stdout.strip() == str(shard_of(IDS, 4).to_list())


def test_the_shards_split_every_customer_once_and_about_evenly() -> None:
    frame = pl.DataFrame({"customer_id": IDS})
    parts = [Shard(i, 4).members(frame) for i in range(4)]
    assert pl.concat(parts).sort("customer_id").equals(frame)
    assert all(400 < part.height < 600 for part in parts)
    assert ALL_CUSTOMERS.members(frame) is frame


@pytest.mark.parametrize(("index", "count"), [(0, 0), (2, 2), (-1, 3)])
def test_a_shard_outside_its_count_is_refused(index: int, count: int) -> None:
    with pytest.raises(ValueError, match="needs 0 <= index < count"):
        Shard(index, count)
