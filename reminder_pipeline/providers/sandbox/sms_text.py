"""How many segments an SMS body takes, as Twilio counts them."""

from __future__ import annotations

import math

GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)


def segments(body: str) -> int:
    """How many SMS segments ``body`` takes: GSM-7 (160, or 153 when split) or UCS-2 (70, or 67)."""
    single, split = (160, 153) if set(body) <= GSM_BASIC else (70, 67)
    return 1 if len(body) <= single else math.ceil(len(body) / split)
