"""What the reminder assets show in the Dagster UI: decisions, reminders and messages, never a person's data."""

from __future__ import annotations

import textwrap
from typing import Any

import dagster as dg
import polars as pl

from reminder_pipeline.core.canonical import Channel
from reminder_pipeline.core.channels import mask_recipient
from reminder_pipeline.core.planning.reasons import Decision
from reminder_pipeline.core.privacy import mask_text
from reminder_pipeline.core.rendering.checks import CHECKS
from reminder_pipeline.defs.common.metadata import table
from reminder_pipeline.reminders.service import DayMessages, DayPlan


def plan_metadata(days: list[DayPlan], policy_version: str) -> dict[str, Any]:
    last, decisions = days[-1].summary(), days[-1].decisions
    return {
        "policy_version": policy_version,
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
        "per_day": table(pl.DataFrame([d.summary() for d in days]).tail(31)),
    }


PREVIEW_WIDTH = 88
"""The UI shows a code block without wrapping: longer lines would be cut off on the right."""


def wrapped(text: str, width: int = PREVIEW_WIDTH) -> str:
    return "\n".join(textwrap.fill(line, width) if line.strip() else "" for line in text.splitlines())


def _preview(firsts: pl.DataFrame, people: pl.DataFrame) -> str:
    """The sample messages (one per language and channel), with names, addresses, numbers and link tokens masked."""
    if firsts.is_empty():
        return "_no messages_"
    samples = firsts.join(
        people.select("customer_id", "name", "email", "phone"), on="customer_id", how="left", maintain_order="left"
    ).sort("language", "channel")
    blocks = []
    for row in samples.iter_rows(named=True):
        who = {"name": row["name"], "email": row["email"], "phone": row["phone"]}
        body = row["body_text"]
        for url in (row["payment_url"], row["unsubscribe_url"]):
            if url:
                body = body.replace(url, url.rsplit("/", 1)[0] + "/…")
        body = wrapped(mask_text(body, **who))
        recipient = pl.select(mask_recipient(pl.lit(row["channel"]), pl.lit(row["recipient"]))).item()
        subject = f"**{mask_text(row['subject'], **who)}**\n\n" if row["subject"] else ""
        blocks.append(f"#### {row['template']} to {recipient}\n\n{subject}```\n{body}\n```")
    return "\n\n".join(blocks)


def _counts(frame: pl.DataFrame, *by: str, label: str = "messages") -> dg.TableMetadataValue:
    if frame.is_empty():
        return table(pl.DataFrame({label: []}))
    return table(frame.group_by(*by).len().sort(*by).rename({"len": label}))


def failing_by_check(days: list[DayMessages]) -> dict[str, pl.Series]:
    """Per blocking check, the ``outbox_id`` of every message of the run that failed it."""
    return {
        name: pl.concat([pl.Series("outbox_id", [], dtype=pl.Int64), *(d.failing(name) for d in days)])
        for name in CHECKS
    }


def messages_metadata(days: list[DayMessages]) -> dict[str, Any]:
    last = days[-1]
    rendered, summary = last.rendered, last.summary()
    sms = rendered.filter(pl.col("channel") == Channel.SMS) if rendered.height else rendered
    return {
        "rendered": summary["rendered"],
        "held": summary["held"],
        "cancelled": summary["cancelled"],
        "by_language_and_channel": _counts(rendered, "language", "channel"),
        "sms_segments": _counts(sms, "sms_encoding", "sms_segments"),
        "per_day": table(pl.DataFrame([d.summary() for d in days]).tail(31)),
        "preview": dg.MetadataValue.md(_preview(last.samples, last.people)),
    }


def check_results(failing: dict[str, pl.Series]) -> list[dg.AssetCheckResult]:
    return [
        dg.AssetCheckResult(
            check_name=name,
            passed=len(ids) == 0,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={"failing_messages": len(ids), "outbox_ids": dg.MetadataValue.json(ids.head(20).to_list())},
        )
        for name, ids in failing.items()
    ]
