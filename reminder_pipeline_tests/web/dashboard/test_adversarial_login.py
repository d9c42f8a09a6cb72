"""Guessing passwords at the login: a few mistakes are forgiven, a run of them is throttled per user and per
address. On a real server, SQLite and PostgreSQL."""

from __future__ import annotations

import httpx

from reminder_pipeline.web.dashboard.auth import SESSION_COOKIE
from reminder_pipeline_tests.web.dashboard.attacks import try_login
from reminder_pipeline_tests.web.dashboard.conftest import PASSWORD, Board, login


def test_guessing_one_users_password_is_throttled_even_when_the_right_one_comes(board: Board) -> None:
    with httpx.Client(base_url=board.url, timeout=30) as client:
        answers = [try_login(client, "cora", f"guess number {n}").status_code for n in range(5)]
        assert answers == [401] * 5
        throttled = try_login(client, "cora", PASSWORD)
        assert throttled.status_code == 429
        assert int(throttled.headers["retry-after"]) > 0
        assert SESSION_COOKIE not in throttled.cookies
        assert "Too many" in throttled.text
        assert try_login(client, "CORA", PASSWORD).status_code == 429
    assert login(board.url, "vic").get("/").status_code == 200


def test_guessing_many_usernames_from_one_address_is_throttled(board: Board) -> None:
    with httpx.Client(base_url=board.url, timeout=30) as client:
        answers = [try_login(client, f"nobody{n}", "a wrong password").status_code for n in range(30)]
        assert set(answers) == {401}
        assert try_login(client, "ada", PASSWORD).status_code == 429


def test_a_good_login_clears_a_users_few_mistakes(board: Board) -> None:
    with httpx.Client(base_url=board.url, timeout=30) as client:
        for n in range(4):
            assert try_login(client, "cora", f"typo {n}").status_code == 401
        assert try_login(client, "cora", PASSWORD).status_code == 303
        for n in range(4):
            assert try_login(client, "cora", f"typo again {n}").status_code == 401
        assert try_login(client, "cora", PASSWORD).status_code == 303
