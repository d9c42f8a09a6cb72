"""Promise 6, nothing lost, from the ledger, the message log, the drop folder and the processor's record.

A row is lost when:

- a customer with an invoice open all day on a business day (issued, and known to the ledger, the day
  before or earlier; not paid in full by the day's end) has no decision that day — every business day
  is planned, the missed ones by the catch-up's backfill;
- a day's decision to send has no reminder in the outbox;
- a reminder ends nowhere: still planned, written or waiting to retry after its window closed and a
  later plan ran (which expires such rows), still sending or of unknown outcome after its window
  closed and a later delivery run reconciled, or cancelled, expired or unresolved without a reason
  (its status reason or last error);
- the ledger holds a provider's id for a reminder the provider's log does not have;
- a drop file's rows are not all counted by ingestion as accepted or quarantined (each quarantined row
  with its record);
- a payment the processor had acknowledged is neither in the ledger nor kept, with its reason, among
  the events to reconcile.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import polars as pl

from reminder_pipeline.core.channels import CHANNEL_NAMES
from reminder_pipeline.core.outbox import OutboxStatus, reminder_keys
from reminder_pipeline.listening.inbox import EventStatus
from reminder_pipeline.simulation.audit_tables import Calendar, Tables

LEASE = timedelta(minutes=5)
S = OutboxStatus
WAITING = (S.PLANNED, S.RENDERED, S.HELD, S.RETRY)
IN_FLIGHT = (S.SENDING, S.UNKNOWN)
NEED_A_REASON = (S.CANCELLED, S.EXPIRED, S.UNRESOLVED)
KEPT_WITH_A_REASON = (EventStatus.UNMATCHED, EventStatus.FAILED, EventStatus.PROCESSED, EventStatus.IGNORED)


def _undecided(tables: Tables, calendar: Calendar) -> int:
    """Customers owing all day on a business day (an invoice the ledger knew the day before, not paid in full by
    the day's end) without a decision that day."""
    days = calendar.business_days
    decided = tables.decisions.select("business_date", "customer_id").unique()
    missing = 0
    for day in days:
        paid = (
            tables.payments.filter(pl.col("paid_date") <= day)
            .group_by("invoice_id")
            .agg(pl.col("amount_minor").sum().alias("paid"))
        )
        open_all_day = (
            tables.invoices.filter((pl.col("issue_date") < day) & (pl.col("known_on") < day))
            .join(paid, on="invoice_id", how="left")
            .filter(pl.col("paid").fill_null(0) < pl.col("amount_minor"))
            .select("customer_id")
            .unique()
        )
        that_day = decided.filter(pl.col("business_date") == day).select("customer_id")
        missing += open_all_day.join(that_day, on="customer_id", how="anti").height
    return missing


def _unplanned(tables: Tables) -> int:
    sends = tables.decisions.filter(pl.col("decision") == "send").select(
        reminder_keys(pl.col("customer_id"), pl.col("episode_id"), pl.col("step"), pl.col("channel")).alias(
            "dedupe_key"
        )
    )
    return sends.unique().join(tables.outbox.select("dedupe_key"), on="dedupe_key", how="anti").height


def _unsettled(tables: Tables, calendar: Calendar) -> int:
    rows = tables.outbox.filter(pl.col("channel").is_in(CHANNEL_NAMES))
    last_plan, last_delivery = calendar.last_plan_at, calendar.last_delivery_at
    reason = pl.coalesce(pl.col("status_reason"), pl.col("last_error")).fill_null("")
    lost = rows.filter(pl.col("status").is_in(NEED_A_REASON) & (reason == "")).height
    if last_plan is not None:
        lost += rows.filter(pl.col("status").is_in(WAITING) & (pl.col("window_end") < last_plan)).height
    if last_delivery is not None:
        lost += rows.filter(pl.col("status").is_in(IN_FLIGHT) & (pl.col("window_end") < last_delivery - LEASE)).height
    return lost


def _phantom_sends(tables: Tables) -> int:
    claimed = tables.outbox.filter(pl.col("provider_id").is_not_null()).select("dedupe_key")
    logged = tables.messages.select(pl.col("reminder_key").alias("dedupe_key"))
    return claimed.join(logged, on="dedupe_key", how="anti").height


def _drop_rows(tables: Tables, drop: Path) -> int:
    """Rows of each drop file (``<day>/<entity>.csv``, wherever the folder is now) not all accounted for."""
    in_drop = pl.col("source").str.split("/").list.slice(-2, 2).list.join("/")
    batches = tables.batches.group_by(in_drop.alias("file")).agg(
        pl.col("source_key").first(), pl.col("rows_in").sum(), pl.col("accepted").sum(), pl.col("quarantined").sum()
    )
    records = tables.quarantined.group_by("source_key", "entity").len("records")
    lost = 0
    for path in sorted(drop.rglob("*.csv")):
        rows = pl.read_csv(path, infer_schema=False).height
        batch = batches.filter(pl.col("file") == path.relative_to(drop).as_posix())
        if batch.is_empty():
            lost += rows
            continue
        found = batch.row(0, named=True)
        kept = records.filter((pl.col("source_key") == found["source_key"]) & (pl.col("entity") == path.stem))
        lost += abs(rows - found["rows_in"]) + abs(found["rows_in"] - found["accepted"] - found["quarantined"])
        lost += max(0, found["quarantined"] - (int(kept["records"].sum()) if kept.height else 0))
    return lost


def _payments(tables: Tables, journal: Path) -> int:
    if not journal.is_file():
        return 0
    acknowledged = {json.loads(line)["payment_id"] for line in journal.read_text().splitlines() if line.strip()}
    recorded = set(tables.payments["payment_id"].to_list())
    kept = set(
        tables.payment_events.filter(
            pl.col("status").is_in(KEPT_WITH_A_REASON) & (pl.col("detail").fill_null("") != "")
        )["dedupe_key"].to_list()
    )
    return len(acknowledged - recorded - kept)


def lost_rows(tables: Tables, calendar: Calendar, workdir: Path) -> dict[str, int]:
    return {
        "customer_days_without_decision": _undecided(tables, calendar),
        "decided_sends_without_reminder": _unplanned(tables),
        "reminders_ending_nowhere": _unsettled(tables, calendar),
        "ledger_sends_the_provider_never_got": _phantom_sends(tables),
        "drop_rows_unaccounted": _drop_rows(tables, workdir / "drop"),
        "payments_unaccounted": _payments(tables, workdir / "payments_posted.jsonl"),
    }
