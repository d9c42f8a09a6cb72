"""What the demo prints at the end: the ledger and the Dagster instance, in a few lines."""

from __future__ import annotations

import dagster as dg
import polars as pl

from reminder_pipeline.core.money import format_money
from reminder_pipeline.core.receivables import aging_summary, outstanding_by_currency
from reminder_pipeline.demo import DemoPlan
from reminder_pipeline.ledger import queries
from reminder_pipeline.ledger.quarantine import quarantine_overview
from reminder_pipeline.ledger.store import Ledger


def _materialized(plan: DemoPlan, assets: list[str]) -> list[str]:
    lines = []
    with dg.DagsterInstance.from_config(str(plan.dagster_home)) as instance:
        for asset in assets:
            key = dg.AssetKey(asset)
            partitions = instance.get_materialized_partitions(key)
            latest = instance.get_latest_materialization_event(key)
            run = f"run {latest.run_id[:8]}" if latest else "never"
            lines.append(f"  {asset:<10} {len(partitions):>4} business days materialized ({run})")
    return lines


def summary_lines(plan: DemoPlan) -> list[str]:
    with Ledger(plan.ledger_url) as ledger, ledger.begin() as connection:
        counts = queries.row_counts(connection)
        reasons, _ = quarantine_overview(connection, reason=None, limit=0)
        open_now = queries.open_invoices(connection, plan.end)
    lines = ["", "Dagster instance:", *_materialized(plan, ["customers", "invoices", "payments"]), "", "Ledger:"]
    lines += [f"  {table:<16} {count:>8}" for table, count in counts.items()]
    lines += ["", "Quarantined rows by reason (kept with their raw values, nothing lost):"]
    lines += [f"  {reason:<24} {count:>6}" for reason, count in reasons.items()] or ["  none"]
    lines += ["", f"Receivables as of {plan.end}:"]
    for row in outstanding_by_currency(open_now).iter_rows(named=True):
        amount = format_money(row["balance_minor"], row["currency"])
        lines.append(f"  {row['currency']}: {row['open_invoices']} open invoices, {amount}")
    aging = (
        aging_summary(open_now, plan.end).group_by("aging_bucket", maintain_order=True).agg(pl.col("invoices").sum())
    )
    lines.append("  aging: " + ", ".join(f"{b}: {n}" for b, n in aging.iter_rows()))
    lines += [
        "",
        "Open the Dagster UI on this instance:  make ui   (then http://127.0.0.1:3000)",
        f"  or by hand: set -a; . {plan.workdir / 'demo.env'}; set +a; uv run dagster dev",
    ]
    return lines
