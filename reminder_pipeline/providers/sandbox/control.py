"""A client of a sandbox's ``/sandbox`` endpoints, in this process or another (``reminders sandbox``)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))
"""The sandbox is local: no proxy from the environment may stand between."""


class SandboxControlError(RuntimeError):
    """The sandbox refused a control request, or does not answer."""


class SandboxControl:
    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, path: str, payload: Any = None) -> Any:
        data = json.dumps(payload).encode("utf-8") if payload is not None else None
        request = urllib.request.Request(f"{self.url}/sandbox{path}", data=data, method=method)  # noqa: S310 (http only)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with NO_PROXY.open(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            try:
                said = json.loads(error.read()).get("error", "")
            except (ValueError, AttributeError):
                said = ""
            raise SandboxControlError(f"the sandbox refused {method} /sandbox{path} ({error.code}): {said}") from None
        except (urllib.error.URLError, OSError) as error:
            raise SandboxControlError(f"the sandbox at {self.url} does not answer: {error}") from error

    def messages(self, *, channel: str | None = None, reminder_key: str | None = None) -> list[dict[str, Any]]:
        """Every message the sandbox accepted (optionally of one channel or reminder key), oldest first."""
        query = {k: v for k, v in (("channel", channel), ("reminder_key", reminder_key)) if v is not None}
        found: list[dict[str, Any]] = self._call("GET", "/messages" + (f"?{urlencode(query)}" if query else ""))
        return found

    def reset(self) -> int:
        """Forget every message; how many there were."""
        return int(self._call("DELETE", "/messages")["deleted"])

    def faults(self) -> str:
        return str(self._call("GET", "/faults")["spec"])

    def set_faults(self, spec: str) -> str:
        """Replace the faults (``""``: none); the spec as the sandbox read it."""
        return str(self._call("PUT", "/faults", {"spec": spec})["spec"])

    def clock(self) -> datetime:
        return datetime.fromisoformat(self._call("GET", "/clock")["now"])

    def set_clock(self, now: datetime | None) -> datetime:
        """Run the sandbox's clock from ``now`` (with an offset), or on real time again with None."""
        answer = self._call("PUT", "/clock", {"now": now.isoformat() if now is not None else None})
        return datetime.fromisoformat(answer["now"])

    def stats(self) -> dict[str, dict[str, int]]:
        """Provider requests per provider (``twilio``, ``sendgrid``) and outcome (``accepted``, ``dropped``...)."""
        counts: dict[str, dict[str, int]] = self._call("GET", "/stats")
        return counts

    def reset_stats(self) -> None:
        self._call("DELETE", "/stats")

    def wait_until_ready(self, timeout_seconds: float = 30.0) -> None:
        """Return once the sandbox answers (one started in another process takes a moment)."""
        deadline = time.monotonic() + timeout_seconds
        while True:
            try:
                self._call("GET", "/health")
                return
            except SandboxControlError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
