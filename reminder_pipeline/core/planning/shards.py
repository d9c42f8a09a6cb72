"""Customer shards: one day's planning split by customer so its parts can run in separate processes.

A customer's shard is a stable function of its id (CRC-32 of the UTF-8 id, modulo the shard count), the same
in every process and every Python run (``hash()`` of a string is randomised per process). Decisions are made
per customer, so the union of the shards' plans is the plan of one run over everyone.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class Shard:
    index: int
    count: int

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise ValueError(f"shard {self.index} of {self.count}: needs 0 <= index < count and count >= 1")

    @property
    def whole(self) -> bool:
        """One shard holds every customer: nothing to filter."""
        return self.count == 1

    @property
    def label(self) -> str:
        return f"{self.index}-of-{self.count}"

    def members(self, frame: pl.DataFrame, column: str = "customer_id") -> pl.DataFrame:
        """The rows of ``frame`` whose customer is in this shard (all of them for a single shard)."""
        if self.whole:
            return frame
        return frame.filter(shard_of(frame[column], self.count) == self.index)


ALL_CUSTOMERS = Shard(0, 1)


def shard_of(customer_ids: pl.Series, count: int) -> pl.Series:
    """Each customer id's shard among ``count``: CRC-32 of the id modulo ``count`` (null ids in shard 0)."""
    unique = customer_ids.drop_nulls().unique()
    shards = pl.Series("shard", [zlib.crc32(c.encode()) % count for c in unique.to_list()], dtype=pl.Int64)
    lookup = dict(zip(unique.to_list(), shards.to_list(), strict=True))
    return customer_ids.replace_strict(lookup, default=0, return_dtype=pl.Int64).alias("shard")
