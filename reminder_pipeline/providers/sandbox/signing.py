"""How the sandbox signs what it posts, exactly as the providers do (PROVIDERS.md §2 and §7).

Twilio: ``X-Twilio-Signature``, from the SDK's own ``RequestValidator(auth_token).compute_signature``.
SendGrid's signed event webhook: ECDSA P-256 over SHA-256 of ``timestamp + raw body``, base64 DER, with
a key pair the sandbox makes when it starts; its public key is shown as SendGrid shows it (base64
SubjectPublicKeyInfo DER), the value a receiver keeps in ``SENDGRID_WEBHOOK_PUBLIC_KEY``.
"""

from __future__ import annotations

import base64
import logging
import os
from collections.abc import Mapping
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from twilio.request_validator import RequestValidator

logger = logging.getLogger(__name__)

TWILIO_SIGNATURE_HEADER = "X-Twilio-Signature"
SENDGRID_SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
SENDGRID_TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
KEY_FILE_NAME = "sendgrid_event_webhook_key.pem"
"""Kept next to the sandbox's journal, so that a restarted sandbox signs with the same key."""


def twilio_signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """What Twilio puts in ``X-Twilio-Signature`` for a form POST of ``params`` to ``url``."""
    signature: str = RequestValidator(auth_token).compute_signature(url, dict(params))
    return signature


class EventWebhookKey:
    """The signed event webhook's key pair."""

    def __init__(self, private_key: ec.EllipticCurvePrivateKey) -> None:
        self._private_key = private_key
        spki = private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.public_key = base64.b64encode(spki).decode("ascii")
        """Base64 SPKI DER, as ``GET /v3/user/webhooks/event/settings/signed`` gives it."""

    @classmethod
    def generate(cls) -> EventWebhookKey:
        return cls(ec.generate_private_key(ec.SECP256R1()))

    @classmethod
    def load_or_create(cls, path: Path | None) -> EventWebhookKey:
        """The key kept at ``path`` (made and written, readable by the owner only, when there is none)."""
        if path is None:
            return cls.generate()
        if path.exists():
            loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if isinstance(loaded, ec.EllipticCurvePrivateKey) and isinstance(loaded.curve, ec.SECP256R1):
                return cls(loaded)
            logger.warning("the sandbox replaced %s: not a P-256 private key", path)
        key = cls.generate()
        path.parent.mkdir(parents=True, exist_ok=True)
        staged = path.with_suffix(path.suffix + ".tmp")
        descriptor = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(
                key._private_key.private_bytes(
                    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
                )
            )
            out.flush()
            os.fsync(out.fileno())
        staged.replace(path)
        return key

    def sign(self, timestamp: str, body: bytes) -> str:
        """The ``X-Twilio-Email-Event-Webhook-Signature`` of ``body`` posted at ``timestamp`` (unix seconds)."""
        der = self._private_key.sign(timestamp.encode("utf-8") + body, ec.ECDSA(hashes.SHA256()))
        return base64.b64encode(der).decode("ascii")
