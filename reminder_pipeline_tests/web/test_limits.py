"""Bodies are capped before they are read further; ``GET /healthz`` tells whether the ledger answers."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import httpx
import psycopg2
import pytest

from reminder_pipeline.ledger.store import Ledger, upgrade_ledger
from reminder_pipeline.web import create_app
from reminder_pipeline.web.settings import MAX_BODY_BYTES
from reminder_pipeline_tests.conftest import PG_ADMIN
from reminder_pipeline_tests.web.kinds import KINDS, Kind, inbox
from reminder_pipeline_tests.web.server import RunningApp
from reminder_pipeline_tests.web.signing import MovableClock, Secrets, hmac_header, payment


@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_a_body_over_the_limit_is_refused_with_413_and_writes_nothing(
    kind: Kind, client: httpx.Client, ledger: Ledger, secrets: Secrets, web_clock: MovableClock
) -> None:
    post = kind.make(secrets, web_clock.now, 1)
    oversize = post.body + b" " * (MAX_BODY_BYTES + 1 - len(post.body))
    assert client.post(post.path, content=oversize, headers=post.headers).status_code == 413

    def streamed() -> Iterator[bytes]:  # chunked: no Content-Length to go by
        for _ in range(4):
            yield b" " * (MAX_BODY_BYTES // 2)

    assert client.post(post.path, content=streamed(), headers=post.headers).status_code == 413
    assert inbox(ledger) == []


def test_a_body_at_the_limit_is_taken(
    client: httpx.Client, ledger: Ledger, secrets: Secrets, web_clock: MovableClock
) -> None:
    body = json.dumps(payment("P-big", "NOT-OURS")).encode()
    body += b" " * (MAX_BODY_BYTES - len(body))
    headers = {"X-Reminders-Signature": hmac_header(secrets.payment_secret, body, web_clock.now)}
    answer = client.post("/webhooks/payments", content=body, headers=headers)
    assert answer.status_code == 200
    assert len(inbox(ledger)) == 1


def test_a_content_length_that_is_not_a_number_is_refused(served: RunningApp, ledger: Ledger) -> None:
    with socket.create_connection(("127.0.0.1", served.port)) as raw:
        raw.sendall(b"POST /webhooks/payments HTTP/1.1\r\nHost: x\r\nContent-Length: lots\r\n\r\n{}")
        answer = raw.recv(4096)
    assert answer.split(b" ")[1].startswith(b"4")
    assert inbox(ledger) == []


def test_health_answers_while_the_ledger_does(client: httpx.Client) -> None:
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}


def test_health_is_503_when_the_ledger_is_gone(postgres_url: str, secrets: Secrets, web_clock: MovableClock) -> None:
    upgrade_ledger(postgres_url)
    app = create_app(postgres_url, settings=secrets.settings(web_clock), handlers={})
    with RunningApp(app) as running:
        assert httpx.get(running.url + "/healthz").status_code == 200
        admin = psycopg2.connect(**PG_ADMIN)  # type: ignore[arg-type]
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE "{postgres_url.rsplit("/", 1)[1]}" WITH (FORCE)')
        admin.close()
        gone = httpx.get(running.url + "/healthz")
    assert gone.status_code == 503
    assert gone.json()["status"] == "unavailable"
