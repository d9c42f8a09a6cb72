"""What rendering decides for each outbox row: written, held by failed checks, or cancelled at the last look."""

from __future__ import annotations

import polars as pl

from reminder_pipeline.core.outbox import OutboxStatus


def failed_checks() -> pl.Expr:
    """The checks a rendered message failed, as one line (null when it passed them all)."""
    return pl.when(pl.col("problems").list.len() > 0).then(pl.col("problems").list.join(", "))


def rendering_outcomes(rendered: pl.DataFrame, cancelled: pl.DataFrame) -> pl.DataFrame:
    """``outbox_id, status, status_reason``: ``rendered`` (``outbox_id, problems``) becomes rendered or held
    with the checks it failed; ``cancelled`` (``outbox_id, status_reason``) is cancelled with its reason."""
    held = pl.col("problems").list.len() > 0
    written = rendered.select(
        "outbox_id",
        pl.when(held)
        .then(pl.lit(OutboxStatus.HELD.value))
        .otherwise(pl.lit(OutboxStatus.RENDERED.value))
        .alias("status"),
        pl.when(held).then(pl.concat_str(pl.lit("failed checks: "), failed_checks())).alias("status_reason"),
    )
    dropped = cancelled.select(
        "outbox_id", pl.lit(OutboxStatus.CANCELLED.value).alias("status"), pl.col("status_reason").cast(pl.String)
    )
    return pl.concat([written, dropped])
