"""The payment webhook (DESIGN.md) and the Stripe adapter, both signed ``t=<unix>,v1=<HMAC-SHA256>``.

A body that is signed but cannot be read as a payment (or a Stripe event) is refused with 400 and
stores nothing; the same ``payment_id`` (Stripe: event ``id``) again is a no-op.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reminder_pipeline.listening.inbox import EventSource
from reminder_pipeline.web.bodies import as_text
from reminder_pipeline.web.endpoint import body_of, take, webhook
from reminder_pipeline.web.intake import Intake
from reminder_pipeline.web.payment_handlers import PaymentProblem, read_payment, stripe_envelope
from reminder_pipeline.web.refusal import malformed, not_configured
from reminder_pipeline.web.settings import PAYMENT_WEBHOOK_SECRET_ENV, STRIPE_WEBHOOK_SECRET_ENV
from reminder_pipeline.web.signatures import PAYMENT_SIGNATURE_HEADER, STRIPE_SIGNATURE_HEADER, verify_timestamped


async def _signed_text(request: Request, intake: Intake, secret: str | None, variable: str, header: str) -> str:
    if not secret:
        raise not_configured(variable)
    raw = await body_of(request, intake)
    settings = intake.settings
    verify_timestamped(secret, header, request.headers.get(header), raw, settings.clock(), settings.tolerance_seconds)
    return as_text(raw)


@webhook
async def payment_webhook(request: Request, intake: Intake) -> Response:
    secret = intake.settings.payment_secret
    text = await _signed_text(request, intake, secret, PAYMENT_WEBHOOK_SECRET_ENV, PAYMENT_SIGNATURE_HEADER)
    try:
        payment = read_payment(text)
    except PaymentProblem as problem:
        raise malformed(str(problem)) from None
    context = f"payment {payment.payment_id} for invoice {payment.invoice_id}"
    taken = await take(intake, EventSource.PAYMENT, payment.payment_id, text, context)
    return taken.response()


@webhook
async def stripe_webhook(request: Request, intake: Intake) -> Response:
    secret = intake.settings.stripe_secret
    text = await _signed_text(request, intake, secret, STRIPE_WEBHOOK_SECRET_ENV, STRIPE_SIGNATURE_HEADER)
    try:
        event_id, kind = stripe_envelope(text)
    except PaymentProblem as problem:
        raise malformed(str(problem)) from None
    taken = await take(intake, EventSource.STRIPE, event_id, text, f"{kind[:60]} {event_id}")
    return taken.response()


PAYMENT_ROUTES = [
    Route("/webhooks/payments", payment_webhook, methods=["POST"]),
    Route("/webhooks/stripe", stripe_webhook, methods=["POST"]),
]
