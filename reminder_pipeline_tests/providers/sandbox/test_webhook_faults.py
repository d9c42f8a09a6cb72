"""The webhooks' faults: lost, duplicated, late and out of order, and fates that repeat with a seed."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest

from reminder_pipeline.providers.sandbox import FaultSpec, FaultSpecError, RunningSandbox
from reminder_pipeline_tests.providers.helpers import email, sendgrid_at, sms, twilio_at
from reminder_pipeline_tests.providers.sandbox.conftest import EVENTS_PATH, STATUS_PATH, posting_to
from reminder_pipeline_tests.providers.sandbox.receiver import Receiver, receiving

RATES = (
    "undelivered_rate", "failed_rate", "bounce_rate", "blocked_rate", "dropped_rate", "deferred_rate", "open_rate",
    "click_rate", "spamreport_rate", "unsubscribe_rate", "webhook_loss_rate", "webhook_duplicate_rate",
)  # fmt: skip


def test_the_webhook_faults_read_and_write_back() -> None:
    text = ",".join(f"{name}=0.{i + 1}" for i, name in enumerate(RATES[:2])) + ",bounce_rate=0.25,open_rate=0.5"
    spec = FaultSpec.parse(f"{text},webhook_loss_rate=0.1,webhook_duplicate_rate=0.2,callback_delay_ms=250")
    spec = FaultSpec.parse(spec.describe() + ",callback_shuffle=1,seed=4")
    assert (spec.undelivered_rate, spec.failed_rate, spec.bounce_rate, spec.open_rate) == (0.1, 0.2, 0.25, 0.5)
    assert (spec.webhook_loss_rate, spec.webhook_duplicate_rate, spec.callback_delay_ms) == (0.1, 0.2, 250)
    assert (spec.callback_shuffle, spec.seed) == (True, 4)
    assert FaultSpec.parse(spec.describe()) == spec
    assert all(FaultSpec.parse(f"{name}=1").describe() == f"{name}=1" for name in RATES)


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("bounce_rate=2", "from 0 to 1"),
        ("webhook_loss_rate=often", "from 0 to 1"),
        ("callback_delay_ms=-1", "milliseconds"),
        ("callback_shuffle=yes", "1 \\(on\\) or 0 \\(off\\)"),
        ("bounce_rate=0.6,blocked_rate=0.3,dropped_rate=0.2", "add up to more than 1"),
        ("undelivered_rate=0.7,failed_rate=0.4", "undelivered_rate \\+ failed_rate"),
        ("callback_reorder=1", "callback_shuffle"),
    ],
)
def test_a_bad_webhook_fault_says_what_is_wrong(spec: str, says: str) -> None:
    with pytest.raises(FaultSpecError, match=says):
        FaultSpec.parse(spec)


def _statuses(receiver: Receiver) -> dict[str, list[str]]:
    """Each SMS's callbacks in the order they arrived."""
    seen: dict[str, list[str]] = {}
    for arrival in receiver.on(STATUS_PATH):
        seen.setdefault(arrival.query["reminder_key"][0], []).append(arrival.form()["MessageStatus"])
    return seen


def _events(receiver: Receiver) -> dict[str, list[str]]:
    """Each email's events in the order they arrived."""
    seen: dict[str, list[str]] = {}
    for event in (e for a in receiver.on(EVENTS_PATH) for e in a.events()):
        seen.setdefault(event["reminder_key"], []).append(event["event"])
    return seen


def _send_both(sandbox: RunningSandbox, receiver: Receiver, count: int) -> dict[str, Any]:
    sms_provider, email_provider = twilio_at(sandbox, callback_base=receiver.base), sendgrid_at(sandbox)
    for i in range(count):
        sms_provider.send(sms(f"rk-sms-{i}"))
        email_provider.send(email(f"rk-email-{i}", body_html="<a href='https://pay.example.com/x'>pay</a>"))
    counts: dict[str, Any] = sandbox.control.wait_for_webhooks()["counts"]
    return counts


def test_lost_webhooks_never_arrive(receiver: Receiver) -> None:
    with posting_to(receiver, "webhook_loss_rate=1") as sandbox:
        counts = _send_both(sandbox, receiver, 3)
        assert {m["status"] for m in sandbox.control.messages()} == {"delivered"}
    assert receiver.arrivals == []
    assert (counts["twilio_status"]["lost"], counts["sendgrid_events"]["lost"]) == (6, 6)


def test_duplicated_webhooks_arrive_twice_the_events_in_another_batch(receiver: Receiver) -> None:
    with posting_to(receiver, "webhook_duplicate_rate=1") as sandbox:
        counts = _send_both(sandbox, receiver, 2)
    assert _statuses(receiver) == {f"rk-sms-{i}": ["sent", "sent", "delivered", "delivered"] for i in range(2)}
    callbacks = receiver.on(STATUS_PATH)
    assert callbacks[0].body == callbacks[1].body
    assert callbacks[0].headers["I-Twilio-Idempotency-Token"] == callbacks[1].headers["I-Twilio-Idempotency-Token"]
    batches = receiver.on(EVENTS_PATH)
    ids = Counter(e["sg_event_id"] for a in batches for e in a.events())
    assert len(ids) == 4
    assert set(ids.values()) == {2}
    for batch in batches:
        assert len({e["sg_event_id"] for e in batch.events()}) == len(batch.events()), "copies in another batch"
    assert (counts["twilio_status"]["duplicated"], counts["sendgrid_events"]["duplicated"]) == (4, 4)


def test_shuffled_webhooks_arrive_out_of_order(receiver: Receiver) -> None:
    with posting_to(receiver, "callback_shuffle=1,open_rate=1", event_batch_seconds=0.5) as sandbox:
        _send_both(sandbox, receiver, 3)
        kept = {m["reminder_key"]: m["events"] for m in sandbox.control.messages()}
    assert _statuses(receiver) == {f"rk-sms-{i}": ["delivered", "sent"] for i in range(3)}
    for key, arrived in _events(receiver).items():
        assert sorted(arrived) == sorted(kept[key]) == sorted(["processed", "delivered", "open"])
        assert arrived != kept[key]


def test_late_webhooks_come_a_delay_after_the_one_before(receiver: Receiver) -> None:
    with posting_to(receiver, "callback_delay_ms=300") as sandbox:
        started = time.monotonic()
        twilio_at(sandbox, callback_base=receiver.base).send(sms("rk-late"))
        sendgrid_at(sandbox).send(email("rk-late"))
        sandbox.control.wait_for_webhooks()
    sent, delivered = receiver.on(STATUS_PATH)
    assert sent.at - started >= 0.3
    assert delivered.at - started >= 0.6
    assert min(a.at for a in receiver.on(EVENTS_PATH)) - started >= 0.3
    assert _events(receiver) == {"rk-late": ["processed", "delivered"]}


SEEDED = (
    "undelivered_rate=0.3,bounce_rate=0.2,blocked_rate=0.2,open_rate=0.5,webhook_loss_rate=0.2,"
    "webhook_duplicate_rate=0.3,callback_shuffle=1"
)


def _fates(spec: str) -> tuple[dict[str, Any], dict[str, list[str]], dict[str, list[str]]]:
    """What a seeded run does to 12 SMS and 12 emails: the fates kept, the callbacks that arrived (in order)
    and the events that arrived (batches may pass each other, so as a multiset)."""
    with receiving() as receiver, posting_to(receiver, spec) as sandbox:
        _send_both(sandbox, receiver, 12)
        fates = {m["reminder_key"]: (m["status"], m["events"]) for m in sandbox.control.messages()}
        return fates, _statuses(receiver), {key: sorted(names) for key, names in _events(receiver).items()}


def test_a_seed_repeats_every_fate_and_every_webhook_and_another_seed_does_not() -> None:
    first = _fates(f"{SEEDED},seed=7")
    assert _fates(f"{SEEDED},seed=7") == first
    assert _fates(f"{SEEDED},seed=8") != first
    fates = first[0]
    assert len({status for status, _ in fates.values()}) >= 3, "the rates are drawn, not all or nothing"
