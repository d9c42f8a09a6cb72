"""Helpers of the adversarial dashboard tests: a login attempt as a browser makes it, what was written."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from reminder_pipeline.ledger.schema import collector_actions
from reminder_pipeline_tests.web.dashboard.conftest import Board


def login_token(client: httpx.Client, path: str = "/login") -> str:
    return client.get(path).text.split('name="csrf_token" value="')[1].split('"')[0]


def try_login(client: httpx.Client, username: str, password: str, next_path: str = "/") -> httpx.Response:
    """Fetch the login form (its CSRF cookie and token), then post it."""
    token = login_token(client)
    return client.post(
        "/login", data={"csrf_token": token, "username": username, "password": password, "next": next_path}
    )


def actions_written(board: Board) -> int:
    with board.ledger.begin() as connection:
        return len(connection.execute(select(collector_actions.c.action_id)).all())
