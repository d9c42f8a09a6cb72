"""``reminders evaluate``: the risk model on a held-out part of an invoice history."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from reminder_pipeline.cli.base import INPUT_FILE, UserMistake, emit, examples, main
from reminder_pipeline.config_files import load_mapping


@main.command(
    epilog=examples(
        "reminders evaluate --history ../shared/data/ibm_ar.csv --mapping reminder_pipeline/mappings/ibm_ar.yaml \\",
        "    --split-date 2013-07-01 --exclude disputed",
        "reminders evaluate --history invoices.csv --split-date 2025-01-01 --json",
    )
)
@click.option("--history", "history_path", required=True, type=INPUT_FILE, help="Invoice history.")
@click.option("--mapping", "mapping_path", type=INPUT_FILE, help="YAML column mapping.")
@click.option("--split-date", required=True, type=click.DateTime(["%Y-%m-%d"]), help="Train before, test on and after.")
@click.option("--exclude", default="", help="Comma-separated columns or features the model must not use.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def evaluate(history_path: Path, mapping_path: Path | None, split_date: Any, exclude: str, as_json: bool) -> None:
    """Train the risk model on invoices issued before the split date and test it on the rest.

    Late = paid after the due date, or still open and overdue at the end of the data. Features
    use only what was known on each invoice's issue date. The model, the rule score and their
    blend are shown side by side; the quality gate picks one on the last invoices before the
    split, and ``auc``/``brier`` are the figures of the one picked."""
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
    emit(result, as_json, _text(result, excluded))


def _text(result: dict[str, Any], excluded: list[str]) -> str:
    """Model, rule score and blend side by side on the test, and which one the product would use."""
    rows = [f"{'':8}{'AUC':>8}{'PR-AUC':>8}{'Brier':>8}{'ECE':>8}"]
    for name in ("model", "rule", "blend"):
        m = result[name]
        mark = "  <- used" if name == result["scorer"] else ""
        rows.append(f"{name:8}{m['auc']:8.4f}{m['pr_auc']:8.4f}{m['brier']:8.4f}{m['ece']:8.4f}{mark}")
    days = result["days_late"]
    days_line = (
        f"days late: MAE {days['mae']:.1f} (rule score's {days['rule_mae']:.1f}) on {days['n']} settled test invoices, "
        f"{days['interval_coverage']:.0%} inside the 80% interval"
        if days.get("n")
        else "days late: no settled test invoices"
    )
    return "\n".join(
        [
            *rows,
            f"the quality gate chose {result['scorer']} on {result['gate']['n_validation']} validation invoices "
            f"issued from {result['gate']['validation_from']}: {result['gate']['verdict']}",
            days_line,
            f"trained on {result['n_train']} invoices issued before {result['split_date']} "
            f"(late share {result['train_base_rate']:.1%}), tested on {result['n_test']} "
            f"(late share {result['base_rate']:.1%}); excluded: {', '.join(excluded) or 'nothing'}",
        ]
    )
