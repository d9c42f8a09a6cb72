"""The ``reminders`` command line: one module per group of commands, all on :func:`main`."""

from reminder_pipeline.cli import (
    delivery,
    demo,
    ledger,
    listen,
    messages,
    replies,
    risk,
    sandbox,
    serve,
    simulate,
    users,
)
from reminder_pipeline.cli.base import EXIT_UNUSABLE, USER_MISTAKES, UserMistake, main

__all__ = [
    "EXIT_UNUSABLE",
    "USER_MISTAKES",
    "UserMistake",
    "delivery",
    "demo",
    "ledger",
    "listen",
    "main",
    "messages",
    "replies",
    "risk",
    "sandbox",
    "serve",
    "simulate",
    "users",
]
