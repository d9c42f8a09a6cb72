"""Sessions and the login brake live in the ledger, so every server process sees the same ones: two apps on
one ledger stand in for two ``reminders serve`` workers (and a third, made later, for a restart). A logout,
a password change, a role change and disabling a user end sessions everywhere; the brake counts attempts
across processes; a forged, unknown or expired session id opens nothing. On SQLite and PostgreSQL."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from httpx import Response
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select, update
from starlette.testclient import TestClient

from reminder_pipeline.collections.sessions import digest_of
from reminder_pipeline.collections.users import Role, disable_user, enable_user, set_password, set_role
from reminder_pipeline.ledger.schema import collector_actions, dashboard_sessions, users
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.web import create_app
from reminder_pipeline.web.dashboard.auth import SESSION_COOKIE
from reminder_pipeline_tests.web.dashboard.attacks import try_login
from reminder_pipeline_tests.web.dashboard.conftest import FAST, NOW, PASSWORD, csrf_of, seed
from reminder_pipeline_tests.web.signing import MovableClock, Secrets

SALT = "reminders-dashboard-session"


@contextmanager
def _worker(ledger: Ledger) -> Iterator[TestClient]:
    """One server process on ``ledger`` (its own app: its own memory, its own snapshot)."""
    app = create_app(ledger.url, settings=Secrets().settings(MovableClock(NOW)), dashboard=FAST)
    with TestClient(app, follow_redirects=False) as client:
        yield client


@pytest.fixture
def workers(ledger: Ledger, tmp_path: Path) -> Iterator[tuple[TestClient, TestClient]]:
    seed(ledger, tmp_path)
    with ExitStack() as stack:
        yield stack.enter_context(_worker(ledger)), stack.enter_context(_worker(ledger))


def _log_in(client: TestClient, username: str, password: str = PASSWORD) -> str:
    answer = try_login(client, username, password)
    assert answer.status_code == 303, answer.text
    cookie: str = answer.cookies[SESSION_COOKIE]
    client.cookies.clear()
    return cookie


def _as(client: TestClient, cookie: str, method: str, path: str, form: dict[str, str] | None = None) -> Response:
    """A request carrying only the session ``cookie``."""
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, cookie)
    try:
        return client.request(method, path, data=form)
    finally:
        client.cookies.clear()


def _opens(client: TestClient, cookie: str, path: str = "/worklist") -> bool:
    answer = _as(client, cookie, "GET", path)
    assert answer.status_code in (200, 303), answer.status_code
    return answer.status_code == 200


def _actions(ledger: Ledger) -> int:
    with ledger.begin() as connection:
        return int(connection.execute(select(func.count()).select_from(collector_actions)).scalar_one())


def test_a_logout_in_one_process_ends_the_session_in_the_other_and_after_a_restart(
    ledger: Ledger, workers: tuple[TestClient, TestClient]
) -> None:
    first, second = workers
    cookie = _log_in(first, "cora")
    kept = _log_in(second, "cora")
    assert _opens(first, cookie)
    assert _opens(second, cookie)
    token = csrf_of(_as(first, cookie, "GET", "/").text)
    assert _as(first, cookie, "POST", "/logout", {"csrf_token": token}).status_code == 303
    assert not _opens(second, cookie)
    action = {"kind": "call", "outcome": "reached", "csrf_token": token}
    assert _as(second, cookie, "POST", "/customers/A/actions", action).status_code == 401
    assert _actions(ledger) == 0
    with _worker(ledger) as restarted:
        assert not _opens(restarted, cookie)
        assert _opens(restarted, kept), "another session of the same user goes on"


@pytest.mark.parametrize("change", ["password", "role", "disable"])
def test_changing_a_users_password_or_role_or_disabling_them_ends_their_sessions_in_every_process(
    ledger: Ledger, workers: tuple[TestClient, TestClient], change: str
) -> None:
    first, second = workers
    cookies = [_log_in(first, "cora"), _log_in(second, "cora")]
    other = _log_in(first, "ada")
    if change == "password":
        assert set_password(ledger, "cora", "a brand new passphrase") == 2
    elif change == "role":
        assert set_role(ledger, "cora", Role.VIEWER) == 2
    else:
        assert disable_user(ledger, "cora") == 2
    for cookie in cookies:
        for worker in workers:
            assert not _opens(worker, cookie), change
    assert _opens(second, other), "another user's session goes on"
    with ledger.begin() as connection:
        reasons = set(connection.execute(select(dashboard_sessions.c.ended_reason)).scalars())
    assert reasons == {None, {"password": "password_changed", "role": "role_changed", "disable": "disabled"}[change]}


def test_after_a_role_change_no_session_acts_with_the_old_role(
    ledger: Ledger, workers: tuple[TestClient, TestClient]
) -> None:
    first, second = workers
    cookie = _log_in(first, "cora")
    token = csrf_of(_as(second, cookie, "GET", "/customers/A").text)
    set_role(ledger, "cora", Role.VIEWER)
    form = {"kind": "pause", "until": "2026-03-20", "csrf_token": token}
    for worker in workers:
        assert _as(worker, cookie, "POST", "/customers/A/actions", form).status_code == 401
    fresh = _log_in(second, "cora")
    page = _as(first, fresh, "GET", "/customers/A").text
    assert "cora (viewer)" in page
    form["csrf_token"] = csrf_of(page)
    assert _as(first, fresh, "POST", "/customers/A/actions", form).status_code == 403
    assert _actions(ledger) == 0


def test_enabling_a_disabled_user_again_does_not_revive_their_old_sessions(
    ledger: Ledger, workers: tuple[TestClient, TestClient]
) -> None:
    first, second = workers
    cookie = _log_in(first, "cora")
    disable_user(ledger, "cora")
    assert try_login(second, "cora", PASSWORD).status_code == 401
    second.cookies.clear()
    assert enable_user(ledger, "cora")
    assert not _opens(second, cookie)
    assert _opens(second, _log_in(second, "cora"))


def test_the_login_brake_counts_attempts_across_processes(workers: tuple[TestClient, TestClient]) -> None:
    first, second = workers
    answers = [try_login(workers[n % 2], "cora", f"guess number {n}").status_code for n in range(5)]
    assert answers == [401] * 5
    for worker in (first, second):
        worker.cookies.clear()
        throttled = try_login(worker, "cora", PASSWORD)
        assert throttled.status_code == 429
        assert SESSION_COOKIE not in throttled.cookies


def test_a_forged_or_unknown_session_id_opens_nothing(ledger: Ledger, workers: tuple[TestClient, TestClient]) -> None:
    """Signed with the real secret (as by someone who learnt it) yet naming no session of the ledger: a user
    id (what a cookie held before), a random session id, a real session's digest instead of its id."""
    first, _ = workers
    signer = URLSafeTimedSerializer(FAST.session_secret, salt=SALT)
    real = _log_in(first, "cora")
    with ledger.begin() as connection:
        cora = connection.execute(select(users.c.user_id).where(users.c.username == "cora")).scalar_one()
    unknown = [
        signer.dumps({"u": cora, "c": "x"}),
        signer.dumps({"u": cora, "s": secrets.token_urlsafe(32), "c": "x"}),
        signer.dumps({"s": secrets.token_urlsafe(32), "c": "x"}),
    ]
    for cookie in unknown:
        assert not _opens(first, cookie), cookie
    session_id = signer.loads(real)["s"]
    forged = [
        signer.dumps({"s": digest_of(session_id), "c": "x"}),
        URLSafeTimedSerializer("not-the-secret", salt=SALT).dumps({"s": session_id, "c": "x"}),
        real[:-2] + ("AA" if real[-2:] != "AA" else "BB"),
    ]
    for cookie in [*unknown, *forged]:
        assert not _opens(first, cookie), cookie
        assert _as(first, cookie, "GET", "/live").status_code == 401
    assert _opens(first, real)


def test_an_expired_session_opens_nothing_and_is_deleted_at_the_next_login(
    ledger: Ledger, workers: tuple[TestClient, TestClient]
) -> None:
    first, second = workers
    cookie = _log_in(first, "cora")
    with ledger.begin() as connection:
        connection.execute(update(dashboard_sessions).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert not _opens(second, cookie)
    _log_in(second, "vic")
    with ledger.begin() as connection:
        assert connection.execute(select(func.count()).select_from(dashboard_sessions)).scalar_one() == 1
