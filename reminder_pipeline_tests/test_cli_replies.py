"""``reminders replies classify`` as DESIGN.md specifies it, run as a process."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]


def _classify(stdin: bytes, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "reminder_pipeline.cli", "replies", "classify", *args],
        input=stdin,
        capture_output=True,
        cwd=PROJECT,
        timeout=300,
        check=False,
    )


def _lines(result: subprocess.CompletedProcess[bytes]) -> list[dict[str, object]]:
    return [json.loads(line) for line in result.stdout.decode("utf-8").splitlines()]


def test_one_json_line_per_reply_in_order() -> None:
    replies = "I'll pay on Friday\n\nSTOP\nya pagué ayer\r\nEnde nächster Woche\nwho is this?\nfin du mois\n"
    result = _classify(replies.encode("utf-8"), "--today", "2026-03-10")
    assert (result.returncode, result.stderr) == (0, b"")
    lines = _lines(result)
    assert [line["intent"] for line in lines] == [
        "promise_to_pay",
        "other",
        "opt_out",
        "paid",
        "promise_to_pay",
        "help",
        "promise_to_pay",
    ]
    assert [line.get("promised_date") for line in lines] == [
        "2026-03-13",
        None,
        None,
        None,
        "2026-03-20",
        None,
        "2026-03-31",
    ]
    assert lines[1] == {"intent": "other", "confidence": 0.0, "language": None}
    assert [line["language"] for line in lines] == ["en", None, None, "es", "de", "en", "fr"]
    assert all(isinstance(c := line["confidence"], float) and 0.0 <= c <= 1.0 for line in lines)


def test_without_today_promises_are_on_or_after_the_current_date() -> None:
    result = _classify(b"I will pay tomorrow\n")
    assert result.returncode == 0
    (line,) = _lines(result)
    assert date.fromisoformat(str(line["promised_date"])) >= date.today() - timedelta(days=1)  # any time zone


def test_a_thousand_lines_give_a_thousand_answers() -> None:
    replies = ["I'll pay next week", "ya pagué", "je conteste", "ruf mich an", ""] * 200
    result = _classify("\n".join(replies).encode("utf-8") + b"\n", "--today", "2026-03-10")
    lines = _lines(result)
    assert (result.returncode, len(lines)) == (0, 1000)
    assert [line["intent"] for line in lines[:5]] == ["promise_to_pay", "paid", "dispute", "call_request", "other"]


def test_no_input_is_no_output() -> None:
    result = _classify(b"", "--today", "2026-03-10")
    assert (result.returncode, result.stdout) == (0, b"")


def test_a_line_that_is_not_utf8_is_still_answered() -> None:
    result = _classify(b"ya pagu\xe9\nSTOP\n", "--today", "2026-03-10")
    assert result.returncode == 0
    assert [line["intent"] for line in _lines(result)][1] == "opt_out"
    assert len(_lines(result)) == 2


def test_a_bad_today_is_a_user_mistake() -> None:
    result = _classify(b"paid\n", "--today", "10/03/2026")
    assert result.returncode == 2
    assert result.stderr.decode().startswith("error: ")
