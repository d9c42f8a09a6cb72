"""SendGrid's signed event batches and Inbound Parse posts (basic auth in the URL, multipart)."""

from __future__ import annotations

import base64
import json

import httpx

from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline_tests.web.kinds import inbox, send
from reminder_pipeline_tests.web.signing import (
    MovableClock,
    Post,
    Secrets,
    inbound_email,
    inbound_post,
    multipart,
    sendgrid_event,
    sendgrid_post,
    sendgrid_signature,
)


def test_a_batch_is_one_event_stored_as_its_raw_json(
    client: httpx.Client, ledger: Ledger, secrets: Secrets, web_clock: MovableClock
) -> None:
    batch = [sendgrid_event("processed"), sendgrid_event("delivered"), sendgrid_event("bounce", type="blocked")]
    post = sendgrid_post(secrets, batch, web_clock.now)
    assert send(client, post).status_code == 200
    [event] = inbox(ledger)
    assert event["body"] == post.body.decode()
    assert event["dedupe_key"].startswith("sha256:")


def test_a_batch_read_and_written_again_no_longer_matches_its_signature(
    client: httpx.Client, ledger: Ledger, secrets: Secrets, web_clock: MovableClock
) -> None:
    post = sendgrid_post(secrets, [sendgrid_event()], web_clock.now)
    rewritten = json.dumps(json.loads(post.body), indent=1).encode()
    assert client.post(post.path, content=rewritten, headers=post.headers).status_code == 403
    assert inbox(ledger) == []


def test_a_signed_body_that_is_not_a_batch_is_refused(
    client: httpx.Client, ledger: Ledger, secrets: Secrets, web_clock: MovableClock
) -> None:
    post = sendgrid_post(secrets, [], web_clock.now)
    timestamp = post.headers["X-Twilio-Email-Event-Webhook-Timestamp"]
    for body in (b'{"event": "open"}', b"not json", '["caf\u00e9"'.encode()):
        signature = sendgrid_signature(secrets.sendgrid_key, timestamp, body)
        headers = post.headers | {"X-Twilio-Email-Event-Webhook-Signature": signature}
        assert client.post(post.path, content=body, headers=headers).status_code == 400
    assert inbox(ledger) == []


def test_a_timestamp_that_is_not_a_number_is_refused(
    client: httpx.Client, ledger: Ledger, secrets: Secrets, web_clock: MovableClock
) -> None:
    post = sendgrid_post(secrets, [sendgrid_event()], web_clock.now)
    headers = post.headers | {"X-Twilio-Email-Event-Webhook-Timestamp": "yesterday"}
    assert client.post(post.path, content=post.body, headers=headers).status_code == 403
    assert inbox(ledger) == []


def test_an_inbound_email_is_stored_as_its_text_fields_without_attachments(
    client: httpx.Client, ledger: Ledger, secrets: Secrets
) -> None:
    fields = inbound_email(text="Ich habe gestern bezahlt. Grüße") | {"attachments": "1"}
    post = inbound_post(secrets, fields, files={"attachment1": b"%PDF-1.4 binary \x00\xff"})
    assert send(client, post).status_code == 200
    [event] = inbox(ledger)
    stored = json.loads(event["body"])
    assert stored == fields
    assert "attachment1" not in stored


def test_a_field_is_read_in_the_charset_sendgrid_names(client: httpx.Client, ledger: Ledger, secrets: Secrets) -> None:
    body, content_type = multipart({"from": "anna@example.com", "charsets": json.dumps({"text": "iso-8859-1"})})
    boundary = content_type.split("boundary=")[1]
    latin = f'--{boundary}\r\nContent-Disposition: form-data; name="text"\r\n\r\n'.encode() + "Grüße".encode("latin-1")
    body = body.replace(f"--{boundary}--".encode(), latin + f"\r\n--{boundary}--".encode())
    post = inbound_post(secrets, {})
    headers = post.headers | {"Content-Type": content_type}
    assert client.post(post.path, content=body, headers=headers).status_code == 200
    assert json.loads(inbox(ledger)[0]["body"])["text"] == "Grüße"


def test_the_same_email_posted_again_with_another_boundary_is_a_no_op(
    client: httpx.Client, ledger: Ledger, secrets: Secrets
) -> None:
    fields = inbound_email()
    first, second = inbound_post(secrets, fields), inbound_post(secrets, fields)
    assert first.body != second.body
    assert send(client, first).json()["status"] == "unmatched"
    assert send(client, second).json() == {"status": "duplicate"}
    assert len(inbox(ledger)) == 1


def test_wrong_or_missing_credentials_are_challenged(client: httpx.Client, ledger: Ledger, secrets: Secrets) -> None:
    post = inbound_post(secrets, inbound_email(), password="guess")
    for headers in (post.headers, {k: v for k, v in post.headers.items() if k != "Authorization"}):
        answer = client.post(post.path, content=post.body, headers=headers)
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"].startswith("Basic")
    wrong_user = base64.b64encode(f"someone:{secrets.parse_password}".encode()).decode()
    headers = post.headers | {"Authorization": f"Basic {wrong_user}"}
    assert client.post(post.path, content=post.body, headers=headers).status_code == 401
    assert inbox(ledger) == []


def test_an_inbound_post_that_is_not_multipart_is_refused(
    client: httpx.Client, ledger: Ledger, secrets: Secrets
) -> None:
    post = inbound_post(secrets, inbound_email())
    for content_type, body in (("application/x-www-form-urlencoded", b"from=a%40b.c"), ("multipart/form-data", b"")):
        answer = client.post(post.path, content=body, headers=post.headers | {"Content-Type": content_type})
        assert answer.status_code in (400, 415)
    empty = Post(post.path, b"--x--\r\n", post.headers | {"Content-Type": "multipart/form-data; boundary=x"})
    assert send(client, empty).status_code == 400
    assert inbox(ledger) == []
