"""Carrier keywords: the whole body, any case, punctuation and emoji around it ignored."""

from __future__ import annotations

from datetime import date

import pytest

from reminder_pipeline.core.replies import KeywordCommand, ReplyIntent, classify_reply, keyword_command


@pytest.mark.parametrize(
    ("body", "command"),
    [
        ("STOP", KeywordCommand.OPT_OUT),
        ("stop", KeywordCommand.OPT_OUT),
        ("  Stop!  ", KeywordCommand.OPT_OUT),
        ("STOP.", KeywordCommand.OPT_OUT),
        ("stop 🛑", KeywordCommand.OPT_OUT),
        ("StopAll", KeywordCommand.OPT_OUT),
        ("unsubscribe", KeywordCommand.OPT_OUT),
        ("CANCEL", KeywordCommand.OPT_OUT),
        ("end", KeywordCommand.OPT_OUT),
        ("Quit", KeywordCommand.OPT_OUT),
        ("revoke", KeywordCommand.OPT_OUT),
        ("OPTOUT", KeywordCommand.OPT_OUT),
        ("START", KeywordCommand.OPT_IN),
        ("yes", KeywordCommand.OPT_IN),
        ("Unstop", KeywordCommand.OPT_IN),
        ("HELP", KeywordCommand.HELP),
        ("info?", KeywordCommand.HELP),
        ("\tHelp\r\n", KeywordCommand.HELP),
    ],
)
def test_a_whole_body_keyword_is_its_command(body: str, command: KeywordCommand) -> None:
    assert keyword_command(body) is command


@pytest.mark.parametrize(
    "body",
    [
        "please stop by the office",
        "stop please",
        "STOP STOP",
        "don't stop",
        "yes I paid",
        "help me understand this invoice",
        "the end",
        "st op",
        "stopp",
        "",
        "   ",
        "🛑",
        "information",
    ],
)
def test_anything_more_than_one_keyword_is_not_a_keyword(body: str) -> None:
    assert keyword_command(body) is None


def test_a_keyword_body_classifies_as_its_command_with_full_confidence() -> None:
    today = date(2026, 3, 10)
    assert classify_reply("STOP", today).intent is ReplyIntent.OPT_OUT
    assert classify_reply(" yes ", today).intent is ReplyIntent.OPT_IN
    assert classify_reply("Info", today).confidence == 1.0


def test_please_stop_by_the_office_is_not_an_opt_out() -> None:
    assert classify_reply("please stop by the office", date(2026, 3, 10)).intent is not ReplyIntent.OPT_OUT
