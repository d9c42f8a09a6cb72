"""The reminder plan and the rendered messages, materialized by Dagster day after day on generated data."""

from __future__ import annotations

import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from sqlalchemy import func, select, update

from reminder_pipeline.defs.ingestion.assets import customers, invoices, payments
from reminder_pipeline.defs.reminders.assets import reminder_plan, rendered_messages
from reminder_pipeline.defs.risk.assets import customer_features, customer_segments, risk_scores
from reminder_pipeline.demo.files import write_drop_folder
from reminder_pipeline.demo.generator import generate_demo_data
from reminder_pipeline.ledger import schema
from reminder_pipeline.ledger.outbox import latest_decisions
from reminder_pipeline.ledger.schema import outbox, reminder_messages
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline_tests.defs.runs import MORNING, asset_metadata, asset_resources, partition_range

START, END = date(2026, 1, 1), date(2026, 3, 13)  # ends on a Friday
DAYS = [END - timedelta(days=n) for n in (4, 3, 2, 1, 0)]  # Monday .. Friday


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Ten weeks of generated billing data ingested, the last week scored (rule score) and segmented."""
    workdir = tmp_path_factory.mktemp("reminders")
    write_drop_folder(generate_demo_data(2500, seed=11, start=START, end=END, dirty_rate=0.0), workdir / "drop")
    with dg.instance_for_test() as instance:
        for assets, days in (
            ([customers, invoices, payments], (START, END)),
            ([customer_features, risk_scores, customer_segments], (DAYS[0], END)),
        ):
            result = dg.materialize(
                assets, instance=instance, resources=asset_resources(workdir), tags=partition_range(*days)
            )
            assert result.success
    return workdir


@pytest.fixture
def workdir(scored: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "work"
    shutil.copytree(scored, copy, ignore=shutil.ignore_patterns("drop"))
    return copy


def _remind(workdir: Path, instance: dg.DagsterInstance, day: date, policy: str | None = None) -> dg.ExecuteInJobResult:
    return dg.materialize(
        [reminder_plan, rendered_messages],
        instance=instance,
        resources=asset_resources(workdir, policy=policy),
        partition_key=day.isoformat(),
        run_config={"ops": {"reminder_plan": MORNING, "rendered_messages": MORNING}},
        raise_on_error=False,
    )


def _ledger(workdir: Path) -> Ledger:
    return Ledger(f"sqlite:///{workdir / 'ledger.sqlite'}")


def test_a_week_of_daily_plans_and_messages(workdir: Path) -> None:
    with dg.instance_for_test() as instance:
        results = [_remind(workdir, instance, day) for day in DAYS]
    assert all(r.success for r in results)
    assert all(check.passed for r in results for check in r.get_asset_check_evaluations())
    plan_meta, message_meta = (
        asset_metadata(results[-1], "reminder_plan"),
        asset_metadata(results[-1], "rendered_messages"),
    )
    assert plan_meta["to_send"] > 0
    assert message_meta["rendered"] == plan_meta["to_send"] - message_meta["cancelled"]
    assert message_meta["held"] == 0
    with _ledger(workdir) as ledger, ledger.begin() as connection:
        rows = pl.DataFrame(
            [dict(r._mapping) for r in connection.execute(select(outbox)).all()], infer_schema_length=None
        )
        decisions = latest_decisions(connection, END)
        messages = connection.execute(select(func.count()).select_from(reminder_messages)).scalar_one()
        names = [r[0] for r in connection.execute(select(schema.customers.c.name)).all() if r[0]]
        emails = [r[0] for r in connection.execute(select(schema.customers.c.email)).all() if r[0]]
    assert decisions["customer_id"].is_unique().all(), "one decision per customer per day"
    assert rows["dedupe_key"].is_unique().all()
    assert (
        messages
        == rows.filter(pl.col("channel") != "collector").filter(pl.col("status").is_in(["rendered", "expired"])).height
    )
    messages_sent_per_day = rows.filter(pl.col("channel") != "collector").group_by("customer_id", "send_on").len()
    assert messages_sent_per_day["len"].max() == 1, "never two messages for a customer on one local day"
    preview = str(message_meta["preview"])
    assert not [name for name in names if name in preview], "names are masked in metadata"
    assert not [email for email in emails if email in preview], "addresses are masked in metadata"
    assert not re.search(r"/p/\d+\.\w+\.[\w-]{20,}", preview), "link tokens are not shown"


def test_running_a_day_again_adds_nothing(workdir: Path) -> None:
    with dg.instance_for_test() as instance:
        assert _remind(workdir, instance, END).success
        with _ledger(workdir) as ledger, ledger.begin() as connection:
            before = connection.execute(select(outbox.c.dedupe_key, outbox.c.status)).all()
        again = _remind(workdir, instance, END)
    assert again.success
    assert asset_metadata(again, "reminder_plan")["outbox_added"] == 0
    with _ledger(workdir) as ledger, ledger.begin() as connection:
        assert sorted(connection.execute(select(outbox.c.dedupe_key, outbox.c.status)).all()) == sorted(before)


def test_a_failing_check_holds_the_messages_and_blocks_the_run(workdir: Path, tmp_path: Path) -> None:
    shipped = Path(__file__).resolve().parents[3] / "reminder_pipeline" / "policies" / "default.yaml"
    broken = tmp_path / "policy.yaml"
    broken.write_text(shipped.read_text().replace("name: Example Supplies Ltd", "name: Example {{ company }}"))
    with dg.instance_for_test() as instance:
        result = _remind(workdir, instance, END, policy=str(broken))
    assert not result.success, "a blocking check failed"
    failed = {c.check_name for c in result.get_asset_check_evaluations() if not c.passed}
    assert failed == {"no_unrendered_placeholder"}
    with _ledger(workdir) as ledger, ledger.begin() as connection:
        statuses = {
            r[0] for r in connection.execute(select(outbox.c.status).where(outbox.c.channel != "collector")).all()
        }
        problems = {r[0] for r in connection.execute(select(reminder_messages.c.problems)).all()}
    assert statuses == {"held"}
    assert problems == {"no_unrendered_placeholder"}


def test_an_opt_out_after_planning_cancels_the_message(workdir: Path) -> None:
    with dg.instance_for_test() as instance:
        planned = dg.materialize(
            [reminder_plan],
            instance=instance,
            resources=asset_resources(workdir),
            partition_key=END.isoformat(),
            run_config={"ops": {"reminder_plan": MORNING}},
        )
        assert planned.success
        with _ledger(workdir) as ledger, ledger.begin() as connection:
            emailed = connection.execute(
                select(outbox.c.customer_id).where(outbox.c.channel == "email", outbox.c.status == "planned")
            ).all()
            opted_out = [r[0] for r in emailed[:3]]
            connection.execute(
                update(schema.customers)
                .where(schema.customers.c.customer_id.in_(opted_out))
                .values(email_opt_out_at=func.current_timestamp())
            )
        rendered = dg.materialize(
            [rendered_messages],
            instance=instance,
            resources=asset_resources(workdir),
            partition_key=END.isoformat(),
            run_config={"ops": {"rendered_messages": MORNING}},
        )
    assert rendered.success
    with _ledger(workdir) as ledger, ledger.begin() as connection:
        cancelled = connection.execute(
            select(outbox.c.customer_id, outbox.c.status_reason).where(outbox.c.status == "cancelled")
        ).all()
    assert {r[0] for r in cancelled} == set(opted_out)
    assert all("opted out of email" in r[1] for r in cancelled)
