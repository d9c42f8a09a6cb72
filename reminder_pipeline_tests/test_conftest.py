"""The test fixtures themselves: a PostgreSQL test must run on PostgreSQL or fail, never skip."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from reminder_pipeline.ledger.migrate import current_revision, head_revision
from reminder_pipeline.ledger.schema import customers
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline_tests import conftest


def test_postgres_down_fails_after_trying_to_start_it(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[bool] = []
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(conftest, "_pg_answers", lambda: False)
    monkeypatch.setattr(conftest, "_start_postgres", lambda: started.append(True))
    with pytest.raises(pytest.fail.Exception, match="does not answer"):
        conftest.require_postgres()
    assert started == [True]


def test_postgres_started_on_demand_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter([False, True])
    monkeypatch.setattr(conftest, "_pg_answers", lambda: next(answers))
    monkeypatch.setattr(conftest, "_start_postgres", lambda: None)
    assert conftest.require_postgres() == conftest.PG_ADMIN


def test_an_upgraded_ledger_is_at_the_latest_revision_and_each_test_has_its_own(
    upgraded_ledger_url: str, ledger: Ledger
) -> None:
    """The copy of the once-migrated template is at head (a Ledger opens only then) and starts empty."""
    assert current_revision(ledger.engine) == head_revision()
    with ledger.begin() as connection:
        assert connection.execute(select(func.count()).select_from(customers)).scalar_one() == 0
