"""What the risk assets show in the Dagster UI: populations, the model's quality, scores and segments."""

from __future__ import annotations

from datetime import date
from typing import Any

import dagster as dg
import numpy as np
import polars as pl

from reminder_pipeline.core.policy.config import Segmentation
from reminder_pipeline.core.scoring import MOST_AT_RISK
from reminder_pipeline.core.segments import segment_summary
from reminder_pipeline.defs.common.metadata import rounded, table, with_money
from reminder_pipeline.defs.common.plots import chart_of_the_runs_last_day
from reminder_pipeline.defs.risk.plots import calibration_plot, importance_plot, risk_histogram
from reminder_pipeline.risk.service import DayRisk, Training

TOP_AT_RISK = MOST_AT_RISK
"""As many as the model always explains (``core.scoring``), so each one shown has the model's reasons."""


def features_metadata(days: list[tuple[str, pl.DataFrame]]) -> dict[str, Any]:
    per_day = [
        {"day": day, "open_invoices": frame.height, "customers": frame["customer_id"].n_unique()} for day, frame in days
    ]
    summary = days[-1][1].select(
        pl.len().alias("open_invoices"),
        pl.col("customer_id").n_unique().alias("customers"),
        pl.col("hist_late_rate").mean().alias("mean_late_share"),
        pl.col("hist_resolved").eq(0).mean().alias("share_without_history"),
        pl.col("other_overdue_invoices").gt(0).mean().alias("share_with_other_overdue"),
    )
    return {
        **{
            k: (round(v, 4) if isinstance(v, float) else v)
            for k, v in summary.row(0, named=True).items()
            if v is not None
        },
        "business_days": len(per_day),
        "per_day": table(pl.DataFrame(per_day).tail(31)),
    }


def training_metadata(training: Training) -> dict[str, Any]:
    candidate = training.candidate
    metadata: dict[str, Any] = {
        "version": training.version,
        "trained_as_of": training.as_of.isoformat(),
        "window": f"{candidate.window[0]} .. {candidate.window[1]}",
        "fit_invoices": candidate.n_fit,
        "validation_invoices": candidate.n_validation,
        "verdict": candidate.verdict,
    }
    if candidate.model is None:
        return metadata
    rows = [{"model": name, **values} for name, values in candidate.metrics.items() if values is not None]
    return metadata | {
        "status": training.status,
        "validation_metrics": table(pl.DataFrame(rows).select("model", "auc", "pr_auc", "brier", "base_rate", "n")),
        "auc": round(candidate.metrics["candidate"]["auc"], 4),  # type: ignore[index]
        "calibration": calibration_plot(candidate.calibration),
        "calibration_table": table(candidate.calibration),
        "feature_importance": importance_plot(candidate.model.importance()),
        "features": dg.MetadataValue.json(candidate.model.features),
    }


def _most_at_risk(customers: pl.DataFrame) -> dg.TableMetadataValue:
    """The customers most likely to pay late, with their reasons in words (ids only, no personal data)."""
    top = customers.sort("p_late", "customer_id", descending=[True, False]).head(TOP_AT_RISK)
    return table(
        top.select(
            "customer_id",
            "risk_band",
            pl.col("p_late").round(2),
            pl.col("expected_days_late").round(1),
            pl.col("reasons").list.join("; "),
        )
    )


def scores_metadata(days: list[DayRisk], segmentation: Segmentation, *, chart_drawn_for: date) -> dict[str, Any]:
    """The last of ``days``' scores; its histogram only when that day is ``chart_drawn_for`` (the run's last day)."""
    last = days[-1]
    customers = last.scored.customers
    bands = customers.group_by("risk_band").agg(pl.len().alias("customers"), pl.col("p_late").mean())
    histogram = chart_of_the_runs_last_day(
        last.day,
        chart_drawn_for,
        lambda: risk_histogram(customers["p_late"], segmentation.risk_bands),
        figures="by_band",
    )
    return {
        "risk_histogram": histogram,
        "most_at_risk": _most_at_risk(customers),
        "scorer": last.scored.scorer,
        "fallback_reason": last.fallback or "none: the model in use scored every day",
        "customers": customers.height,
        "mean_p_late": round(float(np.mean(customers["p_late"].to_numpy())), 4),
        "by_band": table(bands.sort("risk_band")),
        "per_day": table(
            pl.DataFrame(
                [
                    {"day": d.day.isoformat(), "scorer": d.scored.scorer, "customers": d.scored.customers.height}
                    for d in days
                ]
            ).tail(31)
        ),
        "drift_psi": dg.MetadataValue.json(rounded(last.drift)),
    }


def segments_metadata(segments: pl.DataFrame, policy_version: str) -> dict[str, Any]:
    summary = segment_summary(segments)
    return {
        "policy_version": policy_version,
        "customers": segments.height,
        "segments": summary["segment"].n_unique() if summary.height else 0,
        "by_segment": table(with_money(summary)),
        **{
            f"by_{dimension}": table(segments.group_by(dimension).len().sort(dimension))
            for dimension in ("risk_band", "aging_bucket", "value_tier", "channel")
        },
    }
