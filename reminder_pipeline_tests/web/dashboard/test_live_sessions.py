"""A live stream (server-sent events) ends, with an ``ended`` event, within two seconds of its session
ending — a logout through the app, or a new password, a new role or disabling the user through the
ledger as ``reminders users`` does from another process — and not when the stream's 25 seconds are up;
another user's stream goes on. On a real server, SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import httpx
import pytest

from reminder_pipeline.collections.users import Role, disable_user, set_password, set_role
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.web import create_app
from reminder_pipeline.web.dashboard.live import ENDED
from reminder_pipeline_tests.web.dashboard.conftest import FAST, NOW, csrf_of, login, seed
from reminder_pipeline_tests.web.server import RunningApp
from reminder_pipeline_tests.web.signing import MovableClock, Secrets

BOUND_SECONDS = 2.0
SETTINGS = replace(FAST, stream_seconds=25.0, session_check_seconds=1.0)


@dataclass
class Stream:
    """``GET /live`` read in a thread of its own: what came, and when the server closed it."""

    client: httpx.Client
    received: list[str] = field(default_factory=list)
    opened: threading.Event = field(default_factory=threading.Event)
    closed_at: float | None = None
    thread: threading.Thread | None = None

    def start(self) -> Stream:
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        assert self.opened.wait(30), "the stream did not open"
        return self

    def _read(self) -> None:
        try:
            with self.client.stream("GET", "/live", timeout=60) as answer:
                assert answer.status_code == 200
                for chunk in answer.iter_text():
                    self.received.append(chunk)
                    self.opened.set()
            self.closed_at = time.monotonic()
        except httpx.HTTPError:
            pass

    def wait_closed(self, seconds: float) -> float | None:
        assert self.thread is not None
        self.thread.join(seconds)
        return self.closed_at


@pytest.fixture
def served(ledger: Ledger, tmp_path: Path) -> Iterator[str]:
    seed(ledger, tmp_path)
    app = create_app(ledger.url, settings=Secrets().settings(MovableClock(NOW)), dashboard=SETTINGS)
    with RunningApp(app) as running:
        yield running.url


def _log_out(client: httpx.Client, _ledger: Ledger) -> None:
    token = csrf_of(client.get("/").text)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303


ENDINGS: dict[str, Callable[[httpx.Client, Ledger], object]] = {
    "logout": _log_out,
    "password": lambda _client, ledger: set_password(ledger, "cora", "a brand new passphrase"),
    "role": lambda _client, ledger: set_role(ledger, "cora", Role.VIEWER),
    "disable": lambda _client, ledger: disable_user(ledger, "cora"),
}


@pytest.mark.parametrize("ending", list(ENDINGS))
def test_a_stream_ends_within_two_seconds_of_its_session(served: str, ledger: Ledger, ending: str) -> None:
    cora, ada = login(served, "cora"), login(served, "ada")
    theirs, others = Stream(cora).start(), Stream(ada).start()
    ended = time.monotonic()
    ENDINGS[ending](cora, ledger)
    closed = theirs.wait_closed(30)
    assert closed is not None, "the stream did not close"
    took = closed - ended
    assert took < BOUND_SECONDS, f"the stream closed {took:.2f} s after its session ended"
    assert "".join(theirs.received).endswith(ENDED)
    time.sleep(SETTINGS.session_check_seconds * 1.5)
    assert others.closed_at is None, "another user's stream goes on"
    assert ENDED not in "".join(others.received)
    for client in (cora, ada):
        client.close()
