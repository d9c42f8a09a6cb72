"""The security headers middleware: every header added once, and one a response set itself (any case) kept."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from reminder_pipeline.web.headers import HEADERS, SecurityHeaders


async def plain(_request: Request) -> Response:
    return PlainTextResponse("ok")


async def own_frame_policy(_request: Request) -> Response:
    return PlainTextResponse("ok", headers={"x-FRAME-options": "SAMEORIGIN"})


def _client() -> TestClient:
    routes = [Route("/plain", plain), Route("/own", own_frame_policy)]
    return TestClient(Starlette(routes=routes, middleware=[Middleware(SecurityHeaders)]))


def test_every_security_header_is_added_once() -> None:
    answer = _client().get("/plain")
    for name, value in HEADERS.items():
        assert answer.headers.get_list(name) == [value]
    assert answer.headers["content-type"].startswith("text/plain")
    assert answer.text == "ok"


def test_a_header_the_response_set_itself_is_kept() -> None:
    answer = _client().get("/own")
    assert answer.headers.get_list("X-Frame-Options") == ["SAMEORIGIN"]
    assert answer.headers["content-security-policy"] == HEADERS["Content-Security-Policy"]
