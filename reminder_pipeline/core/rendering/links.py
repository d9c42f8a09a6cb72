"""Payment and unsubscribe links: signed, expiring tokens naming an outbox row, nothing personal.

A token is ``<outbox id>.<expiry day>.<signature>`` signed with itsdangerous (HMAC, a salt per
purpose), so a payment token does not unsubscribe and an edited id or expiry fails verification.
"""

from __future__ import annotations

import hmac
from datetime import date

import polars as pl
from itsdangerous import BadSignature, Signer

PAYMENT, UNSUBSCRIBE = "payment", "unsubscribe"


class InvalidLink(ValueError):
    """The token is forged, altered, of another purpose, or expired."""


class LinkSigner:
    def __init__(self, secret: str) -> None:
        if len(secret) < 16:
            raise ValueError("the link secret must have at least 16 characters")
        self._signers = {
            purpose: Signer(secret, salt=f"reminder_pipeline.{purpose}") for purpose in (PAYMENT, UNSUBSCRIBE)
        }

    def tokens(self, outbox_ids: pl.Series, purpose: str, expires_on: date) -> pl.Series:
        """Tokens exactly as ``Signer.sign`` makes them, with the key derived and the HMAC keyed once rather than
        per token (each token's HMAC a copy of it), and the base64 over the column; :meth:`verify` checks them
        with itsdangerous."""
        signer = self._signers[purpose]
        keyed = hmac.new(signer.derive_key(), digestmod=signer.digest_method().name)
        values = outbox_ids.cast(pl.String) + f".{expires_on.toordinal():x}"
        digests = []
        for value in values.to_list():
            mac = keyed.copy()
            mac.update(value.encode())
            digests.append(mac.digest())
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
