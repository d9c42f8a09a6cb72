"""``reminders preview``: one example message, as a customer would receive it, for template and policy authors."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from reminder_pipeline.cli import main


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en_US", "Dear Alex Example"),
        ("es_ES", "Estimado/a Alex Example"),
        ("fr_CA", "Bonjour Alex Example"),
        ("de_CH", "Guten Tag Alex Example"),
    ],
)
def test_an_email_in_each_language(locale: str, expected: str) -> None:
    result = CliRunner().invoke(main, ["preview", "--locale", locale, "--step", "second_reminder", "--html"])
    assert result.exit_code == 0, result.output
    assert expected in result.output
    assert "Subject: " in result.output
    assert "<!DOCTYPE html>" in result.output


def test_an_sms_reports_its_encoding_and_parts() -> None:
    result = CliRunner().invoke(main, ["preview", "--locale", "fr_FR", "--channel", "sms", "--step", "final_notice"])
    assert result.exit_code == 0, result.output
    assert "GSM-7, 2 part(s)" in result.output
    assert "Répondez STOP" in result.output


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--ladder", "gentle"], "no ladder 'gentle'"),
        (["--step", "collector"], "no message step 'collector'"),
        (["--locale", "xx_YY"], "error:"),
    ],
)
def test_a_bad_request_exits_2_with_the_reason(arguments: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["preview", *arguments])
    assert result.exit_code == 2
    assert message in result.output
