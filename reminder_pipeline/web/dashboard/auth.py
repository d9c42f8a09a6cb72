"""Login, sessions and CSRF for the dashboard.

A session is a row of the ledger's ``dashboard_sessions`` (:mod:`reminder_pipeline.collections.sessions`),
so every ``reminders serve`` process — several workers, a restarted server — sees the same ones. The
cookie (signed with itsdangerous; HttpOnly, SameSite=Lax, Secure over HTTPS) carries the session's
random id and its CSRF token; the ledger keeps only the id's digest. Every request looks the row up
(one query by primary key): it must exist, not be ended or expired, and its user be active; the role
is the user's current one. A logout ends the row; a change of the user's password or role, or
disabling them, ends all of theirs. Every state-changing request must carry the CSRF token (a form
field or the ``X-CSRF-Token`` header), compared in constant time. The login form has its own
double-submit token.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps
from urllib.parse import parse_qsl, quote

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from reminder_pipeline.collections.sessions import digest_of, end_session, find_session, touch, utc_now
from reminder_pipeline.collections.users import Role, User, sign_in
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
    digest: str
    """The session row's key (the digest of the cookie's session id)."""


class Sessions:
    def __init__(self, ledger: Ledger, settings: DashboardSettings, clock: Callable[[], datetime] = utc_now) -> None:
        self.ledger = ledger
        self.settings = settings
        self.clock = clock
        """Real time (UTC), not the business clock: a session lasts ``session_hours`` of the wall clock."""
        self.signer = URLSafeTimedSerializer(settings.session_secret, salt="reminders-dashboard-session")

    @property
    def lifetime(self) -> timedelta:
        return timedelta(hours=self.settings.session_hours)

    def start(self, username: str, password: str, previous: str | None = None) -> str | None:
        """Check the password and start a session in the ledger: the session cookie's value; None when the
        password is wrong or the user disabled. ``previous``: the session cookie the browser came with,
        whose session (if it is one) ends as this one starts, so no copy of it outlives the new login; so
        do the user's oldest sessions past ``sessions_per_user``."""
        held = self._payload(previous)
        replacing = digest_of(held["s"]) if held is not None else None
        signed_in = sign_in(
            self.ledger, username, password, self.clock(), self.lifetime, replacing, self.settings.sessions_per_user
        )
        if signed_in is None:
            return None
        return self.signer.dumps({"s": signed_in.session_id, "c": secrets.token_urlsafe(24)})

    def end(self, session: Session) -> None:
        """Log ``session`` out: its cookie, wherever a copy of it is, no longer opens the dashboard in any
        server process."""
        end_session(self.ledger, session.digest, self.clock())

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

    def _payload(self, raw: str | None) -> dict[str, str] | None:
        """The session id ("s") and CSRF token ("c") of a session cookie signed by this server, not older
        than a session lasts; None for anything else."""
        if not raw:
            return None
        try:
            data = self.signer.loads(raw, max_age=int(self.lifetime.total_seconds()))
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("s"), str) or not isinstance(data.get("c"), str):
            return None
        return {"s": data["s"], "c": data["c"]}

    def read(self, request: Request) -> Session | None:
        data = self._payload(request.cookies.get(SESSION_COOKIE))
        if data is None:
            return None
        now = self.clock()
        with self.ledger.begin() as connection:
            found = find_session(connection, data["s"], now)
        if found is None:
            return None
        touch(self.ledger, found, now)
        return Session(User(found.user_id, found.username, Role(found.role)), data["c"], found.digest)


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
