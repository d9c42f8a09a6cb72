"""Risk through the services the assets call: features, scores and segments of a day, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import func, select

from reminder_pipeline.config_files import load_policy
from reminder_pipeline.core.canonical import Entity
from reminder_pipeline.core.planning.reasons import Decision
from reminder_pipeline.core.scoring import MOST_AT_RISK, RULE_SCORER
from reminder_pipeline.demo.files import write_history
from reminder_pipeline.demo.generator import generate_demo_data
from reminder_pipeline.ledger.model_registry import ACTIVE
from reminder_pipeline.ledger.risk import read_scores
from reminder_pipeline.ledger.schema import customer_segments, risk_scores
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.reminders.service import plan_and_record_day
from reminder_pipeline.risk.service import (
    features_by_day,
    score_and_record_day,
    segment_and_record_day,
    train_and_register,
)
from reminder_pipeline_tests.ingestion.helpers import ingest_file

START, DAY = date(2026, 1, 1), date(2026, 4, 30)
POLICY = load_policy()


@pytest.fixture
def billed(ledger: Ledger, tmp_path: Path) -> Ledger:
    files = write_history(generate_demo_data(800, seed=5, start=START, end=DAY, dirty_rate=0.0), tmp_path)
    for entity in (Entity.CUSTOMERS, Entity.INVOICES, Entity.PAYMENTS):
        ingest_file(ledger, files[entity.value], entity)
    return ledger


def _count(ledger: Ledger, table: object, day: date) -> int:
    with ledger.begin() as connection:
        return int(
            connection.execute(
                select(func.count()).select_from(table).where(table.c.business_date == day)  # type: ignore[attr-defined]
            ).scalar_one()
        )


def test_a_day_without_a_model_is_scored_by_rule_and_segmented(billed: Ledger) -> None:
    [(day, features)] = list(features_by_day(billed, [DAY]))
    assert day == DAY
    assert features.height > 0
    assert features["as_of"].unique().to_list() == [DAY]
    risk = score_and_record_day(billed, features, DAY, POLICY.segmentation)
    assert risk.scored.scorer == RULE_SCORER
    assert risk.fallback == "no model trained on or before this day"
    assert risk.drift == {}, "no model, no reference to drift from"
    assert _count(billed, risk_scores, DAY) == risk.scored.customers.height
    segments = segment_and_record_day(billed, features, DAY, POLICY.segmentation, POLICY.version)
    assert segments.height == risk.scored.customers.height
    assert _count(billed, customer_segments, DAY) == segments.height


def test_too_little_history_trains_nothing_and_registers_nothing(billed: Ledger) -> None:
    training = train_and_register(billed, START.replace(month=2), run_id="run-0123456789")
    assert training.candidate.model is None
    assert training.status is None
    assert training.version.endswith("-run-01")


def test_every_customer_the_plan_contacts_has_reasons_even_beyond_the_models_budget(
    ledger: Ledger, tmp_path: Path
) -> None:
    start, day = date(2025, 6, 1), date(2026, 4, 30)  # a Thursday
    files = write_history(generate_demo_data(3000, seed=11, start=start, end=day, dirty_rate=0.0), tmp_path)
    for entity in (Entity.CUSTOMERS, Entity.INVOICES, Entity.PAYMENTS):
        ingest_file(ledger, files[entity.value], entity)
    assert train_and_register(ledger, day, run_id="run-reasons").status == ACTIVE
    [(_, features)] = list(features_by_day(ledger, [day]))
    risk = score_and_record_day(ledger, features, day, POLICY.segmentation, reason_budget=0)
    assert risk.scored.scorer != RULE_SCORER, "a model scored the day; only the likeliest got its reasons"
    segment_and_record_day(ledger, features, day, POLICY.segmentation, POLICY.version)
    morning = datetime.combine(day, time(6), tzinfo=UTC)
    plan = plan_and_record_day(ledger, POLICY, day, morning, run_id="run-reasons", business_tz="UTC")
    contacted = plan.decisions.filter(pl.col("decision").is_in([Decision.SEND.value, Decision.HANDOFF.value]))
    with ledger.begin() as connection:
        scores = read_scores(connection, day).join(contacted.select("customer_id"), on="customer_id", how="semi")
    assert scores.height == contacted["customer_id"].n_unique() > MOST_AT_RISK
    at_risk = scores.filter(pl.col("risk_band") != next(iter(POLICY.segmentation.risk_bands)))
    assert at_risk.height > MOST_AT_RISK, "contacted customers at risk beyond those the model explains"
    unexplained = [c for c, reasons in at_risk.select("customer_id", "reasons").iter_rows() if not json.loads(reasons)]
    assert unexplained == [], "every contacted customer at risk is told why"
