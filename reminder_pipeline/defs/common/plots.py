"""Small PNG charts embedded in materialization metadata as Markdown (the Dagster UI shows them inline).

Counts only, never a person's data; each chart is a few kilobytes, so that a backfill's hundreds of
partitions keep a light event log.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Sequence
from datetime import date
from types import ModuleType
from typing import TYPE_CHECKING

import dagster as dg

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def pyplot() -> ModuleType:
    """matplotlib's pyplot on the file-only Agg backend, imported when a chart is drawn: importing it costs
    every process that loads the code location (the webserver, the daemon, each run) seconds it needs only
    for charts."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def markdown_png(figure: Figure, title: str) -> dg.MarkdownMetadataValue:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
    pyplot().close(figure)
    encoded = base64.b64encode(buffer.getvalue()).decode()
    return dg.MetadataValue.md(f"![{title}](data:image/png;base64,{encoded})")


def bar_chart(labels: Sequence[str], values: Sequence[float], *, title: str, unit: str) -> dg.MarkdownMetadataValue:
    """Vertical bars with their value written on top, e.g. open invoices per aging bucket."""
    figure, axis = pyplot().subplots(figsize=(max(3.5, 0.8 * len(labels) + 1), 3))
    bars = axis.bar([str(label) for label in labels], list(values), color="#4f6fad")
    axis.bar_label(bars, fmt="{:,.0f}", fontsize=8)
    axis.set(ylabel=unit, title=title)
    axis.tick_params(axis="x", labelrotation=30 if len(labels) > 5 else 0)
    axis.spines[["top", "right"]].set_visible(False)
    return markdown_png(figure, title)


def chart_of_the_runs_last_day(
    day: date, last_day: date, draw: Callable[[], dg.MarkdownMetadataValue], *, figures: str
) -> dg.MarkdownMetadataValue:
    """``draw()`` for the run's last day only; any other day of a backfill says where the chart is and which
    key holds its own figures. A chart costs a third of a second: a backfill of a year would spend minutes
    drawing one per day that nobody opens."""
    if day == last_day:
        return draw()
    return dg.MetadataValue.md(f"Drawn for the run's last day, {last_day}; this day's figures: `{figures}`.")
