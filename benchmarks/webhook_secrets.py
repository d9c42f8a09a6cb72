"""Fresh secrets for one webhook benchmark run, handed to the app and the generator by environment only."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from benchmarks.webhook_load import PRIVATE_KEY_ENV


@dataclass(frozen=True)
class BenchSecrets:
    twilio_token: str = field(default_factory=lambda: secrets.token_hex(16))
    sendgrid_key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    payment_secret: str = field(default_factory=lambda: "whsec_" + secrets.token_hex(16))
    stripe_secret: str = field(default_factory=lambda: "whsec_" + secrets.token_hex(16))

    def sendgrid_public_key(self) -> str:
        spki = self.sendgrid_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(spki).decode()

    def server_environment(self, public_url: str) -> dict[str, str]:
        """What ``reminders serve`` reads (the Inbound Parse credentials left unset: not benchmarked)."""
        return {
            "TWILIO_AUTH_TOKEN": self.twilio_token,
            "SENDGRID_WEBHOOK_PUBLIC_KEY": self.sendgrid_public_key(),
            "REMINDERS_PAYMENT_WEBHOOK_SECRET": self.payment_secret,
            "REMINDERS_STRIPE_WEBHOOK_SECRET": self.stripe_secret,
            "REMINDERS_PUBLIC_URL": public_url,
        }

    def generator_environment(self) -> dict[str, str]:
        pem = self.sendgrid_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return {
            "TWILIO_AUTH_TOKEN": self.twilio_token,
            "REMINDERS_PAYMENT_WEBHOOK_SECRET": self.payment_secret,
            PRIVATE_KEY_ENV: pem.decode(),
        }
