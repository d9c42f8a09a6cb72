"""Benchmark: a daily run on generated data through the services the Dagster assets call, and how well
the model recovers the behaviours.

The data is generated in a separate process so that the peak memory measured is the pipeline's. It
is cut to what the billing system knew on the benchmark day (invoices issued, payments made and
disputes opened by then), as the daily drop files deliver it. Timed stages, each one service call
on a fresh SQLite ledger: ingesting customers, invoices and payments (``ingest_table``), training
and registering a model (``train_and_register``), the day's features (``features_by_day``),
scoring (``score_and_record_day``), segmenting (``segment_and_record_day``), planning the day's
reminders (``plan_and_record_day``: one decision per customer with open invoices) and writing their
messages (``render_day``: last look, rendering, checks, statuses). Reported: validation AUC and
calibration, and predicted against observed late share per latent behaviour. Results go to
benchmarks/results/daily_run.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import polars as pl

if TYPE_CHECKING:
    from reminder_pipeline.ledger.store import Ledger

HERE = Path(__file__).resolve().parent
BUDGET_SECONDS, BUDGET_MIB = 600, 8192
START, END = date(2024, 11, 1), date(2026, 10, 31)
DAY = END - timedelta(days=15)  # a Friday: reminders go out on weekdays
MORNING = datetime.combine(DAY, clock(6), tzinfo=UTC)
INVOICES_PER_CUSTOMER = 16
RUN_ID = "benchmark"
LINK_SECRET = "benchmark-secret-not-a-real-one"
TABLES = ("customers", "invoices", "payments")
LEDGER_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
T = TypeVar("T")


def known_on_day(customers: pl.DataFrame, invoices: pl.DataFrame, payments: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """The billing tables as delivered by the end of ``DAY``: customers from their first invoice, invoices
    issued by then (settlements come as payments; a dispute only once opened), payments made by then."""
    day = DAY.isoformat()  # the generated dates are ISO text, so text order is date order
    disputed = pl.col("dispute_date").is_not_null() & (pl.col("dispute_date") <= day)
    return {
        "customers": customers.filter(pl.col("first_invoice_date") <= DAY).with_columns(pl.all().cast(pl.String)),
        "invoices": invoices.filter(pl.col("issue_date") <= day).with_columns(
            pl.lit(None, dtype=pl.String).alias("paid_date"),
            pl.lit(None, dtype=pl.String).alias("paid_amount"),
            pl.when(disputed).then(pl.lit("true")).alias("disputed"),
            pl.when(disputed).then(pl.col("dispute_date")).alias("dispute_date"),
        ),
        "payments": payments.filter(pl.col("paid_date") <= day),
    }


def generate(customers: int, work: Path) -> None:
    """The billing system's CSV exports as of ``DAY`` and the hidden behaviours, into ``work``."""
    from reminder_pipeline.demo.generator import generate_demo_data

    data = generate_demo_data(customers * INVOICES_PER_CUSTOMER, seed=2026, start=START, end=END, dirty_rate=0.0)
    work.mkdir(parents=True, exist_ok=True)
    for name, frame in known_on_day(data.customers, data.invoices, data.payments).items():
        frame.write_csv(work / f"{name}.csv")
    data.truth.write_parquet(work / "truth.parquet")


def fresh_ledger(work: Path) -> Ledger:
    """An empty, migrated SQLite ledger in ``work``."""
    from reminder_pipeline.ledger.store import Ledger, upgrade_ledger

    for stale in work.glob("ledger.sqlite*"):
        stale.unlink()
    url = f"sqlite:///{work / 'ledger.sqlite'}"
    upgrade_ledger(url)
    return Ledger(url)


@contextmanager
def day_ledger(backend: str, work: Path) -> Iterator[Ledger]:
    """A fresh, migrated ledger for the run: a SQLite file in ``work``, or a PostgreSQL database made for it on
    this machine's server and dropped afterwards."""
    if backend == "sqlite":
        ledger = fresh_ledger(work)
        try:
            yield ledger
        finally:
            ledger.dispose()
        return
    from benchmarks.scratch_postgres import scratch_database
    from reminder_pipeline.ledger.store import Ledger, upgrade_ledger

    with scratch_database("rp_bench_day") as url:
        upgrade_ledger(url)
        ledger = Ledger(url)
        try:
            yield ledger
        finally:
            ledger.dispose()


def ingest(ledger: Ledger, work: Path) -> dict[str, Any]:
    """Each exported table through the ingestion service the billing assets call; counts per table."""
    from reminder_pipeline.core.canonical import Entity
    from reminder_pipeline.ingestion.files import read_file
    from reminder_pipeline.ingestion.service import ingest_table

    counts: dict[str, Any] = {}
    for name in TABLES:
        report = ingest_table(ledger, read_file(work / f"{name}.csv"), entity=Entity(name), business_date=DAY)[-1]
        counts[name] = {"rows_in": report.rows_in, "accepted": report.accepted, "quarantined": report.quarantined}
    return counts


CPU_S: dict[str, float] = {}
"""CPU seconds per stage (all the process's threads): on a shared, loaded machine wall time varies, this less."""


def timed(timings: dict[str, float], stage: str, work: Callable[[], T]) -> T:
    started, cpu = time.perf_counter(), time.process_time()
    value = work()
    timings[stage] = round(time.perf_counter() - started, 2)
    CPU_S[stage] = round(time.process_time() - cpu, 2)
    return value


def _by_behaviour(validation: pl.DataFrame, work: Path) -> pl.DataFrame:
    truth = pl.read_parquet(work / "truth.parquet").select("customer_id", "behaviour")
    return (
        validation.join(truth, on="customer_id")
        .group_by("behaviour")
        .agg(
            pl.len().alias("invoices"),
            pl.col("p_late").mean().round(3).alias("predicted_late_share"),
            pl.col("late").cast(pl.Float64).mean().round(3).alias("observed_late_share"),
        )
        .sort("observed_late_share")
    )


def run(work: Path, backend: str = "sqlite") -> dict[str, Any]:
    """The day, one service call per stage, as the daily job's assets make them, on a fresh ledger of ``backend``
    (on PostgreSQL the CPU seconds are this process's alone: the database's own work shows in the wall time)."""
    with day_ledger(backend, work) as ledger:
        result = _run_on(ledger, work)
    return {"ledger": backend, **result}


def _run_on(ledger: Ledger, work: Path) -> dict[str, Any]:
    from reminder_pipeline import settings
    from reminder_pipeline.config_files import load_policy, load_templates
    from reminder_pipeline.core.rendering.links import LinkSigner
    from reminder_pipeline.reminders.service import plan_and_record_day, render_day
    from reminder_pipeline.risk.service import (
        features_by_day,
        score_and_record_day,
        segment_and_record_day,
        train_and_register,
    )

    policy, templates, signer = load_policy(), load_templates(), LinkSigner(LINK_SECRET)
    timings: dict[str, float] = {}
    ingested = timed(timings, "ingest_billing", lambda: ingest(ledger, work))
    training = timed(timings, "train_model", lambda: train_and_register(ledger, DAY, run_id=RUN_ID))
    features = timed(timings, "features_of_the_day", lambda: dict(features_by_day(ledger, [DAY]))[DAY])
    risk = timed(timings, "score", lambda: score_and_record_day(ledger, features, DAY, policy.segmentation))
    segments = timed(
        timings,
        "segment",
        lambda: segment_and_record_day(ledger, features, DAY, policy.segmentation, policy.version),
    )
    zone = settings.business_timezone()
    plan = timed(
        timings,
        "plan_reminders",
        lambda: plan_and_record_day(ledger, policy, DAY, MORNING, run_id=RUN_ID, business_tz=zone),
    )
    messages = timed(timings, "render_messages", lambda: render_day(ledger, policy, templates, signer, DAY, MORNING))
    candidate = training.candidate
    metrics = candidate.metrics["candidate"] or {}
    peak_mib = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    total_s = sum(timings.values())
    planned, written = plan.summary(), messages.summary()
    return {
        "within_budget": total_s <= BUDGET_SECONDS and peak_mib <= BUDGET_MIB,
        "total_s": round(total_s, 1),
        "customers": ingested["customers"]["accepted"],
        "invoices": ingested["invoices"]["accepted"],
        "payments": ingested["payments"]["accepted"],
        "ingested": ingested,
        "day": DAY.isoformat(),
        "model_version": training.version,
        "model_status": training.status,
        "scorer": risk.scored.scorer,
        "fallback": risk.fallback,
        "fit_invoices": candidate.n_fit,
        "classifier_trees": candidate.model.classifier.num_trees() if candidate.model else 0,
        "days_late_trees": candidate.model.days_late.num_trees() if candidate.model else 0,
        "early_stopping_rounds": candidate.model.rounds if candidate.model else {},
        "validation_invoices": candidate.n_validation,
        "open_invoices_scored": features.height,
        "customers_segmented": segments.height,
        "decisions": plan.decisions.height,
        "decisions_by_outcome": dict(plan.decisions.group_by("decision").len().sort("decision").iter_rows()),
        "outbox_added": planned["outbox_added"],
        "messages_rendered": written["rendered"],
        "messages_held": written["held"],
        "messages_cancelled": written["cancelled"],
        "timings_s": timings,
        "cpu_s": dict(CPU_S),
        "training_plus_scoring_s": round(
            timings["train_model"] + timings["features_of_the_day"] + timings["score"] + timings["segment"], 1
        ),
        "plan_plus_messages_s": round(timings["plan_reminders"] + timings["render_messages"], 1),
        "validation": {k: round(v, 4) for k, v in metrics.items()},
        "rule_validation": {k: round(v, 4) for k, v in (candidate.metrics["rule"] or {}).items()},
        "gate": candidate.verdict,
        "calibration": candidate.calibration.to_dicts(),
        "by_behaviour": _by_behaviour(candidate.validation, work).to_dicts() if candidate.validation.height else [],
        "peak_memory_mib": peak_mib,
    }


def _markdown(result: dict[str, Any]) -> str:
    lines = [
        f"# Daily-run benchmark: {result['customers']:,} customers, {result['invoices']:,} invoices",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}. "
        "Command: `make bench` (`python -m benchmarks.daily_run`). Every stage is a call of the service the "
        f"Dagster asset calls, on a fresh {LEDGER_NAMES[result.get('ledger', 'sqlite')]} ledger. "
        "Budget: a day's run (ingest and training included) "
        f"within {BUDGET_SECONDS // 60} minutes and {BUDGET_MIB // 1024} GiB on 2 cores; "
        f"{'met' if result['within_budget'] else 'NOT met'}.",
        "",
        "| stage | seconds |",
        "|---|---|",
        *[f"| {stage} | {seconds} |" for stage, seconds in result["timings_s"].items()],
        f"| **training + scoring** | **{result['training_plus_scoring_s']}** |",
        f"| **plan + messages** | **{result['plan_plus_messages_s']}** |",
        "",
        f"Peak memory: {result['peak_memory_mib']} MiB. {result['payments']:,} payments ingested as of "
        f"{result['day']}. Model {result['model_version']} ({result['model_status']}), fit on "
        f"{result['fit_invoices']:,} invoices, validated on {result['validation_invoices']:,} due in the last 60 "
        f"days; {result['open_invoices_scored']:,} open invoices scored by {result['scorer']}, "
        f"{result['customers_segmented']:,} customers segmented, {result['decisions']:,} reminder decisions "
        f"({result['decisions_by_outcome']}), {result['outbox_added']:,} outbox rows added, "
        f"{result['messages_rendered']:,} messages written ({result['messages_held']:,} held by a check, "
        f"{result['messages_cancelled']:,} cancelled at the last look).",
        "",
        f"Validation: AUC {result['validation'].get('auc')}, PR-AUC {result['validation'].get('pr_auc')}, "
        f"Brier {result['validation'].get('brier')} (rule score: AUC {result['rule_validation'].get('auc')}, "
        f"Brier {result['rule_validation'].get('brier')}). Quality gate: {result['gate']}.",
        "",
        "| latent behaviour | invoices | predicted late share | observed late share |",
        "|---|---|---|---|",
        *[
            f"| {r['behaviour']} | {r['invoices']:,} | {r['predicted_late_share']} | {r['observed_late_share']} |"
            for r in result["by_behaviour"]
        ],
        "",
        "| predicted P(late) | invoices | mean predicted | observed |",
        "|---|---|---|---|",
        *[
            f"| {r['band']} | {r['invoices']:,} | {r['predicted']:.3f} | {r['observed']:.3f} |"
            for r in result["calibration"]
        ],
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--work", type=Path, default=HERE / "work" / "daily_run")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--stage", choices=["all", "generate", "run"], default="all")
    parser.add_argument("--ledger", choices=["sqlite", "postgresql"], default="sqlite", help="The run's ledger.")
    args = parser.parse_args()
    if args.stage == "generate":
        generate(args.customers, args.work)
        return
    if args.stage == "run":
        print(json.dumps(run(args.work, args.ledger)))
        return
    for stage in ("generate", "run"):
        command = [sys.executable, "-m", "benchmarks.daily_run", "--stage", stage, "--customers", str(args.customers)]
        completed = subprocess.run(
            [*command, "--work", str(args.work), "--ledger", args.ledger],
            capture_output=True,
            text=True,
            check=True,
            cwd=HERE.parent,
        )
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "daily_run.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out / "daily_run.md").write_text(_markdown(result))
    print(_markdown(result))


if __name__ == "__main__":
    main()
