"""``reminders evaluate``: the risk model on a held-out part of an invoice history."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from reminder_pipeline.cli.base import INPUT_FILE, UserMistake, emit, main
from reminder_pipeline.config_files import load_mapping


@main.command()
@click.option("--history", "history_path", required=True, type=INPUT_FILE, help="Invoice history.")
@click.option("--mapping", "mapping_path", type=INPUT_FILE, help="YAML column mapping.")
@click.option("--split-date", required=True, type=click.DateTime(["%Y-%m-%d"]), help="Train before, test on and after.")
@click.option("--exclude", default="", help="Comma-separated columns or features the model must not use.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def evaluate(history_path: Path, mapping_path: Path | None, split_date: Any, exclude: str, as_json: bool) -> None:
    """Train the risk model on invoices issued before the split date and test it on the rest.

    Late = paid after the due date, or still open and overdue at the end of the data. Features
    use only what was known on each invoice's issue date."""
    from reminder_pipeline.core.model.evaluation import evaluate_history
    from reminder_pipeline.ingestion.history_file import load_history_file

    excluded = [e.strip() for e in exclude.split(",") if e.strip()]
    mapping = load_mapping(mapping_path) if mapping_path else None
    try:
        loaded = load_history_file(history_path, mapping)
        result = evaluate_history(loaded.history, split_date.date(), excluded)
    except ValueError as exc:  # both say what is wrong with the history (or the split) as a ValueError
        raise UserMistake(str(exc), as_json=as_json) from exc
    result |= {"rows_in": loaded.rows_in, "rows_used": loaded.accepted, "rows_quarantined": loaded.quarantined}
    text = (
        f"AUC {result['auc']:.4f}  PR-AUC {result['pr_auc']:.4f}  Brier {result['brier']:.4f}  "
        f"(rule score AUC {result['rule_baseline']['auc']:.4f})\n"
        f"trained on {result['n_train']} invoices issued before {result['split_date']}, "
        f"tested on {result['n_test']} (late share {result['base_rate']:.1%}); "
        f"excluded: {', '.join(excluded) or 'nothing'}"
    )
    emit(result, as_json, text)
