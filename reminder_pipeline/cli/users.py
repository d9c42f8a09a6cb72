"""``reminders users``: the people who may log in to the collections dashboard, and the list of them.

Changing a user's password or role, or disabling them, ends every session of theirs at once, in every
``reminders serve`` process (sessions live in the ledger)."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from reminder_pipeline.cli.base import UserMistake, emit, examples, main, open_ledger
from reminder_pipeline.collections.users import USERNAME, Role

if TYPE_CHECKING:
    from reminder_pipeline.collections.users import UserListing


def _username(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    if not USERNAME.match(value):
        raise click.BadParameter(f"{value!r} is not a username: use 1 to 64 letters, digits or . _ @ -")
    return value


@main.group(
    epilog=examples(
        "reminders users add --username cora --role collector",
        "printf '%s\\n' \"$PASSWORD\" | reminders users add --username ops --role admin --password-stdin",
        "reminders users set-password --username cora",
        "reminders users set-role --username cora --role viewer",
        "reminders users disable --username cora",
        "reminders users enable --username cora",
        "reminders users list --json",
    )
)
def users() -> None:
    """Dashboard users (served by `reminders serve` at /)."""


USERNAME_OPTION = click.option("--username", required=True, callback=_username, help="The name to log in with.")
PASSWORD_STDIN_OPTION = click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin (no prompt)."
)
DB_OPTION = click.option(
    "--db", "db_url", help="Ledger database URL (default: $REMINDERS_DB_URL or the embedded SQLite file)."
)
ROLES = click.Choice([r.value for r in Role])
ROLE_HELP = "viewer reads; collector also acts on customers; admin also manages users."


def _password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True))


def _no_such_user(username: str) -> UserMistake:
    return UserMistake(f"no user named {username!r}: check the name, or add them with `reminders users add`")


def _report(username: str, ended: int | None, done: str) -> None:
    """Say what was done and how many sessions it ended; a mistake when there is no such user (None)."""
    if ended is None:
        raise _no_such_user(username)
    click.echo(f"{done}; {ended} session{'s' if ended != 1 else ''} of theirs ended")


@users.command("add")
@USERNAME_OPTION
@click.option("--role", type=ROLES, default=Role.VIEWER.value, show_default=True, help=ROLE_HELP)
@PASSWORD_STDIN_OPTION
@DB_OPTION
def add(username: str, role: str, password_stdin: bool, db_url: str | None) -> None:
    """Add a dashboard user; the password is asked twice (hidden) and stored as an argon2id hash.

    Example: reminders users add --username cora --role collector
    """
    from reminder_pipeline.collections.users import UserProblem, add_user

    with open_ledger(db_url, upgrade=True) as ledger:
        password = _password(password_stdin)
        try:
            user = add_user(ledger, username, password, Role(role))
        except UserProblem as problem:
            raise UserMistake(str(problem)) from problem
    click.echo(f"added {user.username} ({user.role.value}); they can log in at / of `reminders serve`")


@users.command("set-password")
@USERNAME_OPTION
@PASSWORD_STDIN_OPTION
@DB_OPTION
def set_password(username: str, password_stdin: bool, db_url: str | None) -> None:
    """Give a user a new password (asked twice, hidden); every session of theirs ends.

    Example: reminders users set-password --username cora
    """
    from reminder_pipeline.collections import users as accounts

    with open_ledger(db_url, upgrade=True) as ledger:
        password = _password(password_stdin)
        try:
            ended = accounts.set_password(ledger, username, password)
        except accounts.UserProblem as problem:
            raise UserMistake(str(problem)) from problem
    _report(username, ended, f"new password for {username}")


@users.command("set-role")
@USERNAME_OPTION
@click.option("--role", type=ROLES, required=True, help=ROLE_HELP)
@DB_OPTION
def set_role(username: str, role: str, db_url: str | None) -> None:
    """Give a user another role; every session of theirs ends (they log in again with the new one).

    Example: reminders users set-role --username cora --role viewer
    """
    from reminder_pipeline.collections import users as accounts

    with open_ledger(db_url, upgrade=True) as ledger:
        _report(username, accounts.set_role(ledger, username, Role(role)), f"{username} is now {role}")


@users.command("disable")
@USERNAME_OPTION
@DB_OPTION
def disable(username: str, db_url: str | None) -> None:
    """Stop a user from logging in; every session of theirs ends (their audit stays).

    Example: reminders users disable --username cora
    """
    from reminder_pipeline.collections import users as accounts

    with open_ledger(db_url, upgrade=True) as ledger:
        _report(username, accounts.disable_user(ledger, username), f"{username} is disabled")


@users.command("enable")
@USERNAME_OPTION
@DB_OPTION
def enable(username: str, db_url: str | None) -> None:
    """Let a disabled user log in again (sessions ended by disabling them stay ended).

    Example: reminders users enable --username cora
    """
    from reminder_pipeline.collections import users as accounts

    with open_ledger(db_url, upgrade=True) as ledger:
        found = accounts.enable_user(ledger, username)
    if not found:
        raise _no_such_user(username)
    click.echo(f"{username} may log in again")


def _moment(moment: datetime | None) -> str:
    return "-" if moment is None else moment.strftime("%Y-%m-%d %H:%M")


def _row(user: UserListing) -> dict[str, Any]:
    return {
        "username": user.username,
        "role": user.role.value,
        "enabled": user.enabled,
        "created_at": user.created_at.isoformat(),
        "disabled_at": None if user.disabled_at is None else user.disabled_at.isoformat(),
        "last_login_at": None if user.last_login_at is None else user.last_login_at.isoformat(),
        "open_sessions": user.open_sessions,
    }


def _table(listed: list[UserListing]) -> str:
    header = ("username", "role", "state", "created (UTC)", "last login (UTC)", "open sessions")
    rows = [header] + [
        (
            u.username,
            u.role.value,
            "enabled" if u.enabled else "disabled",
            _moment(u.created_at),
            _moment(u.last_login_at),
            str(u.open_sessions),
        )
        for u in listed
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows)
    return "\n".join(line.rstrip() for line in lines)


@users.command("list")
@DB_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def list_users(db_url: str | None, as_json: bool) -> None:
    """List the dashboard's users: role, enabled or disabled, created, last login and open sessions (never
    a password hash). Times are UTC; a last login of '-' is none the ledger recorded.

    Example: reminders users list --json
    """
    from reminder_pipeline.collections.users import list_users as listing

    with open_ledger(db_url, upgrade=False) as ledger:
        listed = listing(ledger)
    none = "no dashboard users yet: add one with `reminders users add --username NAME --role admin`"
    text = _table(listed) if listed else none
    emit({"users": [_row(u) for u in listed]}, as_json, text)
