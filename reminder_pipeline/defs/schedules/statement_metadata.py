"""What the statement run shows in the UI: the day's statements (planned, written, skipped and why), the
archive's totals per currency, and the days of the run. Counts and amounts only: no names or addresses."""

from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl

from reminder_pipeline.core.statements.lines import statement_totals
from reminder_pipeline.core.statements.plan import SKIP_DESCRIPTIONS
from reminder_pipeline.defs.common.metadata import table, with_money
from reminder_pipeline.statements.service import CycleDay


def statements_metadata(runs: list[CycleDay], path: Path) -> dict[str, Any]:
    """The run's last day's statements and archive totals, with one row per day of ``runs``."""
    lines, per_day, days = runs[-1].lines, [r.figures() for r in runs], [r.statements for r in runs]
    totals = statement_totals(lines)
    shown = (
        with_money(with_money(totals, "overdue_minor", "overdue"), "balance_minor", "balance")
        if totals.height
        else totals
    )
    last = days[-1].summary()
    skipped = last.pop("skipped")
    assert isinstance(skipped, dict)
    reasons = pl.DataFrame(
        {
            "reason": list(skipped),
            "customers": list(skipped.values()),
            "why": [SKIP_DESCRIPTIONS.get(r, r) for r in skipped],
        },
        schema={"reason": pl.String(), "customers": pl.Int64(), "why": pl.String()},
    )
    messages = pl.DataFrame([{k: v for k, v in d.summary().items() if k != "skipped"} for d in days]).tail(31)
    return {
        "cycle_customers": per_day[-1]["cycle_customers"],
        "customers_with_open_invoices": per_day[-1]["with_open_invoices"],
        "open_invoices": per_day[-1]["open_invoices"],
        "new_invoices": per_day[-1]["new_invoices"],
        "statements_planned": last["planned"],
        "statements_written": last["rendered"],
        "statements_held": last["held"],
        "courtesy_folded": last["courtesy_folded"],
        "skipped": table(reasons),
        "statements_per_day": table(messages),
        "by_currency": table(shown),
        "per_day": table(pl.DataFrame(per_day).tail(31)),
        "path": dg.MetadataValue.path(str(path)),
    }
