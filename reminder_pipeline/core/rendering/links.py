"""Payment and unsubscribe links: signed, expiring tokens naming an outbox row, nothing personal.

A token is ``<outbox id>.<expiry day>.<signature>`` signed with itsdangerous (HMAC, a salt per
purpose), so a payment token does not unsubscribe and an edited id or expiry fails verification.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import polars as pl
from itsdangerous import BadSignature, Signer

PAYMENT, UNSUBSCRIBE = "payment", "unsubscribe"
INNER_PAD, OUTER_PAD = bytes(x ^ 0x36 for x in range(256)), bytes(x ^ 0x5C for x in range(256))
"""HMAC's key pads (RFC 2104) as translation tables."""


class InvalidLink(ValueError):
    """The token is forged, altered, of another purpose, or expired."""


def _keyed_hashes(key: bytes, digest_method: Callable[..., Any]) -> tuple[Any, Any]:
    """HMAC's inner and outer hashes with the key absorbed, as ``hmac.new`` prepares them."""
    block = digest_method().block_size
    if len(key) > block:
        key = digest_method(key).digest()
    padded = key.ljust(block, b"\0")
    return digest_method(padded.translate(INNER_PAD)), digest_method(padded.translate(OUTER_PAD))


class LinkSigner:
    def __init__(self, secret: str) -> None:
        if len(secret) < 16:
            raise ValueError("the link secret must have at least 16 characters")
        self._signers = {
            purpose: Signer(secret, salt=f"reminder_pipeline.{purpose}") for purpose in (PAYMENT, UNSUBSCRIBE)
        }

    def tokens(self, outbox_ids: pl.Series, purpose: str, expires_on: date) -> pl.Series:
        """Tokens exactly as ``Signer.sign`` makes them (an HMAC, RFC 2104), with the key derived and the HMAC's
        keyed inner and outer hashes made once rather than per token, and the base64 over the column;
        :meth:`verify` checks them with itsdangerous."""
        signer = self._signers[purpose]
        inner, outer = _keyed_hashes(signer.derive_key(), signer.digest_method)
        values = outbox_ids.cast(pl.String) + f".{expires_on.toordinal():x}"
        digests = []
        for value in values.to_list():
            step, final = inner.copy(), outer.copy()
            step.update(value.encode())
            final.update(step.digest())
            digests.append(final.digest())
        signatures = (  # itsdangerous' base64: URL-safe, without padding
            pl.Series(digests, dtype=pl.Binary)
            .bin.encode("base64")
            .str.replace_all("+", "-", literal=True)
            .str.replace_all("/", "_", literal=True)
            .str.strip_chars_end("=")
        )
        return (values + signer.sep.decode() + signatures).alias(f"{purpose}_token")

    def verify(self, token: str, purpose: str, today: date) -> int:
        """The outbox id the token names; :class:`InvalidLink` if it is not genuine or has expired."""
        try:
            value = self._signers[purpose].unsign(token).decode()
        except (BadSignature, KeyError, UnicodeDecodeError) as exc:
            raise InvalidLink("the link is not genuine") from exc
        outbox_id, expiry = value.split(".")
        if date.fromordinal(int(expiry, 16)) < today:
            raise InvalidLink("the link has expired")
        return int(outbox_id)
