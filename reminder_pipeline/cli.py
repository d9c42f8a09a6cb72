"""The ``reminders`` command line."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

import click

from reminder_pipeline import settings
from reminder_pipeline.core.canonical import Entity
from reminder_pipeline.core.mapping import Mapping, UnusableInputError, load_mapping
from reminder_pipeline.core.yaml_config import ConfigError

EXIT_UNUSABLE = 2


def _emit(payload: dict[str, Any], as_json: bool, text: str) -> None:
    click.echo(json.dumps(payload, indent=2, default=str) if as_json else text)


def _fail(message: str, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"error": message}))
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_UNUSABLE)


@click.group()
def main() -> None:
    """Payment reminders: ingest billing data, score risk, plan and send reminders."""


@main.command()
@click.option(
    "--file",
    "file_path",
    required=True,
    type=click.Path(path_type=Path),
    help="CSV or Parquet file.",
)
@click.option(
    "--mapping",
    "mapping_path",
    type=click.Path(path_type=Path),
    help="YAML column mapping.",
)
@click.option(
    "--entity",
    type=click.Choice([e.value for e in Entity]),
    help="What the file holds (default: the mapping's, else invoices).",
)
@click.option(
    "--db",
    "db_url",
    help="Ledger database URL (default: $REMINDERS_DB_URL or the embedded SQLite file).",
)
@click.option(
    "--business-date",
    type=click.DateTime(["%Y-%m-%d"]),
    help="The business date the file belongs to.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def ingest(
    file_path: Path,
    mapping_path: Path | None,
    entity: str | None,
    db_url: str | None,
    business_date: Any,
    as_json: bool,
) -> None:
    """Ingest one file into the ledger. Bad rows are quarantined with a reason; exit code 2 only when
    the file itself is unusable (missing, binary, wrong headers, bad mapping)."""
    from reminder_pipeline.ingestion.files import read_file
    from reminder_pipeline.ingestion.service import ingest_table
    from reminder_pipeline.ledger.store import Ledger

    try:
        mapping = load_mapping(mapping_path) if mapping_path else Mapping(entity=Entity(entity or "invoices"))
        if entity and Entity(entity) is not mapping.entity:
            raise ConfigError(f"--entity {entity} but the mapping is for {mapping.entity.value}")
        table = read_file(file_path, delimiter=mapping.delimiter, encoding=mapping.encoding)
        with Ledger(db_url or settings.ledger_url()) as ledger:
            day: date | None = business_date.date() if business_date else None
            reports = ingest_table(ledger, table, mapping=mapping, business_date=day)
            display_url = ledger.display_url
    except (UnusableInputError, ConfigError) as exc:
        _fail(str(exc), as_json)
        return
    main_report, derived = reports[-1], reports[:-1]
    payload = {
        "file": str(file_path),
        "ledger": display_url,
        **{k: v for k, v in main_report.to_dict().items() if k not in ("source",)},
        "derived": [r.to_dict() for r in derived],
    }
    lines = [
        f"{file_path}: {main_report.rows_in} {main_report.entity} rows in, {main_report.accepted} accepted "
        f"({main_report.inserted} new, {main_report.updated} updated, {main_report.unchanged} unchanged), "
        f"{main_report.quarantined} quarantined",
        *[f"  {reason}: {count}" for reason, count in main_report.reasons.items()],
        *[f"  warning: {w}" for w in main_report.warnings],
        *[f"  {r.entity} derived from the file: {r.accepted} accepted, {r.quarantined} quarantined" for r in derived],
    ]
    _emit(payload, as_json, "\n".join(lines))


@main.command()
@click.option("--history", "history_path", required=True, type=click.Path(path_type=Path), help="Invoice history.")
@click.option("--mapping", "mapping_path", type=click.Path(path_type=Path), help="YAML column mapping.")
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
    try:
        mapping = load_mapping(mapping_path) if mapping_path else None
        loaded = load_history_file(history_path, mapping)
        result = evaluate_history(loaded.history, split_date.date(), excluded)
    except (UnusableInputError, ConfigError, ValueError) as exc:
        _fail(str(exc), as_json)
        return
    result |= {"rows_in": loaded.rows_in, "rows_used": loaded.accepted, "rows_quarantined": loaded.quarantined}
    text = (
        f"AUC {result['auc']:.4f}  PR-AUC {result['pr_auc']:.4f}  Brier {result['brier']:.4f}  "
        f"(rule score AUC {result['rule_baseline']['auc']:.4f})\n"
        f"trained on {result['n_train']} invoices issued before {result['split_date']}, "
        f"tested on {result['n_test']} (late share {result['base_rate']:.1%}); "
        f"excluded: {', '.join(excluded) or 'nothing'}"
    )
    _emit(result, as_json, text)


@main.command()
@click.option("--locale", default="en_GB", show_default=True, help="The customer's locale, e.g. de_DE, fr_CA.")
@click.option("--channel", type=click.Choice(["email", "sms"]), default="email", show_default=True)
@click.option("--ladder", default="standard", show_default=True)
@click.option("--step", default="reminder", show_default=True)
@click.option("--invoices", default=2, show_default=True, type=click.IntRange(1, 20))
@click.option(
    "--policy", "policy_path", type=click.Path(path_type=Path), help="Policy file (default: the shipped one)."
)
@click.option("--templates", "templates_path", type=click.Path(path_type=Path), help="Templates folder.")
@click.option("--html", is_flag=True, help="Also print the HTML body of an email.")
def preview(
    locale: str,
    channel: str,
    ladder: str,
    step: str,
    invoices: int,
    policy_path: Path | None,
    templates_path: Path | None,
    html: bool,
) -> None:
    """Write one example message with fictional data, as a customer would receive it (nothing is stored)."""
    from datetime import UTC, datetime

    from babel import UnknownLocaleError

    from reminder_pipeline.core.policy.config import load_policy
    from reminder_pipeline.core.rendering.links import LinkSigner
    from reminder_pipeline.core.rendering.preview import PreviewError, example_message
    from reminder_pipeline.core.rendering.render import RenderContext, render_messages
    from reminder_pipeline.core.rendering.templates import TEMPLATES, TemplateProblem, Templates

    try:
        policy = load_policy(policy_path)
        now = datetime.now(UTC)
        messages, lines = example_message(
            policy, locale=locale, channel=channel, ladder=ladder, step=step, invoices=invoices, today=now.date()
        )
        context = RenderContext(policy, Templates(templates_path or TEMPLATES), LinkSigner("preview-only-" * 2), now)
        row = render_messages(messages, lines, context).row(0, named=True)
    except (ConfigError, PreviewError, TemplateProblem, UnknownLocaleError, ValueError) as exc:
        _fail(str(exc), as_json=False)
        return
    header = f"[{row['template']}, written for {row['locale']}]"
    if channel == "sms":
        header += f" {row['sms_encoding']}, {row['sms_segments']} part(s), {len(row['body_text'])} characters"
    parts = [header]
    if row["subject"]:
        parts.append(f"Subject: {row['subject']}")
    parts.append(row["body_text"])
    if html and row["body_html"]:
        parts += ["", row["body_html"]]
    click.echo("\n\n".join(parts))


@main.group()
def db() -> None:
    """The ledger database."""


@db.command("upgrade")
@click.option("--db", "db_url", help="Ledger database URL.")
def db_upgrade(db_url: str | None) -> None:
    """Create or migrate the ledger schema to the latest version."""
    from reminder_pipeline.ledger.migrate import current_revision
    from reminder_pipeline.ledger.store import Ledger

    with Ledger(db_url or settings.ledger_url()) as ledger:
        click.echo(f"{ledger.display_url} is at revision {current_revision(ledger.engine)}")


@main.command()
@click.option("--db", "db_url", help="Ledger database URL.")
@click.option("--reason", help="Only this reason code.")
@click.option("--limit", default=20, show_default=True, help="How many rows to list.")
@click.option("--json", "as_json", is_flag=True)
def quarantine(db_url: str | None, reason: str | None, limit: int, as_json: bool) -> None:
    """Counts of quarantined rows per reason, and the latest rows (without their raw, possibly personal, values)."""
    from reminder_pipeline.ledger.quarantine import quarantine_overview
    from reminder_pipeline.ledger.store import Ledger

    with (
        Ledger(db_url or settings.ledger_url()) as ledger,
        ledger.begin() as connection,
    ):
        counts, latest = quarantine_overview(connection, reason=reason, limit=limit)
    payload = {"counts": counts, "latest": latest.to_dicts()}
    text = "\n".join(
        [*(f"{r}: {n}" for r, n in counts.items())]
        + [
            f"  {row['entity']} {row['source']} row {row['source_row']}: {row['reason']} — {row['detail']}"
            for row in latest.to_dicts()
        ]
    )
    _emit(payload, as_json, text or "the quarantine is empty")


@main.command()
@click.option("--workdir", type=click.Path(path_type=Path), default=Path("data/demo"), show_default=True)
@click.option("--invoices", default=12000, show_default=True, help="About how many invoices to generate.")
@click.option("--days", default=420, show_default=True, help="How many business days of history, ending today.")
@click.option("--seed", default=7, show_default=True)
def demo(workdir: Path, invoices: int, days: int, seed: int) -> None:
    """Run the whole product on generated data in WORKDIR and print a summary."""
    from reminder_pipeline.demo import DemoPlan, last_weekday, run
    from reminder_pipeline.demo_summary import summary_lines

    plan = DemoPlan(workdir.resolve(), invoices, days, seed, last_weekday(date.today()))
    try:
        run(plan, click.echo)
    except RuntimeError as exc:
        _fail(str(exc), as_json=False)
    for line in summary_lines(plan):
        click.echo(line)


if __name__ == "__main__":
    main()
