"""``reminders users``: the people who may log in to the collections dashboard."""

from __future__ import annotations

import sys

import click

from reminder_pipeline.cli.base import UserMistake, examples, main, open_ledger
from reminder_pipeline.collections.users import USERNAME, Role


def _username(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    if not USERNAME.match(value):
        raise click.BadParameter(f"{value!r} is not a username: use 1 to 64 letters, digits or . _ @ -")
    return value


@main.group(
    epilog=examples(
        "reminders users add --username cora --role collector",
        "printf '%s\\n' \"$PASSWORD\" | reminders users add --username ops --role admin --password-stdin",
    )
)
def users() -> None:
    """Dashboard users (served by `reminders serve` at /)."""


@users.command("add")
@click.option("--username", required=True, callback=_username, help="The name to log in with.")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    default=Role.VIEWER.value,
    show_default=True,
    help="viewer reads; collector also acts on customers; admin also manages users.",
)
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin (no prompt).")
@click.option("--db", "db_url", help="Ledger database URL (default: $REMINDERS_DB_URL or the embedded SQLite file).")
def add(username: str, role: str, password_stdin: bool, db_url: str | None) -> None:
    """Add a dashboard user; the password is asked twice (hidden) and stored as an argon2id hash.

    Example: reminders users add --username cora --role collector
    """
    from reminder_pipeline.collections.users import UserProblem, add_user

    with open_ledger(db_url, upgrade=True) as ledger:
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
        try:
            user = add_user(ledger, username, password, Role(role))
        except UserProblem as problem:
            raise UserMistake(str(problem)) from problem
    click.echo(f"added {user.username} ({user.role.value}); they can log in at / of `reminders serve`")
