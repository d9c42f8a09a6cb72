"""delivery_status, its sensor and the daily lookup, run by Dagster on real ledgers with sandbox-sent rows."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import dagster as dg

from reminder_pipeline.core.outbox import OutboxStatus
from reminder_pipeline.defs.common.ledger import LedgerResource
from reminder_pipeline.defs.listening.assets import delivery_status, delivery_status_lookups
from reminder_pipeline.defs.listening.automation import delivery_events_sensor
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.listening.inbox import INBOX_LOCK, EventSource, store_event
from reminder_pipeline.providers.sendgrid import SendGridProvider
from reminder_pipeline.providers.twilio import TwilioProvider
from reminder_pipeline_tests.defs.runs import asset_metadata, asset_resources, provider_resources
from reminder_pipeline_tests.delivery.conftest import Clock
from reminder_pipeline_tests.delivery.crowd import Person, people
from reminder_pipeline_tests.delivery.helpers import rows
from reminder_pipeline_tests.listening.processing.posts import post, sendgrid_event, twilio_status
from reminder_pipeline_tests.listening.processing.sent import sent_day

S = OutboxStatus


def _resources(tmp_path: Path, ledger: Ledger, url: str) -> dict[str, Any]:
    return asset_resources(tmp_path, ledger_url=ledger.url) | provider_resources(
        url, callback_base="http://127.0.0.1:9"
    )


def _config(asset: str, clock: Clock, **extra: object) -> dict[str, Any]:
    return {"ops": {asset: {"config": {"run_at": clock.now.isoformat(), **extra}}}}


def test_delivery_status_processes_what_is_stored_writes_fallbacks_and_summarises_without_pii(
    ledger: Ledger, tmp_path: Path, sandbox, email: SendGridProvider, sms: TwilioProvider, clock: Clock
) -> None:
    crowd = [*people(2), Person("C00050", "sms", email="c50@example.com"), Person("C00051", "sms")]
    sent = sent_day(ledger, tmp_path, crowd, email, sms, clock)
    one, two = sent["C00001/email"], sent["C00002/email"]
    batch = [
        sendgrid_event("delivered", one.provider_id, one.reminder_key),
        sendgrid_event("open", one.provider_id, one.reminder_key),
        sendgrid_event("click", one.provider_id, one.reminder_key),
        sendgrid_event("delivered", two.provider_id, two.reminder_key),
    ]
    clock.now += timedelta(minutes=3)
    post(ledger, EventSource.SENDGRID_EVENTS, json.dumps(batch), clock.now)
    failing = twilio_status(sent["C00050/sms"].provider_id, "undelivered", error_code="30005")
    post(ledger, EventSource.TWILIO_STATUS, failing, clock.now)
    waiting = twilio_status(sent["C00051/sms"].provider_id, "delivered")
    with ledger.begin_write(INBOX_LOCK, shared=True) as connection:  # stored, and the process stopped there
        store_event(connection, EventSource.TWILIO_STATUS, "late", waiting, clock.now)
    result = dg.materialize(
        [delivery_status],
        resources=_resources(tmp_path, ledger, sandbox.url),
        run_config=_config("delivery_status", clock),
    )
    assert result.success
    shown = asset_metadata(result, "delivery_status")
    assert (shown["delivered"], shown["failed"], shown["awaiting_final_status"]) == (3, 1, 0)
    assert shown["inbox_processed_now"] == {"processed": 1}
    assert shown["fallbacks_rendered"] == 1
    assert rows(ledger)["C00050/email"]["status"] == S.RENDERED
    rates = {(r.data["channel"], r.data["provider"]): r.data for r in shown["delivery_rate"].records}
    assert rates["email", "sendgrid"]["delivery_rate"] == 1.0
    assert rates["sms", "twilio"]["delivery_rate"] == 0.5
    assert [(r.data["error_code"], r.data["messages"]) for r in shown["failed_by_code"].records] == [("30005", 1)]
    engaged = {r.data["event"]: r.data["messages"] for r in shown["opens_and_clicks"].records}
    assert engaged == {"click": 1, "open": 1}
    everything = json.dumps({k: str(v) for k, v in shown.items()})
    assert "@example.com" not in everything
    assert "+1202" not in everything


def _evaluate(instance: dg.DagsterInstance, ledger: Ledger, cursor: str | None) -> dg.SensorResult:
    resources = {"ledger": LedgerResource(url=ledger.url)}
    with dg.build_sensor_context(instance=instance, resources=resources, cursor=cursor) as context:
        return delivery_events_sensor(context)  # type: ignore[return-value]


def test_the_sensor_asks_for_a_refresh_on_new_events_and_not_again_for_the_same_state(
    ledger: Ledger, tmp_path: Path, sandbox, email: SendGridProvider, sms: TwilioProvider, clock: Clock
) -> None:
    sent = sent_day(ledger, tmp_path, people(1), email, sms, clock)["C00001/email"]
    instance = dg.DagsterInstance.ephemeral()
    quiet = _evaluate(instance, ledger, None)
    assert not quiet.run_requests
    post(
        ledger,
        EventSource.SENDGRID_EVENTS,
        json.dumps([sendgrid_event("delivered", sent.provider_id, None)]),
        clock.now,
    )
    news = _evaluate(instance, ledger, quiet.cursor)
    assert news.run_requests is not None
    assert len(news.run_requests) == 1
    assert int(news.cursor or 0) > int(quiet.cursor or 0)
    again = _evaluate(instance, ledger, news.cursor)
    assert not again.run_requests


def test_the_daily_lookup_settles_messages_whose_callbacks_never_came(
    ledger: Ledger, tmp_path: Path, sandbox, email: SendGridProvider, sms: TwilioProvider, clock: Clock
) -> None:
    crowd = [*people(2), Person("C00050", "sms", email="c50@example.com"), Person("C00051", "sms")]
    sandbox.control.set_faults("seed=3,webhook_loss_rate=1,undelivered_rate=0.5,bounce_rate=0.5")
    sent_day(ledger, tmp_path, crowd, email, sms, clock)
    assert {r["status"] for r in rows(ledger).values()} == {S.SENT}
    clock.now += timedelta(hours=7)
    resources = _resources(tmp_path, ledger, sandbox.url)
    config = _config("delivery_status_lookups", clock, lookup_after_hours=6.0)
    result = dg.materialize([delivery_status_lookups], resources=resources, run_config=config)
    assert result.success
    lookups = asset_metadata(result, "delivery_status_lookups")["lookups"]
    assert {name: (r["asked"], sum(r["settled"].values())) for name, r in lookups.items()} == {
        "twilio": (2, 2),
        "sendgrid": (2, 2),
    }
    after = rows(ledger)
    final = {name: after[name]["status"] for name in ("C00001/email", "C00002/email", "C00050/sms", "C00051/sms")}
    assert set(final.values()) <= {S.DELIVERED, S.FAILED}
    assert sum(lookups["twilio"]["settled"].get(s, 0) for s in ("undelivered", "failed")) == list(final.values())[
        2:
    ].count(S.FAILED)
    again = dg.materialize([delivery_status_lookups], resources=resources, run_config=config)
    assert asset_metadata(again, "delivery_status_lookups")["lookups"]["twilio"]["asked"] == 0


def test_the_code_location_holds_delivery_status_its_sensor_and_the_daily_lookup() -> None:
    from reminder_pipeline.definitions import defs as definitions

    repository = definitions.get_repository_def()
    assets = {key.to_user_string() for key in repository.asset_graph.get_all_asset_keys()}
    assert {"delivery_status", "delivery_status_lookups"} <= assets
    assert "delivery_events_sensor" in {s.name for s in repository.sensor_defs}
    assert "daily_delivery_status_lookups" in {s.name for s in repository.schedule_defs}
    upstream = repository.asset_graph.get(dg.AssetKey("delivery_status")).parent_keys
    assert upstream == {dg.AssetKey("email_deliveries"), dg.AssetKey("sms_deliveries")}
