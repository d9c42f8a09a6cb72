"""What every ``reminders`` command shares: the group, how a user's mistake is answered, the ledger.

A user's mistake — a wrong path, a bad database URL, a bad option, an unusable file or config — is
answered by every command the same way: one line ``error: <what is wrong and what to do>`` on stderr
(and ``{"error": ...}`` on stdout with ``--json``), exit code 2. :class:`ReminderGroup` does that for
all commands from the exceptions in :data:`USER_MISTAKES`; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click

from reminder_pipeline import settings
from reminder_pipeline.core.mapping import UnusableInputError
from reminder_pipeline.core.rendering.preview import PreviewError
from reminder_pipeline.core.rendering.templates import TemplateProblem
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


def examples(*lines: str) -> str:
    """A command's help epilog: examples to copy, kept as written (click rewraps other paragraphs).

    A line starting with ``#`` says what the next one does.
    """
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


def emit(payload: dict[str, Any], as_json: bool, text: str) -> None:
    click.echo(json.dumps(payload, indent=2, default=str) if as_json else text)


def open_ledger(db_url: str | None, *, upgrade: bool) -> Ledger:
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


def writable_folder(_ctx: click.Context, _param: click.Parameter, value: Path) -> Path:
    """A folder that exists or can be made: no file in the way, the nearest existing folder writable."""
    nearest = next(p for p in [value, *value.absolute().parents] if p.exists())
    if not nearest.is_dir() or not os.access(nearest, os.W_OK | os.X_OK):
        raise click.BadParameter(f"{value} cannot be a folder: {nearest} is not a writable folder")
    return value


@click.group(
    cls=ReminderGroup,
    epilog=examples(
        "# the whole product on generated data, then its Dagster UI (make ui)",
        "reminders demo",
        "# your own invoice history: into a ledger, then how well the risk model would do on it",
        "reminders ingest --file invoices.csv --mapping mapping.yaml --db sqlite:///data/mine.sqlite",
        "reminders evaluate --history invoices.csv --mapping mapping.yaml --split-date 2025-01-01",
        "# a message as a customer would get it",
        "reminders preview --locale fr_FR --channel sms",
    )
    + "\n\nRun 'reminders COMMAND --help' for a command's options and examples.",
)
def main() -> None:
    """Payment reminders: ingest billing data, score risk, plan and send reminders.

    Every command answers a mistake with one line 'error: <what is wrong and what to do>' and exit code 2."""
