"""The customer table's query string bent every way: injected sort columns, SQL and wildcards in the search,
pages past the end, negative, or too long to be a number, amounts that are not numbers. Every answer is a
page (never a 500), the search is literal, and the ledger is untouched. On a real server, SQLite and
PostgreSQL."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import func, select

from reminder_pipeline.ledger.schema import customers
from reminder_pipeline_tests.web.dashboard.conftest import Board, login

HOSTILE = [
    {"sort": "owed_minor; DROP TABLE customers; --"},
    {"sort": "__class__"},
    {"sort": "name", "dir": "asc; DELETE FROM customers"},
    {"q": "'; DROP TABLE customers; --"},
    {"q": "' OR '1'='1"},
    {"page": "-5"},
    {"page": "0"},
    {"page": "99999999999999999999999"},
    {"page": "9" * 5000},
    {"page": "1e3"},
    {"page": "２"},
    {"min_owed": "nan"},
    {"min_owed": "inf", "max_owed": "-inf"},
    {"min_owed": "1e400"},
    {"max_owed": "-1"},
    {"due_from": "9999-99-99", "due_to": "0000-00-00"},
    {"status": "ready' OR 1=1"},
    {"band": "\x00"},
]


def _count(page: httpx.Response) -> tuple[int, int, int]:
    found = re.search(r"([\d,]+) customers · page (\d+) of (\d+)", page.text)
    assert found, page.text[:500]
    return int(found.group(1).replace(",", "")), int(found.group(2)), int(found.group(3))


@pytest.mark.parametrize("params", HOSTILE)
def test_a_bent_query_string_still_gets_a_page_and_changes_nothing(board: Board, params: dict[str, str]) -> None:
    client = login(board.url, "vic")
    for headers in ({}, {"HX-Request": "true", "HX-Target": "table-area"}):
        page = client.get("/customers", params=params, headers=headers)
        assert page.status_code == 200
        total, number, pages = _count(page)
        assert 1 <= number <= pages
        assert total <= 3
    with board.ledger.begin() as connection:
        assert connection.execute(select(func.count()).select_from(customers)).scalar_one() == 3


@pytest.mark.parametrize("needle", ["%", "_", ".*", "[a-z]", "\\", "*"])
def test_the_search_is_literal_so_wildcards_match_nothing_here(board: Board, needle: str) -> None:
    client = login(board.url, "vic")
    assert _count(client.get("/customers", params={"q": needle}))[0] == 0
    assert _count(client.get("/customers", params={"q": "bob"}))[0] == 1


def test_a_sort_off_the_list_falls_back_to_the_default_and_says_so(board: Board) -> None:
    client = login(board.url, "vic")
    page = client.get("/customers", params={"sort": "password_hash"}).text
    assert "sorted by Expected loss" in page
    assert "password_hash" not in page
