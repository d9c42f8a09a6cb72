"""A request the web app will not take: answered 4xx (or 503 when an endpoint is not configured), nothing written."""

from __future__ import annotations

from starlette.responses import JSONResponse


class Refusal(Exception):
    """Why a request is refused; ``reason`` is shown to the caller, so it never quotes the request."""

    def __init__(self, status_code: int, reason: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(reason)
        self.status_code = status_code
        self.reason = reason
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        return JSONResponse({"error": self.reason}, status_code=self.status_code, headers=self.headers)


def unsigned(what: str) -> Refusal:
    return Refusal(401, f"no {what}")


def forged(what: str) -> Refusal:
    return Refusal(403, f"the {what} does not match")


def stale(tolerance_seconds: int) -> Refusal:
    return Refusal(403, f"the signed timestamp is more than {tolerance_seconds} s from now")


def malformed(reason: str) -> Refusal:
    return Refusal(400, reason)


def not_configured(variable: str) -> Refusal:
    return Refusal(503, f"this endpoint is not configured ({variable} is not set)")
