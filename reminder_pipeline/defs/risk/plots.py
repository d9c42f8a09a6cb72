"""Small PNG plots embedded in materialization metadata as Markdown."""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")

import dagster as dg
import matplotlib.pyplot as plt
import polars as pl


def _markdown(figure: plt.Figure, title: str) -> dg.MarkdownMetadataValue:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(figure)
    encoded = base64.b64encode(buffer.getvalue()).decode()
    return dg.MetadataValue.md(f"![{title}](data:image/png;base64,{encoded})")


def calibration_plot(calibration: pl.DataFrame) -> dg.MarkdownMetadataValue:
    """Predicted P(late) against the observed late share per band; the diagonal is perfect calibration."""
    figure, axis = plt.subplots(figsize=(4.5, 4))
    axis.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1)
    axis.scatter(
        calibration["predicted"], calibration["observed"], s=calibration["invoices"].cast(pl.Float64).clip(10, 400)
    )
    axis.set(xlabel="predicted P(late)", ylabel="observed late share", xlim=(0, 1), ylim=(0, 1), title="Calibration")
    return _markdown(figure, "calibration")


def importance_plot(importance: pl.DataFrame, top: int = 15) -> dg.MarkdownMetadataValue:
    shown = importance.head(top).reverse()
    figure, axis = plt.subplots(figsize=(5.5, 0.3 * shown.height + 1))
    axis.barh(shown["feature"].to_list(), shown["gain"].to_list())
    axis.set(xlabel="total gain", title="Feature importance")
    return _markdown(figure, "feature importance")
