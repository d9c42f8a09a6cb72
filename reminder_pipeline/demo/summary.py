"""What the demo prints at the end: the ledger and the Dagster instance, in a few lines."""

from __future__ import annotations

import json
import re
import shutil

import dagster as dg
import polars as pl
from sqlalchemy import Connection

from reminder_pipeline.config_files import load_policy
from reminder_pipeline.core.channels import CHANNEL_NAMES
from reminder_pipeline.core.money import format_money
from reminder_pipeline.core.outbox import OutboxStatus
from reminder_pipeline.core.privacy import mask_text
from reminder_pipeline.core.receivables import NOT_YET_DUE, aging_summary, outstanding_by_currency
from reminder_pipeline.core.scoring import relative_exposure
from reminder_pipeline.core.segments import segment_summary
from reminder_pipeline.demo.delivery import delivery_lines
from reminder_pipeline.demo.run import MORNING_RUN, PROJECT_ROOT, DemoPlan
from reminder_pipeline.ledger import receivables
from reminder_pipeline.ledger.messages import messages_of_day
from reminder_pipeline.ledger.model_registry import list_versions
from reminder_pipeline.ledger.outbox import latest_decisions, outbox_by_status
from reminder_pipeline.ledger.planning import contacts
from reminder_pipeline.ledger.quarantine import quarantine_overview
from reminder_pipeline.ledger.risk import read_scores, read_segments
from reminder_pipeline.ledger.store import Ledger


def _materialized(plan: DemoPlan, assets: list[str]) -> list[str]:
    lines = []
    with dg.DagsterInstance.from_config(str(plan.dagster_home)) as instance:
        for asset in assets:
            key = dg.AssetKey(asset)
            partitions = instance.get_materialized_partitions(key)
            latest = instance.get_latest_materialization_event(key)
            run = f"run {latest.run_id[:8]}" if latest else "never"
            extent = f"{len(partitions):>4} days" if partitions else "   unpartitioned"
            lines.append(f"  {asset:<18} {extent} materialized ({run})")
    return lines


def share(p: float) -> str:
    """A probability for a reader: whole percents, but never "100%" or "0%" for what is only nearly sure."""
    if p >= 0.995:
        return ">99%"
    if p <= 0.005:
        return "<1%"
    return f"{p:.0%}"


OUTBOX_LEGEND: dict[str, str] = {
    OutboxStatus.EXPIRED: "its send window closed before it went out (nothing goes out late; planned again next day)",
    OutboxStatus.TASK_OPEN: "handed to a collector, whose task is still open",
    OutboxStatus.CANCELLED: "no longer wanted: paid, disputed, opted out or replanned",
    OutboxStatus.HELD: "failed a message check, never sent",
}


def _risk(plan: DemoPlan, connection: Connection) -> list[str]:
    lines = ["", "Risk models (validation on the last 60 days of due dates):"]
    for version in list_versions(connection):
        candidate, rule = version.metrics.get("candidate") or {}, version.metrics.get("rule") or {}
        lines.append(
            f"  {version.version}  {version.status:<8}  AUC {candidate.get('auc', float('nan')):.3f} "
            f"(rule score {rule.get('auc', float('nan')):.3f})  trained as of {version.trained_as_of}"
        )
    scores = read_scores(connection, plan.end)
    segments = read_segments(connection, plan.end).with_columns(pl.col("open_balance_minor").alias("balance_minor"))
    bands = scores.group_by("risk_band").len().sort("risk_band")
    scorer = str(scores["scorer"][0]) if scores.height else "nothing"
    lines += ["", f"Risk on {plan.end} (scored by {scorer}):"]
    lines.append("  customers per band: " + ", ".join(f"{b}: {n}" for b, n in bands.iter_rows()))
    top = segment_summary(segments).sort("customers", descending=True).head(5)
    lines.append("  largest segments (band / aging / value / channel), by customers:")
    for row in top.iter_rows(named=True):
        owed = format_money(row["balance_minor"], row["currency"])
        lines.append(f"    {row['segment']:<40} {row['currency']}  {row['customers']:>5} customers  {owed}")
    riskiest = (
        scores.join(segments.select("customer_id", "balance_minor", "currency"), on="customer_id")
        .with_columns(relative_exposure(pl.col("p_late"), pl.col("balance_minor"), pl.col("currency")).alias("at_risk"))
        .sort("at_risk", descending=True)
        .head(3)
    )
    lines.append("  most at risk (P(late) × balance, relative to the usual balance in its currency), and why:")
    for row in riskiest.iter_rows(named=True):
        why = "; ".join(json.loads(row["reasons"])) or "no single reason stands out"
        owed = format_money(row["balance_minor"], row["currency"])
        lines.append(f"    {row['customer_id']}  P(late) {share(row['p_late'])}  owes {owed}: {why}")
    return lines


def _reminders(plan: DemoPlan, connection: Connection) -> list[str]:
    day = plan.end
    decisions = latest_decisions(connection, day)
    outcome = dict(decisions["decision"].value_counts().iter_rows())
    lines = ["", f"Reminders on {day} (planned as of {MORNING_RUN} that morning, one decision per customer):"]
    lines.append(
        f"  {decisions.height} customers decided: {outcome.get('send', 0)} to send, "
        f"{outcome.get('handoff', 0)} handed to a collector, {outcome.get('skip', 0)} skipped"
    )
    sent = decisions.filter(pl.col("decision") == "send").group_by("step", "channel").len().sort("len", descending=True)
    lines.append("  to send, by step and channel:")
    lines += [f"    {s:<22} by {c:<6} {n:>5}" for s, c, n in sent.iter_rows()]
    skipped = decisions.filter(pl.col("decision") == "skip").group_by("reason").len().sort("len", descending=True)
    lines.append("  skipped because:")
    lines += [f"    {r:<24} {n:>5}" for r, n in skipped.iter_rows()]
    statuses = outbox_by_status(connection)
    lines.append("  outbox, every reminder of every day so far, by status:")
    lines += [
        f"    {status:<12} {n:>5}" + (f"  ({OUTBOX_LEGEND[status]})" if status in OUTBOX_LEGEND else "")
        for status, n in sorted(statuses.items())
    ]
    messages = messages_of_day(connection, day)
    rendered = messages.filter(pl.col("status") == OutboxStatus.RENDERED)
    states = ", ".join(f"{s}: {n}" for s, n in messages.group_by("status").len().sort("status").iter_rows())
    lines.append(f"  messages written for {day}: {messages.height} ({states or 'none'})")
    for channel in CHANNEL_NAMES:
        sample = rendered.filter(pl.col("channel") == channel).head(1)
        for row in sample.iter_rows(named=True):
            lines += ["", f"  One {channel} as written ({row['template']}; payment link token shortened):"]
            text = re.sub(r"(https://\S+/)[\w.-]{20,}", r"\1…", row["body_text"])
            if row["subject"]:
                text = f"Subject: {row['subject']}\n\n{text}"
            who = contacts(connection, pl.Series([row["customer_id"]])).row(0, named=True)
            text = mask_text(text, name=who["name"], email=who["email"], phone=who["phone"])
            lines += [f"    | {line}" for line in text.splitlines()]
    return lines


def summary_lines(plan: DemoPlan) -> list[str]:
    with Ledger(plan.ledger_url) as ledger, ledger.begin() as connection:
        counts = receivables.row_counts(connection)
        reasons, _ = quarantine_overview(connection, reason=None, limit=0)
        open_now = receivables.open_invoices(connection, plan.end)
        risk = _risk(plan, connection)
        reminders = _reminders(plan, connection)
        deliveries = delivery_lines(plan, connection)
    assets = [
        "customers",
        "invoices",
        "payments",
        "customer_features",
        "risk_model",
        "risk_scores",
        "customer_segments",
        "reminder_plan",
        "rendered_messages",
        "email_deliveries",
        "sms_deliveries",
    ]
    lines = ["", "Dagster instance:", *_materialized(plan, assets), "", "Ledger:"]
    lines += [f"  {table:<16} {count:>8}" for table, count in counts.items()]
    lines += ["", "Quarantined rows by reason (kept with their raw values, nothing lost):"]
    lines += [f"  {reason:<24} {count:>6}" for reason, count in reasons.items()] or ["  none"]
    lines += ["", f"Receivables as of {plan.end}:"]
    for row in outstanding_by_currency(open_now).iter_rows(named=True):
        amount = format_money(row["balance_minor"], row["currency"])
        lines.append(f"  {row['currency']}: {row['open_invoices']} open invoices, {amount}")
    aging = (
        aging_summary(open_now, plan.end, load_policy().segmentation.aging_edges)
        .group_by("aging_bucket", maintain_order=True)
        .agg(pl.col("invoices").sum())
    )
    lines.append(
        "  open invoices by days past due: "
        + ", ".join(f"{b}{'' if b == NOT_YET_DUE else ' days'}: {n}" for b, n in aging.iter_rows())
    )
    lines += risk
    lines += reminders
    lines += deliveries
    lines += check_lines(plan)
    uv = shutil.which("uv") or str(PROJECT_ROOT / ".tools" / "bin" / "uv")
    lines += [
        "",
        "Open the Dagster UI on this instance:  make ui  (then http://127.0.0.1:3000; or make ui PORT=3001)",
        f"  or by hand: cd {plan.workdir} && set -a && . ./demo.env && set +a && "
        f"{uv} run --project {PROJECT_ROOT} dagster dev -m reminder_pipeline.definitions",
    ]
    return lines


def check_lines(plan: DemoPlan) -> list[str]:
    """Every asset check's latest outcome in the demo's instance: the ones that did not pass, by name and meaning."""
    from reminder_pipeline.definitions import defs

    graph = defs.resolve_asset_graph()
    outcomes: dict[str, list[str]] = {"passed": [], "warning": [], "failed": []}
    with dg.DagsterInstance.from_config(str(plan.dagster_home)) as instance:
        for key in sorted(graph.asset_check_keys, key=str):
            record = instance.get_latest_asset_check_evaluation_record(key)
            evaluation = record.event.asset_check_evaluation if record and record.event else None
            if evaluation is None:
                continue
            kind = "passed" if evaluation.passed else ("warning" if evaluation.severity.value == "WARN" else "failed")
            meaning = (graph.get_check_spec(key).description or "").split(". ")[0]
            outcomes[kind].append(f"    {key.asset_key.to_user_string()}.{key.name}: {meaning}")
    counts = {kind: len(found) for kind, found in outcomes.items()}
    lines = ["", f"Checks: {counts['passed']} passed, {counts['warning']} warned, {counts['failed']} failed"]
    for kind in ("failed", "warning"):
        if outcomes[kind]:
            lines += [f"  {kind} (the asset's Checks tab says what to do):", *outcomes[kind]]
    return lines
