"""The Starlette app of ``reminders serve``: the signed webhooks, ``GET /healthz`` and the collections
dashboard (``web/dashboard``, behind a login).

Every webhook needs no login but a valid signature (promise 9); a refusal is 4xx and writes nothing;
an authentic request is stored before it is acknowledged and processed right after.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from reminder_pipeline import settings as product_settings
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.listening.inbox import Handlers, default_handlers
from reminder_pipeline.web.dashboard import dashboard_routes, make_dashboard
from reminder_pipeline.web.dashboard.settings import DashboardSettings
from reminder_pipeline.web.headers import SecurityHeaders
from reminder_pipeline.web.intake import Intake
from reminder_pipeline.web.payment_handlers import PAYMENT_HANDLERS
from reminder_pipeline.web.payment_routes import PAYMENT_ROUTES
from reminder_pipeline.web.provider_routes import PROVIDER_ROUTES
from reminder_pipeline.web.settings import WebSettings
from reminder_pipeline.web.signatures import sendgrid_verifier

log = logging.getLogger("reminder_pipeline.web")


async def healthz(request: Request) -> JSONResponse:
    intake: Intake = request.app.state.intake
    if await run_in_threadpool(intake.healthy):
        return JSONResponse({"status": "ok"})
    return JSONResponse({"status": "unavailable", "reason": "the ledger does not answer"}, status_code=503)


def create_app(
    ledger_url: str | None = None,
    *,
    settings: WebSettings | None = None,
    handlers: Handlers | None = None,
    dashboard: DashboardSettings | None = None,
) -> Starlette:
    """The app on the ledger at ``ledger_url`` (default: ``$REMINDERS_DB_URL`` or the embedded file).

    ``settings`` default to the environment's; ``handlers`` to every handler the product has (the
    providers' ones once installed, and the payment and Stripe ones). Given handlers are added to
    the payment and Stripe ones. The ledger is opened now (a wrong URL fails here) and closed when
    the app shuts down. ValueError: a setting cannot be used (the SendGrid key is not a key).
    """
    web_settings = settings or WebSettings.from_environment()
    verifier = sendgrid_verifier(web_settings.sendgrid_public_key) if web_settings.sendgrid_public_key else None
    chosen = default_handlers() if handlers is None else {**PAYMENT_HANDLERS, **handlers}
    ledger = Ledger(ledger_url or product_settings.ledger_url())
    for variable in web_settings.unconfigured():
        log.warning("%s is not set: the webhooks that need it answer 503", variable)

    intake = Intake(ledger, chosen, web_settings)
    board = make_dashboard(
        ledger,
        dashboard or DashboardSettings.from_environment(public_url=web_settings.public_url),
        web_settings.clock,
        product_settings.business_timezone(),
    )

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await run_in_threadpool(board.stop)
            await run_in_threadpool(intake.close)
            ledger.dispose()

    app = Starlette(
        routes=[Route("/healthz", healthz, methods=["GET"]), *PROVIDER_ROUTES, *PAYMENT_ROUTES, *dashboard_routes()],
        lifespan=lifespan,
        middleware=[Middleware(SecurityHeaders)],
    )
    app.state.dashboard = board
    app.state.intake = intake
    app.state.sendgrid_verifier = verifier
    app.state.ledger = ledger
    return app
