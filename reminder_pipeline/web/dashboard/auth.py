"""Login, sessions and CSRF for the dashboard.

A session is a cookie signed with itsdangerous (HttpOnly, SameSite=Lax, Secure over HTTPS) holding
the user's id and the session's CSRF token; every request checks that the user still exists and is
not disabled, and that it was not logged out (logged-out sessions are remembered in memory until they
would have expired: a server restarted with the same secret forgets them). Every state-changing
request must carry that token (a form field or the ``X-CSRF-Token`` header), compared in constant time.
The login form has its own double-submit token.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps
from urllib.parse import parse_qsl, quote

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from reminder_pipeline.collections.users import Role, User, active_user
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.web.dashboard.settings import DashboardSettings

SESSION_COOKIE = "reminders_session"
LOGIN_COOKIE = "reminders_login"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
MAX_FORM_BYTES = 64 * 1024


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str


class Sessions:
    def __init__(self, ledger: Ledger, settings: DashboardSettings) -> None:
        self.ledger = ledger
        self.settings = settings
        self.signer = URLSafeTimedSerializer(settings.session_secret, salt="reminders-dashboard-session")
        self.ended: dict[str, float] = {}
        """The CSRF token of each logged-out session, with when its cookie would have expired (monotonic)."""
        self.lock = threading.Lock()

    def end(self, session: Session) -> None:
        """Log ``session`` out: its cookie, wherever a copy of it is, no longer opens the dashboard."""
        now = time.monotonic()
        with self.lock:
            for token in [t for t, until in self.ended.items() if until <= now]:
                del self.ended[token]
            self.ended[session.csrf] = now + self.settings.session_hours * 3600

    def cookie_for(self, user: User) -> str:
        return self.signer.dumps({"u": user.user_id, "c": secrets.token_urlsafe(24)})

    def set_cookie(self, response: Response, name: str, value: str, max_age: int | None) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            httponly=True,
            samesite="lax",
            secure=self.settings.cookie_secure,
            path="/",
        )

    def read(self, request: Request) -> Session | None:
        raw = request.cookies.get(SESSION_COOKIE)
        if not raw:
            return None
        try:
            data = self.signer.loads(raw, max_age=int(self.settings.session_hours * 3600))
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("u"), int) or not isinstance(data.get("c"), str):
            return None
        with self.lock:
            if data["c"] in self.ended:
                return None
        with self.ledger.begin() as connection:
            user = active_user(connection, data["u"])
        return None if user is None else Session(user, data["c"])


class FormTooLarge(ValueError):
    """A form body past ``MAX_FORM_BYTES`` (read no further)."""


async def form_of(request: Request) -> dict[str, str]:
    """An urlencoded form body, as the last value of each field; FormTooLarge past 64 KiB (the body is
    read only that far, so a huge one costs no memory)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        raise FormTooLarge
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_FORM_BYTES:
            raise FormTooLarge
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        return {}


TOO_LARGE = "the form is too large (a note is at most 2,000 characters)"


def csrf_ok(session: Session, request: Request, form: dict[str, str]) -> bool:
    given = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    return bool(given) and hmac.compare_digest(given.encode(), session.csrf.encode())


Endpoint = Callable[[Request, Session], Awaitable[Response]]


def _wants_page(request: Request) -> bool:
    return request.method == "GET" and "hx-request" not in request.headers and not request.url.path.endswith("/live")


def requires(role: Role | None = None) -> Callable[[Endpoint], Callable[[Request], Awaitable[Response]]]:
    """Only with a valid session (a page redirects to the login, anything else is 401); with ``role``,
    only for users who may act (403 otherwise); a POST also needs the session's CSRF token (403)."""

    def decorate(endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
        @wraps(endpoint)
        async def guarded(request: Request) -> Response:
            sessions: Sessions = request.app.state.dashboard.sessions
            session = await run_in_threadpool(sessions.read, request)
            if session is None:
                if _wants_page(request):
                    target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
                    return RedirectResponse(f"/login?next={target}", status_code=303)
                return PlainTextResponse("log in first", status_code=401)
            await run_in_threadpool(request.app.state.dashboard.wait_until_loaded)
            if role is not None and not session.user.role.can_act:
                return PlainTextResponse("your role may not do this", status_code=403)
            if request.method != "GET":
                try:
                    form = await form_of(request)
                except FormTooLarge:
                    return PlainTextResponse(TOO_LARGE, status_code=413)
                if not csrf_ok(session, request, form):
                    return PlainTextResponse(
                        "the form is stale or forged (CSRF token): reload the page", status_code=403
                    )
                request.state.form = form
            return await endpoint(request, session)

        return guarded

    return decorate
