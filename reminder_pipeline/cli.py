"""The ``reminders`` command line.

A user's mistake — a wrong path, a bad database URL, a bad option, an unusable file or config — is
answered by every command the same way: one line ``error: <what is wrong and what to do>`` on stderr
(and ``{"error": ...}`` on stdout with ``--json``), exit code 2. :class:`ReminderGroup` does that for
all commands from the exceptions in :data:`USER_MISTAKES`; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click

from reminder_pipeline import settings
from reminder_pipeline.config_files import load_mapping
from reminder_pipeline.core.canonical import Channel, Entity
from reminder_pipeline.core.channels import CHANNEL_NAMES
from reminder_pipeline.core.mapping import Mapping, UnusableInputError
from reminder_pipeline.core.rendering.preview import PreviewError
from reminder_pipeline.core.rendering.templates import TemplateProblem
from reminder_pipeline.core.validation.reasons import Reason
from reminder_pipeline.core.yaml_config import ConfigError
from reminder_pipeline.ledger.engine import LedgerUnavailable

if TYPE_CHECKING:
    from reminder_pipeline.ledger.store import Ledger

EXIT_UNUSABLE = 2
USER_MISTAKES: tuple[type[Exception], ...] = (
    ConfigError,
    UnusableInputError,
    LedgerUnavailable,
    PreviewError,
    TemplateProblem,
)
"""Exceptions that describe something wrong with what the user gave, in words meant for them."""
INPUT_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


class UserMistake(click.ClickException):
    """One line on stderr saying what is wrong and what to do (and the same as JSON on stdout), exit code 2."""

    exit_code = EXIT_UNUSABLE

    def __init__(self, message: str, *, as_json: bool = False) -> None:
        super().__init__(message)
        self.as_json = as_json

    def show(self, file: IO[Any] | None = None) -> None:
        if self.as_json:
            click.echo(json.dumps({"error": self.message}))
        click.echo(f"error: {self.message}", err=True)


def _usage_mistake(error: click.UsageError, as_json: bool) -> UserMistake:
    command = error.ctx.command_path if error.ctx else "reminders"
    return UserMistake(f"{error.format_message().rstrip('.')}; see '{command} --help'", as_json=as_json)


class ReminderCommand(click.Command):
    """A command whose user mistakes (:data:`USER_MISTAKES`, click's usage errors) end in one line and exit 2."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        as_json = "--json" in args  # before parsing, which consumes ``args``
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as error:
            raise _usage_mistake(error, as_json) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as error:
            raise _usage_mistake(error, bool(ctx.params.get("as_json"))) from None
        except USER_MISTAKES as error:
            raise UserMistake(str(error), as_json=bool(ctx.params.get("as_json"))) from error


class ReminderGroup(ReminderCommand, click.Group):
    """The same for a group (an unknown command), and its commands and subgroups are made alike."""

    command_class = ReminderCommand
    group_class = type


def _emit(payload: dict[str, Any], as_json: bool, text: str) -> None:
    click.echo(json.dumps(payload, indent=2, default=str) if as_json else text)


def _open_ledger(db_url: str | None, *, upgrade: bool) -> Ledger:
    """The ledger at ``db_url`` (default: ``$REMINDERS_DB_URL``, else the embedded file).

    With ``upgrade`` (a command that writes), the ledger is created or migrated first, explicitly; the
    embedded file's folder is made. A URL the user gave must name an existing place (a SQLite file in an
    existing folder): a typo must not start a new, empty ledger elsewhere. Without, nothing is created:
    a read-only command says there is no ledger.
    """
    from reminder_pipeline.ledger.store import Ledger, upgrade_ledger

    url = db_url or settings.ledger_url()
    try:
        if upgrade:
            upgrade_ledger(url, create_folder=url == settings.default_ledger_url())
        return Ledger(url)
    except LedgerUnavailable as exc:
        if db_url or not os.environ.get(settings.DB_URL_ENV):
            raise
        raise LedgerUnavailable(f"{exc} (the URL is ${settings.DB_URL_ENV})") from exc


def _writable_folder(_ctx: click.Context, _param: click.Parameter, value: Path) -> Path:
    """A folder that exists or can be made: no file in the way, the nearest existing folder writable."""
    nearest = next(p for p in [value, *value.absolute().parents] if p.exists())
    if not nearest.is_dir() or not os.access(nearest, os.W_OK | os.X_OK):
        raise click.BadParameter(f"{value} cannot be a folder: {nearest} is not a writable folder")
    return value


@click.group(cls=ReminderGroup)
def main() -> None:
    """Payment reminders: ingest billing data, score risk, plan and send reminders."""


@main.command()
@click.option(
    "--file",
    "file_path",
    required=True,
    type=INPUT_FILE,
    help="CSV or Parquet file.",
)
@click.option(
    "--mapping",
    "mapping_path",
    type=INPUT_FILE,
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

    mapping = load_mapping(mapping_path) if mapping_path else Mapping(entity=Entity(entity or "invoices"))
    if entity and Entity(entity) is not mapping.entity:
        raise ConfigError(f"--entity {entity} but the mapping is for {mapping.entity.value}")
    table = read_file(file_path, delimiter=mapping.delimiter, encoding=mapping.encoding)
    with _open_ledger(db_url, upgrade=True) as ledger:
        day: date | None = business_date.date() if business_date else None
        reports = ingest_table(ledger, table, mapping=mapping, business_date=day)
        display_url = ledger.display_url
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
    _emit(result, as_json, text)


@main.command()
@click.option("--locale", default="en_GB", show_default=True, help="The customer's locale, e.g. de_DE, fr_CA.")
@click.option("--channel", type=click.Choice(CHANNEL_NAMES), default=Channel.EMAIL.value, show_default=True)
@click.option("--ladder", default="standard", show_default=True)
@click.option("--step", default="reminder", show_default=True)
@click.option("--invoices", default=2, show_default=True, type=click.IntRange(1, 20))
@click.option("--policy", "policy_path", type=INPUT_FILE, help="Policy file (default: the shipped one).")
@click.option(
    "--templates",
    "templates_path",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Templates folder (default: the shipped one).",
)
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

    from reminder_pipeline.config_files import load_policy, load_templates
    from reminder_pipeline.core.rendering.links import LinkSigner
    from reminder_pipeline.core.rendering.preview import example_message
    from reminder_pipeline.core.rendering.render import RenderContext, render_messages

    policy = load_policy(policy_path)
    now = datetime.now(UTC)
    messages, lines = example_message(
        policy, locale=locale, channel=channel, ladder=ladder, step=step, invoices=invoices, today=now.date()
    )
    context = RenderContext(policy, load_templates(templates_path), LinkSigner("preview-only-" * 2), now)
    row = render_messages(messages, lines, context).row(0, named=True)
    header = f"[{row['template']}, written for {row['locale']}]"
    if channel == Channel.SMS:
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

    with _open_ledger(db_url, upgrade=True) as ledger:
        click.echo(f"{ledger.display_url} is at revision {current_revision(ledger.engine)}")


@main.command()
@click.option("--db", "db_url", help="Ledger database URL.")
@click.option("--reason", type=click.Choice([r.value for r in Reason]), help="Only this reason code.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1), help="How many rows to list.")
@click.option("--json", "as_json", is_flag=True)
def quarantine(db_url: str | None, reason: str | None, limit: int, as_json: bool) -> None:
    """Counts of quarantined rows per reason, and the latest rows (without their raw, possibly personal, values)."""
    from reminder_pipeline.ledger.quarantine import quarantine_overview

    with (
        _open_ledger(db_url, upgrade=False) as ledger,
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
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    callback=_writable_folder,
    default=Path("data/demo"),
    show_default=True,
    help="The demo's own folder: made if missing, a previous demo in it deleted, any other content refused.",
)
@click.option("--invoices", default=12000, show_default=True, help="About how many invoices to generate.")
@click.option("--days", default=420, show_default=True, help="How many business days of history, ending today.")
@click.option("--seed", default=7, show_default=True)
def demo(workdir: Path, invoices: int, days: int, seed: int) -> None:
    """Run the whole product on generated data in WORKDIR and print a summary."""
    from reminder_pipeline.demo.run import DemoPlan, WorkdirInUse, last_weekday, run
    from reminder_pipeline.demo.summary import summary_lines

    plan = DemoPlan(workdir.resolve(), invoices, days, seed, last_weekday(date.today()))
    try:
        run(plan, click.echo)
    except (WorkdirInUse, RuntimeError) as exc:  # not the demo's folder, or a step failed (see its log)
        raise UserMistake(str(exc)) from exc
    for line in summary_lines(plan):
        click.echo(line)


if __name__ == "__main__":
    main()
