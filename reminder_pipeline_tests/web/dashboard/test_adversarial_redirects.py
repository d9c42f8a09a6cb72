"""``next=`` after the login never leads off the site, however it is bent. On a real server, SQLite and
PostgreSQL."""

from __future__ import annotations

import httpx
import pytest

from reminder_pipeline_tests.web.dashboard.attacks import try_login
from reminder_pipeline_tests.web.dashboard.conftest import PASSWORD, Board


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "https://evil.example/",
        "http:evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        " //evil.example",
        "javascript:alert(1)",
        "%2F%2Fevil.example",
        "/%09/evil.example",
    ],
)
def test_next_never_leads_off_the_site(board: Board, target: str) -> None:
    with httpx.Client(base_url=board.url, timeout=30) as client:
        page = client.get("/login", params={"next": target})
        kept = 'name="next" value="/%09/evil.example"' if target == "/%09/evil.example" else 'name="next" value="/"'
        assert kept in page.text
        answer = try_login(client, "cora", PASSWORD, next_path=target)
        assert answer.status_code == 303
        location = answer.headers["location"]
        assert location.startswith("/")
        assert not location.startswith("//")
        assert "\\" not in location
        assert not any(ch in location for ch in "\t\n\r ")
        assert httpx.URL(board.url).join(location).host == "127.0.0.1"


def test_next_keeps_a_real_path_on_the_site(board: Board) -> None:
    with httpx.Client(base_url=board.url, timeout=30) as client:
        answer = try_login(client, "cora", PASSWORD, next_path="/customers?band=high&q=Anna")
        assert answer.headers["location"] == "/customers?band=high&q=Anna"
