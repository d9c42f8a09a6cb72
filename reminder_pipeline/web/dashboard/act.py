"""The dashboard's state-changing requests: log in, log out, and collector actions (CSRF-checked)."""

from __future__ import annotations

import secrets
from datetime import date
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from reminder_pipeline.collections.actions import (
    Action,
    ActionKind,
    ActionProblem,
    CallOutcome,
    NotAllowed,
    SessionEnded,
    record_action,
)
from reminder_pipeline.collections.users import Role
from reminder_pipeline.core.money import AmountProblem, parse_major
from reminder_pipeline.web.dashboard import pages
from reminder_pipeline.web.dashboard.auth import (
    CSRF_FIELD,
    LOGIN_COOKIE,
    SESSION_COOKIE,
    TOO_LARGE,
    FormTooLarge,
    Session,
    form_of,
    requires,
)

LOGIN_SECONDS = 900


def _safe_next(target: str | None) -> str:
    """Only a path on this site (never ``//elsewhere`` or a full URL, nor one that a browser would turn into
    one by dropping a tab or a newline: no control character or space at all)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    if any(ord(ch) <= 0x20 or ord(ch) == 0x7F for ch in target):
        return "/"
    return target


async def login_form(request: Request, error: str | None = None, status: int = 200) -> Response:
    dashboard = request.app.state.dashboard
    dashboard.start()
    token = secrets.token_urlsafe(24)
    html = dashboard.templates.get_template("login.html").render(
        csrf=token, next=_safe_next(request.query_params.get("next")), error=error
    )
    response = HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})
    dashboard.sessions.set_cookie(response, LOGIN_COOKIE, token, LOGIN_SECONDS)
    return response


async def login(request: Request) -> Response:
    dashboard = request.app.state.dashboard
    try:
        form = await form_of(request)
    except FormTooLarge:
        return PlainTextResponse(TOO_LARGE, status_code=413)
    expected = request.cookies.get(LOGIN_COOKIE, "")
    given = form.get("csrf_token", "")
    if not expected or not secrets.compare_digest(expected.encode(), given.encode()):
        return PlainTextResponse("the login form is stale or forged (CSRF token): reload it", status_code=403)
    username = form.get("username", "")
    address = request.client.host if request.client else "unknown"
    attempt = await run_in_threadpool(dashboard.throttle.attempt, username, address)
    if attempt.wait_seconds:
        minutes = -(-attempt.wait_seconds // 60)
        refused = await login_form(request, f"Too many failed logins: try again in {minutes} minute(s).", 429)
        refused.headers["Retry-After"] = str(attempt.wait_seconds)
        return refused
    previous = request.cookies.get(SESSION_COOKIE)
    cookie = await run_in_threadpool(dashboard.sessions.start, username, form.get("password", ""), previous)
    if cookie is None:
        return await login_form(request, "Wrong username or password.", 401)
    await run_in_threadpool(dashboard.throttle.succeeded, username, attempt)
    response = RedirectResponse(_safe_next(form.get("next")), status_code=303)
    dashboard.sessions.set_cookie(response, SESSION_COOKIE, cookie, int(dashboard.settings.session_hours * 3600))
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response


@requires()
async def logout(request: Request, session: Session) -> Response:
    await run_in_threadpool(request.app.state.dashboard.sessions.end, session)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _date(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ActionProblem("a date must be written YYYY-MM-DD") from None


def _action(customer_id: str, form: dict[str, str], currency: str | None) -> Action:
    try:
        kind = ActionKind(form.get("kind", ""))
    except ValueError:
        raise ActionProblem("unknown action") from None
    outcome = None
    if kind is ActionKind.CALL:
        try:
            outcome = CallOutcome(form.get("outcome", ""))
        except ValueError:
            raise ActionProblem("choose the call's outcome") from None
    amount = None
    if kind is ActionKind.PROMISE and form.get("amount", "").strip():
        if currency is None:
            raise ActionProblem("the customer owes nothing to promise")
        try:
            amount = parse_major(form["amount"].strip(), currency)
        except AmountProblem:
            raise ActionProblem(f"the amount is not an amount in {currency}") from None
    return Action(
        kind=kind,
        customer_id=customer_id,
        until=_date(form.get("until")),
        invoice_id=form.get("invoice_id") or None,
        amount_minor=amount,
        currency=currency if amount is not None else None,
        outcome=outcome,
        note=form.get("note"),
    )


@requires(Role.COLLECTOR)
async def action(request: Request, session: Session) -> Response:
    dashboard = request.app.state.dashboard
    customer_id = request.path_params["customer_id"]
    form: dict[str, str] = request.state.form
    frame = dashboard.snapshot.state.accounts
    owed = frame.filter(frame["customer_id"] == customer_id)
    currency = str(owed["currency"][0]) if owed.height else None
    try:
        chosen = _action(customer_id, form, currency)
        submission = (session.csrf, customer_id, *sorted(f"{k}={v}" for k, v in form.items() if k != CSRF_FIELD))

        def take() -> int:
            now, day = dashboard.clock(), dashboard.today()
            return record_action(dashboard.ledger, chosen, session.user, now, day, session.digest).action_id

        action_id = await run_in_threadpool(dashboard.resubmissions.once, submission, take)
    except SessionEnded as ended:
        return PlainTextResponse(str(ended), status_code=401)
    except NotAllowed as refused:
        return PlainTextResponse(str(refused), status_code=403)
    except ActionProblem as problem:
        return await pages.customer(request, session, error=f"Not saved: {problem}.")
    await run_in_threadpool(dashboard.snapshot.refresh_customers, [customer_id], ["action"])
    target = f"/customers/{quote(customer_id, safe='')}?saved={action_id}"
    return RedirectResponse(target, status_code=303)
