"""A planted, copied or logged-out session, the cookies' flags, and CSRF on every POST (missing, forged,
another session's, in the query string). On a real server, SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.web import create_app
from reminder_pipeline.web.dashboard.auth import LOGIN_COOKIE, SESSION_COOKIE
from reminder_pipeline_tests.web.dashboard.attacks import actions_written, try_login
from reminder_pipeline_tests.web.dashboard.conftest import FAST, NOW, PASSWORD, Board, csrf_of, login, seed
from reminder_pipeline_tests.web.signing import MovableClock, Secrets


def test_a_session_planted_before_login_is_not_the_one_after(board: Board) -> None:
    attacker = login(board.url, "vic")
    planted = attacker.cookies[SESSION_COOKIE]
    with httpx.Client(base_url=board.url, timeout=30, cookies={SESSION_COOKIE: planted}) as victim:
        answer = try_login(victim, "cora", PASSWORD)
        assert answer.status_code == 303
        fresh = answer.cookies[SESSION_COOKIE]
        assert fresh != planted
        victim.cookies.set(SESSION_COOKIE, fresh)
        assert "cora (collector)" in victim.get("/").text
    assert attacker.get("/", follow_redirects=False).status_code == 303, "the login ended the planted session"
    assert csrf_of(login(board.url, "cora").get("/").text) != csrf_of(login(board.url, "cora").get("/").text)


def test_logout_ends_the_session_for_whoever_kept_a_copy_of_the_cookie(board: Board) -> None:
    client = login(board.url, "cora")
    copied = client.cookies[SESSION_COOKIE]
    token = csrf_of(client.get("/customers/A").text)
    other = login(board.url, "cora")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    with httpx.Client(base_url=board.url, timeout=30, cookies={SESSION_COOKIE: copied}) as thief:
        assert thief.get("/", follow_redirects=False).status_code == 303
        assert thief.get("/live").status_code == 401
        refused = thief.post("/customers/A/actions", data={"kind": "call", "outcome": "reached", "csrf_token": token})
        assert refused.status_code == 401
    assert other.get("/").status_code == 200
    assert actions_written(board) == 0


def test_cookies_are_httponly_samesite_and_not_secure_on_plain_http(board: Board) -> None:
    with httpx.Client(base_url=board.url, timeout=30) as client:
        form = client.get("/login")
        assert "httponly" in form.headers["set-cookie"].lower()
        answer = try_login(client, "cora", PASSWORD)
        session_cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE))
        flags = [part.strip().lower() for part in session_cookie.split(";")]
        assert "httponly" in flags
        assert "samesite=lax" in flags
        assert "path=/" in flags
        assert any(f.startswith("max-age=") and 0 < int(f.split("=")[1]) <= 12 * 3600 for f in flags)
        assert "secure" not in flags
        assert any(c.startswith(f"{LOGIN_COOKIE}=") for c in answer.headers.get_list("set-cookie"))


def test_cookies_are_secure_when_the_dashboard_is_served_over_https(ledger: Ledger, tmp_path: Path) -> None:
    seed(ledger, tmp_path)
    app = create_app(
        ledger.url, settings=Secrets().settings(MovableClock(NOW)), dashboard=replace(FAST, cookie_secure=True)
    )
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        assert "secure" in client.get("/login").headers["set-cookie"].lower()
        answer = try_login(client, "cora", PASSWORD)
        assert answer.status_code == 303
        for cookie in answer.headers.get_list("set-cookie"):
            if cookie.startswith(f"{SESSION_COOKIE}="):
                assert "secure" in [part.strip().lower() for part in cookie.split(";")]


POSTS = [
    ("/logout", {}),
    ("/customers/A/actions", {"kind": "pause", "until": "2026-03-20"}),
    ("/customers/A/actions", {"kind": "resume"}),
    ("/customers/A/actions", {"kind": "dispute"}),
    ("/customers/A/actions", {"kind": "promise", "until": "2026-03-20"}),
    ("/customers/A/actions", {"kind": "call", "outcome": "reached"}),
]


@pytest.mark.parametrize(("path", "form"), POSTS)
def test_every_post_refuses_a_missing_forged_foreign_or_query_string_csrf_token(
    board: Board, path: str, form: dict[str, str]
) -> None:
    client = login(board.url, "cora")
    real = csrf_of(client.get("/customers/A").text)
    foreign = csrf_of(login(board.url, "ada").get("/").text)
    for token in (None, "", "forged", foreign, real.upper() if real != real.upper() else real.lower()):
        body = form if token is None else {**form, "csrf_token": token}
        assert client.post(path, data=body).status_code == 403, token
    assert client.post(f"{path}?csrf_token={real}", data=form).status_code == 403
    assert client.post(path, data=form, headers={"X-CSRF-Token": foreign}).status_code == 403
    assert client.post(path, json={**form, "csrf_token": real}).status_code == 403
    assert client.get("/").status_code == 200
    assert actions_written(board) == 0
