"""Fixtures shared by the Dagster tests of every domain."""

from __future__ import annotations

from pathlib import Path

import pytest

from reminder_pipeline_tests.defs.runs import write_two_day_drop


@pytest.fixture
def two_day_drop(tmp_path: Path) -> Path:
    return write_two_day_drop(tmp_path / "drop")
