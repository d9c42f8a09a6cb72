"""The message journal: what was accepted survives a restart, a torn last line does not poison it."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from reminder_pipeline.providers.base import SendOutcome
from reminder_pipeline.providers.sandbox import SandboxConfig, running_sandbox
from reminder_pipeline.providers.sandbox.store import MessageStore, StoreClosed
from reminder_pipeline.providers.settings import DEMO_CREDENTIALS
from reminder_pipeline_tests.providers.helpers import email, sendgrid_at, sms, twilio_at


def test_records_are_journalled_and_reloaded(tmp_path: Path) -> None:
    path = tmp_path / "journal" / "messages.jsonl"
    store = MessageStore(path)
    store.add([{"reminder_key": "a", "body": "Grüße"}])
    store.add([{"reminder_key": "b"}, {"reminder_key": "c"}])
    store.close()
    assert [json.loads(line)["reminder_key"] for line in path.read_text().splitlines()] == ["a", "b", "c"]
    again = MessageStore(path)
    assert [r["reminder_key"] for r in again.all()] == ["a", "b", "c"]
    assert again.all()[0]["body"] == "Grüße"
    again.close()


def test_many_writers_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "messages.jsonl"
    store = MessageStore(path)

    def write(worker: int) -> None:
        for n in range(50):
            store.add([{"reminder_key": f"{worker}-{n}"}])

    threads = [threading.Thread(target=write, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    store.close()
    keys = [json.loads(line)["reminder_key"] for line in path.read_text().splitlines()]
    assert sorted(keys) == sorted(f"{w}-{n}" for w in range(8) for n in range(50))


def test_a_torn_last_line_is_dropped_and_later_lines_stay_readable(tmp_path: Path) -> None:
    path = tmp_path / "messages.jsonl"
    path.write_text('{"reminder_key": "a"}\n{"reminder_key": "b"}\n{"reminder_ke')
    store = MessageStore(path)
    assert [r["reminder_key"] for r in store.all()] == ["a", "b"]
    store.add([{"reminder_key": "c"}])
    store.close()
    reloaded = MessageStore(path)
    assert [r["reminder_key"] for r in reloaded.all()] == ["a", "b", "c"]
    reloaded.close()


def test_a_reset_empties_the_journal_too(tmp_path: Path) -> None:
    path = tmp_path / "messages.jsonl"
    store = MessageStore(path)
    store.add([{"reminder_key": "a"}, {"reminder_key": "b"}])
    assert store.reset() == 2
    store.add([{"reminder_key": "c"}])
    store.close()
    reloaded = MessageStore(path)
    assert [r["reminder_key"] for r in reloaded.all()] == ["c"]
    reloaded.close()


def test_a_closed_store_accepts_nothing(tmp_path: Path) -> None:
    for store in (MessageStore(), MessageStore(tmp_path / "messages.jsonl")):
        store.close()
        with pytest.raises(StoreClosed):
            store.add([{"reminder_key": "late"}])


def test_a_restarted_sandbox_still_shows_what_it_accepted_before(tmp_path: Path) -> None:
    config = SandboxConfig(credentials=DEMO_CREDENTIALS, log_path=tmp_path / "sandbox.jsonl")
    with running_sandbox(config) as first:
        assert sendgrid_at(first).send(email("rk-email")).outcome is SendOutcome.ACCEPTED
        assert twilio_at(first).send(sms("rk-sms")).outcome is SendOutcome.ACCEPTED
        before = first.control.messages()
        port = first.port
    with running_sandbox(SandboxConfig(port=port, credentials=DEMO_CREDENTIALS, log_path=config.log_path)) as second:
        assert second.control.messages() == before
        assert twilio_at(second).send(sms("rk-after")).outcome is SendOutcome.ACCEPTED
        assert [m["reminder_key"] for m in second.control.messages()] == ["rk-email", "rk-sms", "rk-after"]


def test_a_message_accepted_before_a_timeout_is_in_the_journal(tmp_path: Path) -> None:
    config = SandboxConfig(credentials=DEMO_CREDENTIALS, faults="timeout_rate=1,hold_ms=5000", log_path=tmp_path / "j")
    with running_sandbox(config) as sandbox:
        assert twilio_at(sandbox, timeout=0.5).send(sms("rk-held")).outcome is SendOutcome.UNKNOWN
    reloaded = MessageStore(tmp_path / "j")
    assert [r["reminder_key"] for r in reloaded.all()] == ["rk-held"]
    reloaded.close()
