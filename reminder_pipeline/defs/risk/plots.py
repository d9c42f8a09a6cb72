"""The risk domain's plots: calibration, feature importance, the day's P(late) histogram."""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg
import polars as pl

from reminder_pipeline.defs.common.plots import markdown_png as _markdown
from reminder_pipeline.defs.common.plots import pyplot


def calibration_plot(calibration: pl.DataFrame) -> dg.MarkdownMetadataValue:
    """Predicted P(late) against the observed late share per band; the diagonal is perfect calibration."""
    figure, axis = pyplot().subplots(figsize=(4.5, 4))
    axis.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1)
    axis.scatter(
        calibration["predicted"], calibration["observed"], s=calibration["invoices"].cast(pl.Float64).clip(10, 400)
    )
    axis.set(xlabel="predicted P(late)", ylabel="observed late share", xlim=(0, 1), ylim=(0, 1), title="Calibration")
    return _markdown(figure, "calibration")


def importance_plot(importance: pl.DataFrame, top: int = 15) -> dg.MarkdownMetadataValue:
    shown = importance.head(top).reverse()
    figure, axis = pyplot().subplots(figsize=(5.5, 0.3 * shown.height + 1))
    axis.barh(shown["feature"].to_list(), shown["gain"].to_list())
    axis.set(xlabel="total gain", title="Feature importance")
    return _markdown(figure, "feature importance")


def risk_histogram(p_late: pl.Series, bands: Mapping[str, float]) -> dg.MarkdownMetadataValue:
    """Customers by P(late) in 5-point bins, with the policy's band bounds as dashed lines."""
    figure, axis = pyplot().subplots(figsize=(5, 3))
    axis.hist(p_late.to_numpy(), bins=20, range=(0, 1), color="#4f6fad")
    for name, bound in bands.items():
        if bound < 1.0:
            axis.axvline(bound, linestyle="--", color="grey", linewidth=1)
            axis.text(bound, axis.get_ylim()[1] * 0.95, f" {name} <", fontsize=7, va="top")
    axis.set(xlabel="P(late)", ylabel="customers", xlim=(0, 1), title="Risk of paying late")
    return _markdown(figure, "risk histogram")
