"""Every dashboard page and action needs a valid session; every action a valid CSRF token and a role that
may act; the webhooks stay outside the login. On SQLite and PostgreSQL."""

from __future__ import annotations

import httpx
import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from reminder_pipeline.ledger.schema import collector_actions, reminder_pauses
from reminder_pipeline.web.dashboard.auth import SESSION_COOKIE
from reminder_pipeline_tests.web.dashboard.conftest import Board, csrf_of, login

PAGES = ["/", "/customers", "/customers?band=high", "/worklist", "/customers/A", "/live"]
ACTIONS = [
    ("/customers/A/actions", {"kind": "pause", "until": "2026-03-20"}),
    ("/customers/A/actions", {"kind": "call", "outcome": "no_answer"}),
    ("/logout", {}),
]


def _written(board: Board) -> int:
    with board.ledger.begin() as connection:
        actions = connection.execute(select(collector_actions.c.action_id)).all()
        pauses = connection.execute(select(reminder_pauses.c.pause_id)).all()
    return len(actions) + len(pauses)


def _forged_session(board: Board, user_id: int) -> str:
    return URLSafeTimedSerializer("not-the-secret", salt="reminders-dashboard-session").dumps({"u": user_id, "c": "x"})


@pytest.mark.parametrize("cookie", [None, "garbage", "forged"])
def test_no_page_answers_without_a_valid_session(board: Board, cookie: str | None) -> None:
    cookies = {} if cookie is None else {SESSION_COOKIE: _forged_session(board, 1) if cookie == "forged" else cookie}
    with httpx.Client(base_url=board.url, cookies=cookies, timeout=30) as client:
        for path in PAGES:
            answer = client.get(path, follow_redirects=False)
            assert answer.status_code in (303, 401), path
            assert "Anna" not in answer.text
            assert "€" not in answer.text
            if answer.status_code == 303:
                assert answer.headers["location"].startswith("/login?next=")
        for path, form in ACTIONS:
            assert client.post(path, data={**form, "csrf_token": "x"}).status_code == 401, path
    assert _written(board) == 0


def test_an_action_without_or_with_a_forged_csrf_token_is_refused(board: Board) -> None:
    client = login(board.url, "cora")
    real = csrf_of(client.get("/customers/A").text)
    for token in [None, "", "forged-token", real[:-1] + ("A" if real[-1] != "A" else "B")]:
        form = {"kind": "pause", "until": "2026-03-20"} | ({} if token is None else {"csrf_token": token})
        answer = client.post("/customers/A/actions", data=form)
        assert answer.status_code == 403, token
    assert _written(board) == 0
    other = login(board.url, "ada")
    stolen = csrf_of(other.get("/customers/A").text)
    assert (
        client.post(
            "/customers/A/actions", data={"kind": "pause", "until": "2026-03-20", "csrf_token": stolen}
        ).status_code
        == 403
    )
    assert _written(board) == 0
    saved = client.post("/customers/A/actions", data={"kind": "pause", "until": "2026-03-20", "csrf_token": real})
    assert saved.status_code == 303
    assert _written(board) == 2


def test_a_viewer_reads_but_cannot_act(board: Board) -> None:
    client = login(board.url, "vic")
    page = client.get("/customers/A")
    assert page.status_code == 200
    assert "can read but not act" in page.text
    assert "Record promise" not in page.text
    answer = client.post(
        "/customers/A/actions", data={"kind": "pause", "until": "2026-03-20", "csrf_token": csrf_of(page.text)}
    )
    assert answer.status_code == 403
    assert _written(board) == 0


def test_a_wrong_password_or_a_forged_login_form_gets_no_session(board: Board) -> None:
    with httpx.Client(base_url=board.url, timeout=30) as client:
        token = client.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]
        wrong = client.post("/login", data={"csrf_token": token, "username": "cora", "password": "not it at all"})
        assert wrong.status_code == 401
        assert SESSION_COOKIE not in wrong.cookies
    with httpx.Client(base_url=board.url, timeout=30) as fresh:
        forged = fresh.post("/login", data={"csrf_token": "made-up", "username": "cora", "password": "x"})
        assert forged.status_code == 403


def test_the_login_redirects_only_within_the_site(board: Board) -> None:
    with httpx.Client(base_url=board.url, timeout=30) as client:
        token = client.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]
        from reminder_pipeline_tests.web.dashboard.conftest import PASSWORD

        answer = client.post(
            "/login", data={"csrf_token": token, "username": "cora", "password": PASSWORD, "next": "//evil.example"}
        )
        assert answer.status_code == 303
        assert answer.headers["location"] == "/"
        cookie = answer.headers["set-cookie"].lower()
        assert "httponly" in cookie
        assert "samesite=lax" in cookie


def test_webhooks_and_health_need_no_login(board: Board) -> None:
    with httpx.Client(base_url=board.url, timeout=30) as client:
        assert client.get("/healthz").status_code == 200
        assert client.post("/webhooks/payments", content=b"{}").status_code in (400, 401, 403)
