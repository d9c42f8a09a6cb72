"""``reminders replies classify``: customers' replies, one per line on stdin, as JSON lines."""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import click

from reminder_pipeline import settings
from reminder_pipeline.cli.base import examples, main


@main.group(epilog=examples("echo 'I will pay on Friday' | reminders replies classify --today 2026-03-10"))
def replies() -> None:
    """Customers' replies by SMS and email."""


def _as_json(text: str, today: date) -> dict[str, Any]:
    from reminder_pipeline.core.replies import classify_reply

    found = classify_reply(text, today)
    line: dict[str, Any] = {"intent": found.intent.value, "confidence": found.confidence, "language": found.language}
    if found.promised_date is not None:
        line["promised_date"] = found.promised_date.isoformat()
    return line


@replies.command(
    "classify",
    epilog=examples(
        "echo 'STOP' | reminders replies classify",
        "reminders replies classify --today 2026-03-10 < replies.txt > intents.jsonl",
    ),
)
@click.option(
    "--today",
    type=click.DateTime(["%Y-%m-%d"]),
    help="The date the replies are read on; promised dates are on or after it. Default: today in the "
    "business time zone.",
)
def classify(today: datetime | None) -> None:
    """Read replies one per line on stdin and print one JSON object per line: ``intent``, ``confidence``
    (act only at 0.7 or more), ``language`` (null when unknown) and, where one is found for a promise,
    ``promised_date`` (YYYY-MM-DD).

    Every input line gets one output line, in order: a blank line prints intent ``other`` with
    confidence 0, so line N of the output is always about line N of the input."""
    day = today.date() if today else datetime.now(UTC).astimezone(ZoneInfo(settings.business_timezone())).date()
    out = sys.stdout.buffer
    for raw in sys.stdin.buffer:  # bytes: UTF-8 whatever the locale, a bad byte replaced, not fatal
        text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        out.write((json.dumps(_as_json(text, day), ensure_ascii=False) + "\n").encode("utf-8"))
    out.flush()
