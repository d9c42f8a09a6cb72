"""Benchmark: the compute of a daily run on generated data, and how well the model recovers the behaviours.

The data is generated in a separate process so that the peak memory measured is the pipeline's.
Timed stages: building the history frames, training a candidate model (features of every
training invoice included), features of the invoices open on the day, scoring them, segmenting
the customers, planning the day's reminders (one decision per customer with open invoices) and
writing every message planned. Reported: validation AUC and calibration, and predicted against
observed late share per latent behaviour. Results go to benchmarks/results/daily_run.{json,md}.
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
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any, TypeVar

import polars as pl
from sqlalchemy import select

from reminder_pipeline.core.canonical import ROW_NUMBER, Entity
from reminder_pipeline.core.history import History
from reminder_pipeline.core.mapping import Mapping, ValueFormat, apply_mapping
from reminder_pipeline.core.outbox import COLLECTOR_CHANNEL
from reminder_pipeline.core.validation.result import ValidationResult

HERE = Path(__file__).resolve().parent
BUDGET_SECONDS, BUDGET_MIB = 600, 8192
START, END = date(2024, 11, 1), date(2026, 10, 31)
DAY = END - timedelta(days=15)  # a Friday: reminders go out on weekdays
INVOICES_PER_CUSTOMER = 16
T = TypeVar("T")


def generate(customers: int, work: Path) -> None:
    from reminder_pipeline.demo.generator import generate_demo_data

    data = generate_demo_data(customers * INVOICES_PER_CUSTOMER, seed=2026, start=START, end=END, dirty_rate=0.0)
    work.mkdir(parents=True, exist_ok=True)
    for name in ("customers", "invoices", "payments", "truth"):
        getattr(data, name).write_parquet(work / f"{name}.parquet")


def _accepted(
    work: Path, name: str, entity: Entity, validate: Callable[[pl.DataFrame, ValueFormat], ValidationResult]
) -> pl.DataFrame:
    raw = pl.read_parquet(work / f"{name}.parquet")
    raw = raw.with_row_index(ROW_NUMBER, offset=1).with_columns(pl.col(ROW_NUMBER).cast(pl.Int64))
    return validate(apply_mapping(raw, Mapping(entity=entity)), ValueFormat()).accepted


def load(work: Path) -> tuple[History, pl.DataFrame]:
    """The generated tables as the ledger would hold them (typed, validated), plus the contacts."""
    from reminder_pipeline.core.validation.customers import validate_customers
    from reminder_pipeline.core.validation.invoices import validate_invoices
    from reminder_pipeline.core.validation.payments import validate_payments

    customers = _accepted(work, "customers", Entity.CUSTOMERS, validate_customers)
    invoices = _accepted(work, "invoices", Entity.INVOICES, validate_invoices)
    payments = _accepted(work, "payments", Entity.PAYMENTS, validate_payments)
    disputes = invoices.filter(pl.col("dispute_date").is_not_null()).select(
        "invoice_id", pl.col("dispute_date").alias("opened_on")
    )
    history = History.of(customers=customers, invoices=invoices, payments=payments, disputes=disputes)
    stamp = pl.lit(DAY).cast(pl.Datetime("us", "UTC"))
    contacts = customers.select(
        "customer_id",
        "name",
        "email",
        "phone",
        "country",
        "time_zone",
        "locale",
        "preferred_channel",
        pl.when(pl.col("email_opt_out")).then(stamp).alias("email_opt_out_at"),
        pl.when(pl.col("sms_opt_out")).then(stamp).alias("sms_opt_out_at"),
        "sms_consent",
    )
    return history, contacts


def _plan(history: History, features: pl.DataFrame, contacts: pl.DataFrame, segments: pl.DataFrame, policy: Any) -> Any:
    """The day's decisions from an empty outbox: every customer whose step is due gets one (the most work)."""
    from reminder_pipeline.core.planning.plan import OUTBOX_SCHEMA, PROMISE_SCHEMA, PlanInputs, plan_day

    open_disputes = history.disputes.filter(pl.col("opened_on") <= DAY).select("invoice_id")
    inputs = PlanInputs(
        day=DAY,
        now=datetime.combine(DAY, clock(6), tzinfo=UTC),
        open_invoices=features.select(
            "invoice_id", "customer_id", "issue_date", "due_date", "currency", "balance_minor"
        ),
        disputed=open_disputes,
        promises=history.promises.with_columns(pl.lit(None, dtype=pl.String).alias("invoice_id")).select(
            list(PROMISE_SCHEMA)
        ),
        customers=contacts.drop("name"),
        segments=segments.select("customer_id", "risk_band", "aging_bucket", "value_tier", "channel"),
        outbox=pl.DataFrame(schema=OUTBOX_SCHEMA),
    )
    return plan_day(inputs, policy)


class _LedgerRun:
    """The day's plan and messages written to a fresh SQLite ledger, as the assets write them."""

    def __init__(self, work: Path, history: History) -> None:
        from reminder_pipeline.ledger import schema
        from reminder_pipeline.ledger.bulk import insert
        from reminder_pipeline.ledger.store import Ledger, upgrade_ledger

        path = work / "ledger.sqlite"
        for stale in work.glob("ledger.sqlite*"):
            stale.unlink()
        upgrade_ledger(f"sqlite:///{path}")
        self.ledger = Ledger(f"sqlite:///{path}")
        with self.ledger.begin() as connection:
            insert(
                connection, schema.customers, history.customers.select("customer_id", pl.lit("bench").alias("source"))
            )

    def write_plan(self, plan: Any, policy: Any) -> pl.DataFrame:
        """Decisions audited, reminders into the outbox; returns the message rows with their outbox ids."""
        from reminder_pipeline.ledger.outbox import record_decisions, write_plan
        from reminder_pipeline.ledger.schema import outbox

        with self.ledger.begin_write("outbox") as connection:
            record_decisions(connection, plan.decisions, run_id="bench", policy_version=policy.version)
            write_plan(connection, plan, DAY, policy_version=policy.version)
            ids = connection.execute(select(outbox.c.dedupe_key, outbox.c.outbox_id)).all()
        keys = pl.DataFrame(ids, schema={"dedupe_key": pl.String(), "outbox_id": pl.Int64()}, orient="row")
        return plan.outbox.filter(pl.col("channel") != COLLECTOR_CHANNEL).join(keys, on="dedupe_key")

    def write_messages(self, messages: pl.DataFrame) -> None:
        from reminder_pipeline.ledger.messages import write_messages

        with self.ledger.begin_write("outbox") as connection:
            write_messages(connection, messages.with_columns(pl.lit(None, dtype=pl.String).alias("problems")))


def _render(rows: pl.DataFrame, features: pl.DataFrame, contacts: pl.DataFrame, policy: Any) -> pl.DataFrame:
    """Every message the plan sends, written as the rendering asset does."""
    from reminder_pipeline.config_files import load_templates
    from reminder_pipeline.core.rendering.links import LinkSigner
    from reminder_pipeline.core.rendering.render import RenderContext, render_messages

    messages = rows.select("outbox_id", "customer_id", "ladder", "step", "tone", "channel", "send_on", "currency").join(
        contacts.select("customer_id", "name", "email", "phone", "locale"), on="customer_id", how="left"
    )
    lines = (
        rows.select("outbox_id", pl.col("invoice_ids").alias("invoice_id"))
        .explode("invoice_id")
        .join(features.select("invoice_id", "due_date", "amount_minor", "balance_minor"), on="invoice_id")
    )
    context = RenderContext(
        policy,
        load_templates(),
        LinkSigner("benchmark-secret-not-a-real-one"),
        datetime.combine(DAY, clock(6), tzinfo=UTC),
    )
    return render_messages(messages, lines, context)


def _timed(timings: dict[str, float], stage: str, work: Callable[[], T]) -> T:
    started = time.perf_counter()
    value = work()
    timings[stage] = round(time.perf_counter() - started, 2)
    return value


def run(work: Path) -> dict[str, Any]:
    from reminder_pipeline.config_files import load_policy
    from reminder_pipeline.core.features.build import scoring_features
    from reminder_pipeline.core.model.training import train_candidate
    from reminder_pipeline.core.scoring import score_day
    from reminder_pipeline.core.segments import segment_customers

    timings: dict[str, float] = {}
    history, contacts = _timed(timings, "load_history", lambda: load(work))
    candidate = _timed(timings, "train_model", lambda: train_candidate(history, DAY))
    features = _timed(timings, "features_of_the_day", lambda: scoring_features(history, DAY))
    policy = load_policy()
    scored = _timed(
        timings, "score", lambda: score_day(features, DAY, policy.segmentation.risk_bands, candidate.model, "bench")
    )
    segments = _timed(
        timings,
        "segment",
        lambda: segment_customers(scored.customers, features, contacts, policy.segmentation, DAY),
    )
    plan = _timed(timings, "plan_reminders", lambda: _plan(history, features, contacts, segments, policy))
    ledger = _LedgerRun(work, history)
    rows = _timed(timings, "write_plan_to_sqlite", lambda: ledger.write_plan(plan, policy))
    messages = _timed(timings, "render_messages", lambda: _render(rows, features, contacts, policy))
    _timed(timings, "write_messages_to_sqlite", lambda: ledger.write_messages(messages))
    ledger.ledger.dispose()
    truth = pl.read_parquet(work / "truth.parquet").select("customer_id", "behaviour")
    by_behaviour = (
        candidate.validation.join(truth, on="customer_id")
        .group_by("behaviour")
        .agg(
            pl.len().alias("invoices"),
            pl.col("p_late").mean().round(3).alias("predicted_late_share"),
            pl.col("late").cast(pl.Float64).mean().round(3).alias("observed_late_share"),
        )
        .sort("observed_late_share")
    )
    metrics = candidate.metrics["candidate"] or {}
    peak_mib = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    total_s = sum(timings.values())
    return {
        "within_budget": total_s <= BUDGET_SECONDS and peak_mib <= BUDGET_MIB,
        "total_s": round(total_s, 1),
        "customers": history.customers.height,
        "invoices": history.invoices.height,
        "payments": history.payments.height,
        "day": DAY.isoformat(),
        "fit_invoices": candidate.n_fit,
        "validation_invoices": candidate.n_validation,
        "open_invoices_scored": features.height,
        "customers_segmented": segments.height,
        "decisions": plan.decisions.height,
        "decisions_by_outcome": dict(plan.decisions.group_by("decision").len().sort("decision").iter_rows()),
        "messages_rendered": messages.height,
        "timings_s": timings,
        "training_plus_scoring_s": round(
            timings["train_model"] + timings["features_of_the_day"] + timings["score"] + timings["segment"], 1
        ),
        "plan_plus_messages_s": round(
            sum(
                timings[k]
                for k in ("plan_reminders", "write_plan_to_sqlite", "render_messages", "write_messages_to_sqlite")
            ),
            1,
        ),
        "validation": {k: round(v, 4) for k, v in metrics.items()},
        "rule_validation": {k: round(v, 4) for k, v in (candidate.metrics["rule"] or {}).items()},
        "gate": candidate.verdict,
        "calibration": candidate.calibration.to_dicts(),
        "by_behaviour": by_behaviour.to_dicts(),
        "peak_memory_mib": peak_mib,
    }


def _markdown(result: dict[str, Any]) -> str:
    lines = [
        f"# Daily-run benchmark: {result['customers']:,} customers, {result['invoices']:,} invoices",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}. "
        "Command: `make bench` (`python -m benchmarks.daily_run`). Budget: a day's compute (training "
        f"included) within {BUDGET_SECONDS // 60} minutes and {BUDGET_MIB // 1024} GiB on 2 cores; "
        f"{'met' if result['within_budget'] else 'NOT met'}.",
        "",
        "| stage | seconds |",
        "|---|---|",
        *[f"| {stage} | {seconds} |" for stage, seconds in result["timings_s"].items()],
        f"| **training + scoring** | **{result['training_plus_scoring_s']}** |",
        f"| **plan + messages** | **{result['plan_plus_messages_s']}** |",
        "",
        f"Peak memory: {result['peak_memory_mib']} MiB. Fit on {result['fit_invoices']:,} invoices, validated on "
        f"{result['validation_invoices']:,} due in the last 60 days; {result['open_invoices_scored']:,} open invoices "
        f"scored, {result['customers_segmented']:,} customers segmented, {result['decisions']:,} reminder decisions "
        f"({result['decisions_by_outcome']}), {result['messages_rendered']:,} messages written.",
        "",
        f"Validation: AUC {result['validation'].get('auc')}, PR-AUC {result['validation'].get('pr_auc')}, "
        f"Brier {result['validation'].get('brier')} (rule score: AUC {result['rule_validation'].get('auc')}, "
        f"Brier {result['rule_validation'].get('brier')}).",
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
    args = parser.parse_args()
    if args.stage == "generate":
        generate(args.customers, args.work)
        return
    if args.stage == "run":
        print(json.dumps(run(args.work)))
        return
    for stage in ("generate", "run"):
        command = [sys.executable, "-m", "benchmarks.daily_run", "--stage", stage, "--customers", str(args.customers)]
        completed = subprocess.run(
            [*command, "--work", str(args.work)], capture_output=True, text=True, check=True, cwd=HERE.parent
        )
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "daily_run.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out / "daily_run.md").write_text(_markdown(result))
    print(_markdown(result))


if __name__ == "__main__":
    main()
