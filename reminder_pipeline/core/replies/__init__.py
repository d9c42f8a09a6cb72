"""Replies from customers, read without I/O: carrier keywords and free text in en/es/fr/de.

``keyword_command(body)`` answers the carrier keywords (STOP, START, HELP, ...) for a whole body;
``classify_reply(text, today)`` reads anything else as an intent with a confidence, a promised date
for a promise to pay, and the language. Act on an intent only at or above :data:`CONFIDENT`.
"""

from reminder_pipeline.core.replies.classifier import classify_reply
from reminder_pipeline.core.replies.intents import CONFIDENT, Classification, ReplyIntent
from reminder_pipeline.core.replies.keywords import KeywordCommand, keyword_command

__all__ = ["CONFIDENT", "Classification", "KeywordCommand", "ReplyIntent", "classify_reply", "keyword_command"]
