"""Provider error texts made safe to log: they often quote the recipient's address or number (promise 8)."""

from __future__ import annotations

import logging
import re

EMAIL_LIKE = re.compile(r"[^\s@'\"<>()\[\],;:]+@[^\s@'\"<>()\[\],;:]+")
PHONE_LIKE = re.compile(r"\+?\d[\d ().-]{5,}\d")
MAX_DETAIL = 300


def redact(text: str) -> str:
    """``text`` with anything that looks like an email address or a phone number hidden, and cut short."""
    hidden = EMAIL_LIKE.sub("***@***", text)
    hidden = PHONE_LIKE.sub("***", hidden)
    return hidden if len(hidden) <= MAX_DETAIL else hidden[: MAX_DETAIL - 1] + "…"


SDK_LOGGERS = ("python_http_client.client", "twilio.http_client")
"""The SDKs log each request's payload, query and headers (recipients, bodies, the API key) at INFO and
DEBUG: their loggers only ever pass warnings on."""


def quiet_sdk_loggers() -> None:
    for name in SDK_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger(name).level))
