"""The ledger resource migrates the ledger in its setup, so that assets work on a fresh database."""

from __future__ import annotations

import socket

import dagster as dg
import pytest

from reminder_pipeline.defs.common.ledger import LedgerResource
from reminder_pipeline.ledger.engine import LedgerUnavailable
from reminder_pipeline.ledger.migrate import current_revision, head_revision


def test_setup_creates_the_ledger_of_a_fresh_database(ledger_url: str) -> None:
    with dg.build_resources({"ledger": LedgerResource(url=ledger_url)}) as resources:
        ledger = resources.ledger
        assert ledger._upgraded
        assert current_revision(ledger.open().engine) == head_revision()


def test_a_database_that_does_not_answer_at_setup_is_left_to_the_step() -> None:
    """A failed setup would fail the run with no retry: the step's first open tries again, and fails there."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with dg.build_resources(
        {"ledger": LedgerResource(url=f"postgresql+psycopg2://postgres@127.0.0.1:{port}/x")}
    ) as res:
        assert not res.ledger._upgraded
        with pytest.raises(LedgerUnavailable, match="cannot open the ledger"):
            res.ledger.open()


def test_a_ledger_url_that_can_never_work_fails_the_setup() -> None:
    resources = dg.build_resources({"ledger": LedgerResource(url="sqlit:///x.sqlite")})
    with pytest.raises(dg.DagsterResourceFunctionError) as raised:
        resources.__enter__()
    assert isinstance(raised.value.user_exception, LedgerUnavailable)
    assert "names the database 'sqlit'" in str(raised.value.user_exception)
