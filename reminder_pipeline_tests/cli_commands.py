"""Every ``reminders`` command, walked from the click group (a new command is found without being listed):
the CLI tests of mistakes and of help share this."""

from __future__ import annotations

from collections.abc import Iterator

import click

from reminder_pipeline.cli import main

CommandPath = tuple[str, ...]


def _commands(group: click.Group, path: CommandPath = ()) -> Iterator[tuple[CommandPath, click.Command]]:
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))
        else:
            yield (*path, name), command


COMMANDS = dict(_commands(main))
"""Each command by its path (``("db", "upgrade")``), groups not included."""
