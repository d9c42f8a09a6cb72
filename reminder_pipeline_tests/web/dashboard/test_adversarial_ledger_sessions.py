"""Attacks on the ledger-backed sessions and the login brake, through the real app on SQLite and PostgreSQL:
a session the browser came with outliving its next login, an action whose session ends (a logout, a new
password or role, the user disabled) after the request read it, names no user can have, guesses sent in
parallel, a flood of usernames from one address, what the logs keep, and logins and logouts at once."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select
from starlette.testclient import TestClient

from reminder_pipeline.collections.sessions import SessionEnd, digest_of, end_session, utc_now
from reminder_pipeline.collections.users import Role, disable_user, set_password, set_role
from reminder_pipeline.ledger.schema import collector_actions, dashboard_sessions, login_failures, reminder_pauses
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.web import create_app
from reminder_pipeline.web.dashboard import act
from reminder_pipeline.web.dashboard.auth import SESSION_COOKIE
from reminder_pipeline_tests.web.dashboard.attacks import login_token, try_login
from reminder_pipeline_tests.web.dashboard.conftest import FAST, NOW, PASSWORD, Board, csrf_of, seed
from reminder_pipeline_tests.web.signing import MovableClock, Secrets


@pytest.fixture
def client(ledger: Ledger, tmp_path: Path) -> Iterator[TestClient]:
    seed(ledger, tmp_path)
    app = create_app(ledger.url, settings=Secrets().settings(MovableClock(NOW)), dashboard=FAST)
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


def _count(ledger: Ledger, table: object) -> int:
    with ledger.begin() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def _opens(client: TestClient, cookie: str) -> bool:
    with TestClient(client.app, follow_redirects=False, cookies={SESSION_COOKIE: cookie}) as other:
        return other.get("/worklist").status_code == 200


def test_a_login_ends_the_session_the_browser_came_with(client: TestClient, ledger: Ledger) -> None:
    """A copy of the cookie a browser held (a shared computer, a stolen cookie) opens nothing once that
    browser logs in again, as another user or the same one; a login that fails leaves it as it was."""
    assert try_login(client, "vic", PASSWORD).status_code == 303
    vic = client.cookies[SESSION_COOKIE]
    assert try_login(client, "cora", "not her password").status_code == 401
    assert _opens(client, vic), "a failed login changes nothing"
    assert try_login(client, "cora", PASSWORD).status_code == 303
    cora = client.cookies[SESSION_COOKIE]
    assert not _opens(client, vic)
    assert try_login(client, "cora", PASSWORD).status_code == 303
    assert not _opens(client, cora)
    assert _opens(client, client.cookies[SESSION_COOKIE])
    with ledger.begin() as connection:
        reasons = list(connection.execute(select(dashboard_sessions.c.ended_reason)).scalars())
    assert sorted(reasons, key=str) == [None, SessionEnd.REPLACED.value, SessionEnd.REPLACED.value]


def _end_by_logout(ledger: Ledger, digest: str) -> None:
    end_session(ledger, digest, utc_now())


ENDINGS: dict[str, Callable[[Ledger, str], object]] = {
    "logout": _end_by_logout,
    "role": lambda ledger, _digest: set_role(ledger, "cora", Role.VIEWER),
    "password": lambda ledger, _digest: set_password(ledger, "cora", "a brand new passphrase"),
    "disable": lambda ledger, _digest: disable_user(ledger, "cora"),
}


@pytest.mark.parametrize("ending", list(ENDINGS))
def test_an_action_whose_session_ends_after_the_request_read_it_writes_nothing(
    client: TestClient, ledger: Ledger, monkeypatch: pytest.MonkeyPatch, ending: str
) -> None:
    """The change commits between the session's check at the request's start and the action's transaction
    (in another process, say): the action must not finish with the rights its session had."""
    assert try_login(client, "cora", PASSWORD).status_code == 303
    token = csrf_of(client.get("/customers/A").text)
    digest = digest_of(
        URLSafeTimedSerializer(FAST.session_secret, salt="reminders-dashboard-session").loads(
            client.cookies[SESSION_COOKIE]
        )["s"]
    )
    record = act.record_action

    def meanwhile(*args: object) -> object:
        ENDINGS[ending](ledger, digest)
        return record(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(act, "record_action", meanwhile)
    answer = client.post("/customers/A/actions", data={"kind": "pause", "until": "2026-03-20", "csrf_token": token})
    assert answer.status_code == 401, answer.text
    assert _count(ledger, collector_actions) == 0
    assert _count(ledger, reminder_pauses) == 0


def test_the_action_of_a_session_still_open_is_written_by_its_user(client: TestClient, ledger: Ledger) -> None:
    assert try_login(client, "cora", PASSWORD).status_code == 303
    token = csrf_of(client.get("/customers/A").text)
    answer = client.post("/customers/A/actions", data={"kind": "call", "outcome": "reached", "csrf_token": token})
    assert answer.status_code == 303
    with ledger.begin() as connection:
        assert connection.execute(select(collector_actions.c.actor)).scalars().all() == ["cora"]


@pytest.mark.parametrize("username", ["co\x00ra", "cora\x00", " cora", "cora ", "c" * 65, "", "cöra"])
def test_a_name_no_user_can_have_is_a_wrong_login_not_an_error(client: TestClient, username: str) -> None:
    """PostgreSQL cannot compare a text holding a NUL: looked up, it was a 500 (with a traceback)."""
    answer = try_login(client, username, PASSWORD)
    assert answer.status_code == 401
    assert SESSION_COOKIE not in answer.cookies


def test_guesses_sent_all_at_once_get_no_more_password_checks_than_the_limit(board: Board) -> None:
    """Twelve guesses at one user in parallel, each from its own connection: five are checked, the rest
    are braked, whatever their order (each attempt is counted before its password is checked)."""
    clients = [httpx.Client(base_url=board.url, timeout=30) for _ in range(12)]
    tokens = [login_token(client) for client in clients]
    start = threading.Barrier(len(clients))
    answers: list[int] = []

    def guess(n: int) -> None:
        start.wait()
        form = {"csrf_token": tokens[n], "username": "cora", "password": f"guess {n}", "next": "/"}
        answers.append(clients[n].post("/login", data=form).status_code)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for client in clients:
        client.close()
    assert sorted(answers) == [401] * 5 + [429] * 7
    with httpx.Client(base_url=board.url, timeout=30) as late:
        assert try_login(late, "cora", PASSWORD).status_code == 429


def test_a_flood_of_usernames_from_one_address_keeps_the_brakes_table_small(client: TestClient, ledger: Ledger) -> None:
    """Past the address's limit nothing more is written: the table holds at most two rows per counted attempt
    (its username's and its address's), whatever the flood."""
    answers = [try_login(client, f"nobody{n}", "a wrong password").status_code for n in range(80)]
    assert answers == [401] * 30 + [429] * 50
    assert _count(ledger, login_failures) == 2 * 30


def test_nothing_logged_holds_a_session_id_a_cookie_a_password_or_a_username(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    assert try_login(client, "nobody", "a wrong password").status_code == 401
    assert try_login(client, "cora", PASSWORD).status_code == 303
    cookie = client.cookies[SESSION_COOKIE]
    session_id = URLSafeTimedSerializer(FAST.session_secret, salt="reminders-dashboard-session").loads(cookie)["s"]
    token = csrf_of(client.get("/customers/A").text)
    client.post("/customers/A/actions", data={"kind": "call", "outcome": "reached", "csrf_token": token})
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    logged = "\n".join(f"{record.name} {record.getMessage()}" for record in caplog.records)
    for secret in (session_id, digest_of(session_id), cookie, token, PASSWORD, "a wrong password", "cora", "nobody"):
        assert secret not in logged


def test_two_logins_at_once_and_two_logouts_of_one_session_at_once(board: Board) -> None:
    clients: list[httpx.Client] = []
    start = threading.Barrier(2)

    def log_in() -> None:
        with httpx.Client(base_url=board.url, timeout=30) as client:
            token = login_token(client)
            start.wait()
            form = {"csrf_token": token, "username": "cora", "password": PASSWORD, "next": "/"}
            assert client.post("/login", data=form).status_code == 303
            clients.append(httpx.Client(base_url=board.url, timeout=30, cookies=dict(client.cookies)))

    _together(log_in, log_in)
    assert len(clients) == 2
    assert clients[0].cookies[SESSION_COOKIE] != clients[1].cookies[SESSION_COOKIE]
    assert all(client.get("/worklist", follow_redirects=False).status_code == 200 for client in clients)
    first = clients[0]
    token = csrf_of(first.get("/").text)
    answers: list[int] = []

    def log_out() -> None:
        start.wait()
        answers.append(first.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code)

    _together(log_out, log_out)
    assert 303 in answers
    assert set(answers) <= {303, 401}, "the second logout either ends nothing more or finds it ended"
    assert first.get("/worklist", follow_redirects=False).status_code == 303
    assert clients[1].get("/worklist", follow_redirects=False).status_code == 200
    with board.ledger.begin() as connection:
        ended = connection.execute(select(dashboard_sessions.c.ended_reason)).scalars().all()
    assert sorted(ended, key=str) == [None, SessionEnd.LOGOUT.value]
    for client in clients:
        client.close()


def _together(*jobs: Callable[[], None]) -> None:
    threads = [threading.Thread(target=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
