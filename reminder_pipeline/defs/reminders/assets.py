"""Reminders: one decision per customer per day, the outbox it fills, and the messages written for it.

- ``reminder_plan`` (daily): decides every customer with open invoices — a ladder step, a channel
  and a send window, or a skip with its reason — records every decision in the audit table and
  adds the reminders to the outbox, at most once per (customer, episode, step, channel).
- ``rendered_messages`` (daily): writes the day's outbox messages in each customer's language and
  holds back any message that fails a blocking check; nothing held ever reaches a provider.
"""

from typing import Any

import dagster as dg
import polars as pl

from reminder_pipeline import settings
from reminder_pipeline.core.outbox import OUTBOX_LOCK, OutboxStatus
from reminder_pipeline.core.planning.plan import plan_day
from reminder_pipeline.core.planning.reasons import Decision
from reminder_pipeline.core.privacy import mask_recipient, mask_text
from reminder_pipeline.core.rendering.checks import CHECKS, message_problems
from reminder_pipeline.core.rendering.render import RenderContext, render_messages, triage
from reminder_pipeline.defs.ingestion.partitions import daily_asset_options, days_in_run
from reminder_pipeline.defs.metadata import table
from reminder_pipeline.defs.reminders.clock import ClockConfig, run_instant
from reminder_pipeline.defs.reminders.resources import LinkSignerResource, TemplatesResource
from reminder_pipeline.defs.resources import LedgerResource
from reminder_pipeline.defs.retries import retry_when_transient
from reminder_pipeline.defs.risk.assets import customer_segments
from reminder_pipeline.defs.risk.resources import PolicyResource
from reminder_pipeline.ledger import receivables
from reminder_pipeline.ledger.messages import messages_to_render, write_messages
from reminder_pipeline.ledger.outbox import expire_unsent, record_decisions, set_statuses, write_plan
from reminder_pipeline.ledger.planning import contacts, open_disputes, plan_inputs
from reminder_pipeline.ledger.receivables import invoice_lines

GROUP = "reminders"
DAILY = daily_asset_options(GROUP)


def _horizon(min_days_between_contacts: int) -> int:
    """How far around a day earlier contacts can still matter: the weekly cap and the minimum interval."""
    return max(7, min_days_between_contacts) + 1


@dg.asset(deps=[customer_segments], kinds={"polars"}, **DAILY)
@retry_when_transient
def reminder_plan(
    context: dg.AssetExecutionContext, config: ClockConfig, ledger: LedgerResource, policy: PolicyResource
) -> dg.MaterializeResult:
    """One decision per customer with open invoices per day, written to the audit table; the reminders to the outbox."""
    rules = policy.load()
    store = ledger.open()
    zone = settings.business_timezone()
    per_day: list[dict[str, Any]] = []
    decisions = pl.DataFrame()
    for day in days_in_run(context):
        now = run_instant(config, day)
        with store.begin_write(OUTBOX_LOCK) as connection:
            expired = expire_unsent(connection, now)
            inputs = plan_inputs(
                connection, day, now, business_tz=zone, horizon_days=_horizon(rules.contact.min_days_between_contacts)
            )
            plan = plan_day(inputs, rules)
            record_decisions(connection, plan.decisions, run_id=context.run.run_id, policy_version=rules.version)
            written = write_plan(connection, plan, day, policy_version=rules.version)
        decisions = plan.decisions
        outcome = decisions["decision"].value_counts()
        counts = {str(k): int(v) for k, v in outcome.iter_rows()}
        per_day.append(
            {
                "day": day.isoformat(),
                "customers": decisions.height,
                "send": counts.get(Decision.SEND.value, 0),
                "handoff": counts.get(Decision.HANDOFF.value, 0),
                "skip": counts.get(Decision.SKIP.value, 0),
                "outbox_added": written.inserted + written.revived,
                "outbox_unchanged": written.unchanged,
                "cancelled": written.cancelled,
                "expired": expired,
            }
        )
    last: dict[str, Any] = per_day[-1]
    context.log.info(
        f"reminder plan for {last['day']}: {last['send']} to send, {last['handoff']} hand-offs, {last['skip']} skipped"
    )
    return dg.MaterializeResult(
        metadata={
            "policy_version": rules.version,
            "customers_decided": last["customers"],
            "to_send": last["send"],
            "handoffs": last["handoff"],
            "skipped": last["skip"],
            "outbox_added": last["outbox_added"],
            "by_decision": table(
                decisions.group_by("decision", "reason").len().sort("len", descending=True).rename({"len": "customers"})
            ),
            "by_step_and_channel": table(
                decisions.filter(pl.col("decision") != Decision.SKIP.value)
                .group_by("ladder", "step", "channel")
                .len()
                .sort("ladder", "step", "channel")
                .rename({"len": "reminders"})
            ),
            "catch_up": int(decisions["superseded_steps"].list.len().gt(0).sum()),
            "per_day": table(pl.DataFrame(per_day).tail(31)),
        }
    )


def _preview(rendered: pl.DataFrame, people: pl.DataFrame) -> str:
    """One message per language and channel, with names, addresses, numbers and link tokens masked."""
    if rendered.is_empty():
        return "_no messages_"
    samples = (
        rendered.join(people.select("customer_id", "name", "email", "phone"), on="customer_id", how="left")
        .group_by("language", "channel", maintain_order=True)
        .first()
        .sort("language", "channel")
    )
    blocks = []
    for row in samples.iter_rows(named=True):
        who = {"name": row["name"], "email": row["email"], "phone": row["phone"]}
        body = row["body_text"]
        for url in (row["payment_url"], row["unsubscribe_url"]):
            if url:
                body = body.replace(url, url.rsplit("/", 1)[0] + "/…")
        body = mask_text(body, **who)
        recipient = pl.select(mask_recipient(pl.lit(row["channel"]), pl.lit(row["recipient"]))).item()
        subject = f"**{mask_text(row['subject'], **who)}**\n\n" if row["subject"] else ""
        blocks.append(f"#### {row['template']} to {recipient}\n\n{subject}```\n{body}\n```")
    return "\n\n".join(blocks)


@dg.asset(
    deps=[reminder_plan],
    kinds={"jinja"},
    check_specs=[
        dg.AssetCheckSpec(name, asset="rendered_messages", blocking=True, description=description)
        for name, description in CHECKS.items()
    ],
    **DAILY,
)
@retry_when_transient
def rendered_messages(
    context: dg.AssetExecutionContext,
    config: ClockConfig,
    ledger: LedgerResource,
    policy: PolicyResource,
    templates: TemplatesResource,
    links: LinkSignerResource,
) -> dg.MaterializeResult:
    """The day's reminders written in each customer's language; a message failing a check is held, never sent."""
    rules, words, signer = policy.load(), templates.load(), links.signer()
    store = ledger.open()
    per_day: list[dict[str, Any]] = []
    failing = {name: pl.Series("outbox_id", [], dtype=pl.Int64) for name in CHECKS}
    rendered, people = pl.DataFrame(), pl.DataFrame()
    for day in days_in_run(context):
        now = run_instant(config, day)
        with store.begin_write(OUTBOX_LOCK) as connection:
            rows = messages_to_render(connection, day)
            people = contacts(connection, rows["customer_id"])
            lines = invoice_lines(connection, rows["invoice_ids"].explode())
            keep, owed, cancelled = triage(rows, lines, people, open_disputes(connection, now.date()))
            rendered = render_messages(keep, owed, RenderContext(rules, words, signer, now))
            balances = receivables.open_invoices(connection, receivables.ALL_TIME).select("invoice_id", "balance_minor")
            problems = message_problems(rendered, rows, balances, people, rules)
            rendered = rendered.join(problems, on="outbox_id", how="left").join(
                rows.select("outbox_id", "customer_id"), on="outbox_id", how="left"
            )
            write_messages(
                connection,
                rendered.with_columns(
                    pl.when(pl.col("problems").list.len() > 0)
                    .then(pl.col("problems").list.join(", "))
                    .alias("problems")
                ),
            )
            statuses = pl.concat(
                [
                    rendered.select(
                        "outbox_id",
                        pl.when(pl.col("problems").list.len() > 0)
                        .then(pl.lit(OutboxStatus.HELD.value))
                        .otherwise(pl.lit(OutboxStatus.RENDERED.value))
                        .alias("status"),
                        pl.when(pl.col("problems").list.len() > 0)
                        .then(pl.concat_str(pl.lit("failed checks: "), pl.col("problems").list.join(", ")))
                        .alias("status_reason"),
                    ),
                    cancelled.select(
                        "outbox_id", pl.lit(OutboxStatus.CANCELLED.value).alias("status"), "status_reason"
                    ),
                ]
            )
            set_statuses(connection, statuses)
        for name in CHECKS:
            failing[name] = pl.concat(
                [failing[name], problems.filter(pl.col("problems").list.contains(name))["outbox_id"]]
            )
        held = int((problems["problems"].list.len() > 0).sum())
        per_day.append(
            {
                "day": day.isoformat(),
                "rendered": rendered.height - held,
                "held": held,
                "cancelled": cancelled.height,
                "email": int((rendered["channel"] == "email").sum()),
                "sms": int((rendered["channel"] == "sms").sum()),
            }
        )
    if any(len(ids) for ids in failing.values()):
        context.log.warning(
            "messages held by failed checks: "
            + ", ".join(f"{name} {len(ids)}" for name, ids in failing.items() if len(ids))
        )
    sms = rendered.filter(pl.col("channel") == "sms") if rendered.height else rendered
    last = per_day[-1]
    return dg.MaterializeResult(
        metadata={
            "rendered": last["rendered"],
            "held": last["held"],
            "cancelled": last["cancelled"],
            "by_language_and_channel": table(
                rendered.group_by("language", "channel").len().sort("language", "channel").rename({"len": "messages"})
                if rendered.height
                else pl.DataFrame({"messages": []})
            ),
            "sms_segments": table(
                sms.group_by("sms_encoding", "sms_segments")
                .len()
                .sort("sms_encoding", "sms_segments")
                .rename({"len": "messages"})
                if sms.height
                else pl.DataFrame({"messages": []})
            ),
            "per_day": table(pl.DataFrame(per_day).tail(31)),
            "preview": dg.MetadataValue.md(_preview(rendered, people)),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=name,
                passed=len(failing[name]) == 0,
                severity=dg.AssetCheckSeverity.ERROR,
                metadata={
                    "failing_messages": len(failing[name]),
                    "outbox_ids": dg.MetadataValue.json(failing[name].head(20).to_list()),
                },
            )
            for name in CHECKS
        ],
    )
