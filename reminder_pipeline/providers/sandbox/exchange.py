"""One request to the sandbox and its reply, apart from the HTTP server that carries them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qs


class Headers(Protocol):
    """Case-insensitive header lookup (the server's ``email.message.Message``, or a dict in a test)."""

    def get(self, name: str, default: None = None) -> str | None: ...


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Headers
    body: bytes = b""

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def form(self) -> dict[str, str]:
        """A form body's fields (the first value of each)."""
        parsed = parse_qs(self.body.decode("utf-8", errors="replace"), keep_blank_values=True)
        return {name: values[0] for name, values in parsed.items()}

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    content_type: str | None = "application/json"
    hold_seconds: float = 0.0
    """How long the server waits before answering: a timeout after the send was accepted."""

    @classmethod
    def json(cls, status: int, payload: Any, headers: tuple[tuple[str, str], ...] = ()) -> Reply:
        return cls(status, json.dumps(payload).encode("utf-8"), headers)

    def held(self, seconds: float) -> Reply:
        return Reply(self.status, self.body, self.headers, self.content_type, seconds)


DROPPED = None
"""What a handler returns to close the connection without an answer."""
