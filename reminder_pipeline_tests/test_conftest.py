"""The test fixtures themselves: a PostgreSQL test must run on PostgreSQL or fail, never skip."""

from __future__ import annotations

import pytest

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
