"""Issue 13: every ``reminders`` command's ``--help`` teaches by example, and the examples are real commands."""

from __future__ import annotations

import shlex

import click
import pytest
from click.testing import CliRunner

from reminder_pipeline.cli import main
from reminder_pipeline_tests.cli_commands import COMMANDS


def _groups(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path]
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found += _groups(command, (*path, name))
    return found


EVERY = sorted([*COMMANDS, *_groups(main)])


def _help(path: tuple[str, ...]) -> str:
    result = CliRunner().invoke(main, [*path, "--help"], terminal_width=120)
    assert result.exit_code == 0, result.output
    return result.output


def _example_lines(text: str) -> list[str]:
    lines = text.split("Example", 1)[1].splitlines()
    joined, current = [], ""
    for line in (raw.strip() for raw in lines):
        current = f"{current} {line.rstrip(chr(92)).strip()}".strip() if current else line.rstrip(chr(92)).strip()
        if not line.endswith("\\"):
            joined.append(current)
            current = ""
    return [line for line in joined if "reminders " in line and not line.startswith("#")]


@pytest.mark.parametrize("path", EVERY, ids=lambda path: " ".join(path) or "reminders")
def test_every_command_and_group_shows_examples_of_itself(path: tuple[str, ...]) -> None:
    text = _help(path)
    assert "Example" in text, text
    shown = " ".join(("reminders", *path))
    assert any(shown in line for line in _example_lines(text)), f"no example of {shown!r}:\n{text}"


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=" ".join)
def test_every_example_parses_as_written(path: tuple[str, ...]) -> None:
    """Each example's options exist and take the values shown (a renamed option breaks its example)."""
    command = COMMANDS[path]
    for line in _example_lines(_help(path)):
        words = shlex.split(line.split("|")[-1].split("<")[0].split(">")[0])
        start = words.index("reminders") + 1 + len(path)
        assert words[start - len(path) : start] == list(path), line
        context = command.make_context(" ".join(("reminders", *path)), words[start:], resilient_parsing=True)
        known = {opt for param in command.params for opt in param.opts}
        assert all(word in known for word in words[start:] if word.startswith("--")), line
        context.close()
