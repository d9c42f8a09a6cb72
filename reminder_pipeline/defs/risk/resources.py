"""Resources of the risk domain: where the daily feature frames live."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg
import polars as pl

from reminder_pipeline import settings


class FeatureStore(dg.ConfigurableResource):
    """Daily frames as Parquet: ``<root>/<name>/<YYYY-MM-DD>.parquet`` (root defaults to the data directory)."""

    root: str | None = None

    def _path(self, name: str, day: date) -> Path:
        base = Path(self.root) if self.root else settings.data_dir() / "features"
        return base / name / f"{day.isoformat()}.parquet"

    def write(self, name: str, day: date, frame: pl.DataFrame) -> Path:
        path = self._path(name, day)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".parquet.partial")
        frame.write_parquet(partial)
        partial.replace(path)
        return path

    def read(self, name: str, day: date) -> pl.DataFrame:
        path = self._path(name, day)
        if not path.exists():
            raise FileNotFoundError(f"no {name} for {day}: materialize {name} for that business day first")
        return pl.read_parquet(path)
