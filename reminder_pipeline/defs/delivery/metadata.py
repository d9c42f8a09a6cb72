"""What the delivery assets show in the Dagster UI: counts per outcome and code, and masked previews."""

from __future__ import annotations

from typing import Any

import dagster as dg
import polars as pl

from reminder_pipeline.core.channels import mask_recipient
from reminder_pipeline.core.privacy import mask_text
from reminder_pipeline.defs.common.metadata import table
from reminder_pipeline.delivery.service import DeliveryReport

PREVIEW_CHARACTERS = 240


def previews(sent: pl.DataFrame) -> list[dict[str, Any]]:
    """Sent messages as metadata may show them: recipient, name and contact details masked in the text."""
    rows = sent.with_columns(mask_recipient(pl.col("channel"), pl.col("recipient")).alias("to")).to_dicts()
    return [
        {
            "channel": row["channel"],
            "to": row["to"],
            "provider_id": row["provider_id"],
            "subject": mask_text(
                row["subject"] or "", name=row["name"], email=row["recipient"], phone=row["recipient"]
            ),
            "text": mask_text(row["body_text"], name=row["name"], email=row["recipient"], phone=row["recipient"])[
                :PREVIEW_CHARACTERS
            ],
        }
        for row in rows
    ]


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
    metadata |= {
        "failed_by_code": table(failed),
        "stopped_at_last_look": table(cancelled),
        "reconciled": dg.MetadataValue.json(dict(report.reconciled)),
        "still_due": due_after,
    }
    if sent.height:
        metadata["preview"] = dg.MetadataValue.json(previews(sent))
    return metadata
