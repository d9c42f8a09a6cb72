"""The web app of ``reminders serve`` in its own process, and the customers' side of its webhooks.

Payments come in as the payment processor posts them: the payment webhook's JSON, signed with the
shared secret at the simulated time. A processor retries until it is acknowledged, so a payment is never
lost: a delivery lost on the way (``webhook_loss_rate``) or refused while the app is down or its
database away is posted again at the next moment customers act; some are posted twice
(``webhook_duplicate_rate``), which must be a no-op. Every acknowledged payment is written to
``payments_posted.jsonl`` for the audit. Replies go through the provider sandbox, which posts them to
the app as Twilio and SendGrid do (STOP included).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx

from reminder_pipeline.providers.sandbox import SandboxControlError
from reminder_pipeline.providers.settings import (
    DEMO_CREDENTIALS,
    PUBLIC_URL_ENV,
    SANDBOX_FROM_EMAIL,
    SANDBOX_FROM_NUMBER,
    TWILIO_AUTH_TOKEN_ENV,
)
from reminder_pipeline.simulation.accounts import Payment, Reply
from reminder_pipeline.simulation.behaviour import Dice
from reminder_pipeline.simulation.clock import SimClock
from reminder_pipeline.simulation.sandbox_process import SandboxProcess, stop
from reminder_pipeline.simulation.web_process import READY, ClockFile
from reminder_pipeline.web.settings import (
    INBOUND_PARSE_PASSWORD_ENV,
    INBOUND_PARSE_USER_ENV,
    PAYMENT_WEBHOOK_SECRET_ENV,
    SENDGRID_WEBHOOK_PUBLIC_KEY_ENV,
    STRIPE_WEBHOOK_SECRET_ENV,
)
from reminder_pipeline.web.signatures import PAYMENT_SIGNATURE_HEADER, signature_header

POSTERS = 8
INBOUND_USER = "simulation"


@dataclass(frozen=True)
class WebApp:
    url: str
    payment_secret: str = field(repr=False)


def _environment(sandbox: SandboxProcess, secrets_: dict[str, str]) -> dict[str, str]:
    """The app's settings as ``reminders serve`` reads them: the sandbox's credentials and key, new secrets."""
    environment = {k: v for k, v in os.environ.items() if k != PUBLIC_URL_ENV}
    return environment | {
        TWILIO_AUTH_TOKEN_ENV: DEMO_CREDENTIALS.twilio_auth_token,
        SENDGRID_WEBHOOK_PUBLIC_KEY_ENV: sandbox.control.webhook_public_key(),
        **secrets_,
    }


@contextmanager
def running_web_app(
    ledger_url: str, clock: SimClock, sandbox: SandboxProcess, workdir: Path, policy_path: Path | None = None
) -> Iterator[WebApp]:
    """The web app in its own process on the simulated clock, wired to the sandbox, until the block ends; its
    webhooks follow the policy at ``policy_path`` (None: the shipped one)."""
    payment_secret, inbound_password = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    clock_file = ClockFile(workdir / "clock.json")
    clock.listen(clock_file.write)
    environment = _environment(
        sandbox,
        {
            PAYMENT_WEBHOOK_SECRET_ENV: payment_secret,
            STRIPE_WEBHOOK_SECRET_ENV: secrets.token_urlsafe(24),
            INBOUND_PARSE_USER_ENV: INBOUND_USER,
            INBOUND_PARSE_PASSWORD_ENV: inbound_password,
        },
    )
    command = [sys.executable, "-m", "reminder_pipeline.simulation.web_process", "--db", ledger_url]
    command += ["--clock-file", str(clock_file.path)]
    if policy_path is not None:
        command += ["--policy", str(policy_path)]
    with (workdir / "web.log").open("ab") as log:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, env=environment, text=True)  # noqa: S603
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        if not first.startswith(READY):
            raise RuntimeError(f"the web app did not start (see {workdir / 'web.log'}): {first.strip()!r}")
        url = first.removeprefix(READY).strip()
        port = url.rsplit(":", 1)[1]
        sandbox.control.set_webhook_urls(
            sendgrid_events_url=f"{url}/webhooks/sendgrid/events",
            twilio_inbound_url=f"{url}/webhooks/twilio/inbound",
            sendgrid_inbound_url=f"http://{INBOUND_USER}:{inbound_password}@127.0.0.1:{port}/webhooks/sendgrid/inbound",
        )
        yield WebApp(url, payment_secret)
    finally:
        stop(process)


@dataclass
class _Pending:
    payment: Payment
    attempts: int = 0


class PaymentPoster:
    """Posts payments to the app as a processor would, retrying until acknowledged."""

    def __init__(
        self, app: WebApp, clock: SimClock, dice: Dice, loss_rate: float, duplicate_rate: float, journal: Path
    ):
        self.app, self.clock, self.dice = app, clock, dice
        self.loss_rate, self.duplicate_rate = loss_rate, duplicate_rate
        self.journal = journal
        self.pending: list[_Pending] = []
        self.counts = {"made": 0, "posted": 0, "acknowledged": 0, "lost_then_retried": 0, "refused": 0, "again": 0}
        self._lock = threading.Lock()
        self._client = httpx.Client(timeout=30.0, limits=httpx.Limits(max_connections=POSTERS))

    def close(self) -> None:
        self._client.close()

    def _count(self, name: str) -> None:
        with self._lock:
            self.counts[name] += 1

    def add(self, payments: list[Payment]) -> None:
        self.counts["made"] += len(payments)
        self.pending.extend(_Pending(p) for p in payments)

    def _post(self, payment: Payment) -> int | None:
        body = json.dumps(
            {
                "payment_id": payment.payment_id,
                "invoice_id": payment.invoice_id,
                "amount": payment.amount_text,
                "currency": payment.currency,
                "paid_at": payment.paid_at.isoformat(),
            }
        ).encode()
        header = signature_header(self.app.payment_secret, body, int(self.clock().timestamp()))
        try:
            answer = self._client.post(
                f"{self.app.url}/webhooks/payments",
                content=body,
                headers={PAYMENT_SIGNATURE_HEADER: header, "Content-Type": "application/json"},
            )
        except httpx.HTTPError:
            return None
        return answer.status_code

    def _attempt(self, item: _Pending) -> bool:
        """Whether the payment is done with (acknowledged, or refused for good)."""
        item.attempts += 1
        if item.attempts == 1 and self.dice("payment lost", item.payment.payment_id) < self.loss_rate:
            self._count("lost_then_retried")
            return False
        status = self._post(item.payment)
        self._count("posted")
        if status is None or status >= 500:
            return False
        if status >= 400:
            self._count("refused")
            return True
        self._count("acknowledged")
        if self.dice("payment again", item.payment.payment_id) < self.duplicate_rate:
            self._post(item.payment)
            self._count("again")
        return True

    def flush(self) -> None:
        """Post everything pending; what is not acknowledged waits for the next flush."""
        waiting, self.pending = self.pending, []
        with ThreadPoolExecutor(POSTERS) as pool:
            done = list(pool.map(self._attempt, waiting))
        with self.journal.open("a", encoding="utf-8") as out:
            for item, finished in zip(waiting, done, strict=True):
                if not finished:
                    self.pending.append(item)
                    continue
                p = item.payment
                out.write(
                    json.dumps(
                        {"payment_id": p.payment_id, "invoice_id": p.invoice_id, "paid_at": p.paid_at.isoformat()}
                    )
                    + "\n"
                )


class ReplySender:
    """Customers' replies, injected into the sandbox as the providers' inbound webhooks post them."""

    def __init__(self, sandbox: SandboxProcess, contacts: dict[str, tuple[str | None, str | None]]) -> None:
        self.sandbox = sandbox
        self.contacts = contacts
        """Per customer: (phone, email) as the world knows them."""
        self.pending: list[Reply] = []
        self.counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def add(self, replies: list[Reply]) -> None:
        self.pending.extend(replies)

    def _send(self, reply: Reply) -> bool:
        """Whether the app took the reply (one it could not take waits for the next moment)."""
        phone, email = self.contacts.get(reply.customer_id, (None, None))
        try:
            if reply.channel == "sms" and phone:
                answer = self.sandbox.control.inject_sms(phone, SANDBOX_FROM_NUMBER, reply.text)
            elif email:
                answer = self.sandbox.control.inject_email(email, SANDBOX_FROM_EMAIL, "Re: your invoice", reply.text)
            else:
                return True
        except SandboxControlError:
            return False
        if answer.status is None or answer.status >= 500:
            return False
        with self._lock:
            self.counts[reply.kind.value] = self.counts.get(reply.kind.value, 0) + 1
        return True

    def flush(self, until: datetime) -> None:
        """Send the replies due by ``until``, a customer's in the order written (STOP last), customers side by side."""
        due = [r for r in self.pending if r.at <= until]
        self.pending = [r for r in self.pending if r.at > until]
        by_customer: dict[str, list[Reply]] = {}
        for reply in due:
            by_customer.setdefault(reply.customer_id, []).append(reply)

        def send_all(replies: list[Reply]) -> list[Reply]:
            return [reply for reply in replies if not self._send(reply)]

        with ThreadPoolExecutor(POSTERS) as pool:
            for waiting in pool.map(send_all, by_customer.values()):
                self.pending.extend(waiting)
