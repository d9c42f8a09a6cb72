"""What the delivery assets show in the Dagster UI: counts per outcome and code, and masked previews."""

from __future__ import annotations

from typing import Any

import dagster as dg
import polars as pl

from reminder_pipeline.core.channels import mask_recipient
from reminder_pipeline.defs.common.metadata import table
from reminder_pipeline.defs.common.plots import bar_chart
from reminder_pipeline.delivery.service import DeliveryReport


def previews(sent: pl.DataFrame) -> list[dict[str, Any]]:
    """Sent messages as metadata may show them: the recipient masked, and what was sent by its template and
    size, not its words: they greet the customer by the name they had when it was written, which masking by
    the name the ledger has now would miss (the rendered_messages asset shows masked words)."""
    rows = sent.with_columns(
        mask_recipient(pl.col("channel"), pl.col("recipient")).alias("to"),
        pl.col("body_text").str.len_chars().alias("characters"),
    )
    return rows.select("channel", "to", "provider_id", "template", "locale", "characters", "sms_segments").to_dicts()


def delivery_metadata(report: DeliveryReport, sent: pl.DataFrame, due_after: int) -> dict[str, Any]:
    summary = report.summary()
    failed = pl.DataFrame(
        {"code": list(report.failed), "messages": list(report.failed.values())},
        schema={"code": pl.String, "messages": pl.Int64},
    )
    cancelled = pl.DataFrame(
        {"reason": list(report.cancelled), "messages": list(report.cancelled.values())},
        schema={"reason": pl.String, "messages": pl.Int64},
    )
    metadata: dict[str, Any] = {
        key: summary[key] for key in ("sent", "retried", "unknown", "failed", "fallbacks", "collector_tasks", "batches")
    }
    outcomes = {
        "sent": report.sent,
        "to retry": report.retried,
        "unknown": report.unknown,
        "failed": sum(report.failed.values()),
        "stopped at last look": sum(report.cancelled.values()),
    }
    metadata |= {
        "outcomes_chart": bar_chart(list(outcomes), list(outcomes.values()), title="This run's sends", unit="messages"),
        "failed_by_code": table(failed),
        "stopped_at_last_look": table(cancelled),
        "reconciled": dg.MetadataValue.json(dict(report.reconciled)),
        "still_due": due_after,
    }
    if sent.height:
        metadata["preview"] = dg.MetadataValue.json(previews(sent))
    return metadata
