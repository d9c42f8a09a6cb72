"""The ``reminders`` command line: one module per group of commands, all on :func:`main`."""

from reminder_pipeline.cli import demo, ledger, messages, risk
from reminder_pipeline.cli.base import EXIT_UNUSABLE, USER_MISTAKES, UserMistake, main

__all__ = ["EXIT_UNUSABLE", "USER_MISTAKES", "UserMistake", "demo", "ledger", "main", "messages", "risk"]
