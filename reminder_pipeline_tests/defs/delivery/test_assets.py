"""The delivery assets and the sensor, run by Dagster against the sandbox and a real ledger."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dagster as dg

from reminder_pipeline.definitions import defs as definitions
from reminder_pipeline.defs.common.ledger import LedgerResource
from reminder_pipeline.defs.delivery.assets import email_deliveries, sms_deliveries
from reminder_pipeline.defs.delivery.automation import PROVIDER_TAG, delivery_requests, delivery_sensor
from reminder_pipeline.ledger.delivery import due_counts
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline_tests.defs.runs import asset_metadata, asset_resources, provider_resources
from reminder_pipeline_tests.delivery.crowd import SEND_AT, Person, people, written_day


def _resources(tmp_path: Path, ledger: Ledger, url: str) -> dict[str, Any]:
    return asset_resources(tmp_path, ledger_url=ledger.url) | provider_resources(
        url, callback_base="http://127.0.0.1:8000"
    )


def _run_at() -> dict[str, Any]:
    config = {"config": {"run_at": SEND_AT.isoformat()}}
    return {"ops": {"email_deliveries": config, "sms_deliveries": config}}


def test_the_deliveries_send_both_channels_and_show_counts_and_masked_previews(
    ledger: Ledger, tmp_path: Path, sandbox
) -> None:
    crowd = [*people(3), Person("C00050", "sms", phone="+15005550001"), *people(2, "sms", start=60)]
    written_day(ledger, tmp_path, crowd)
    result = dg.materialize(
        [email_deliveries, sms_deliveries], resources=_resources(tmp_path, ledger, sandbox.url), run_config=_run_at()
    )
    assert result.success
    email, sms = asset_metadata(result, "email_deliveries"), asset_metadata(result, "sms_deliveries")
    assert (email["sent"], sms["sent"], sms["failed"], sms["collector_tasks"]) == (3, 2, 1, 1)
    assert email["still_due"] == 0
    shown = json.dumps([email["preview"], sms["preview"]])
    assert "Subject" not in shown
    assert {p["channel"] for p in [*email["preview"], *sms["preview"]]} == {"email", "sms"}
    for person in crowd:
        assert person.customer_id.lower() + "@example.com" not in shown
        assert person.customer_id[1:] not in shown  # the name ("Anna C00001"), the number's digits
    assert "+1202555" not in shown
    assert len(sandbox.control.messages()) == 5


def test_the_job_holds_both_assets_each_in_its_providers_pool() -> None:
    job = definitions.resolve_job_def("deliveries")
    assert {k.to_user_string() for k in job.asset_layer.executable_asset_keys} == {"email_deliveries", "sms_deliveries"}
    assert {email_deliveries.op.pool, sms_deliveries.op.pool} == {"sendgrid", "twilio"}


def test_rows_are_due_for_the_sensor_only_while_their_window_is_open(ledger: Ledger, tmp_path: Path) -> None:
    written_day(ledger, tmp_path, people(2) + people(1, "sms", start=50))
    with ledger.begin() as connection:
        assert due_counts(connection, SEND_AT) == {"email": 2, "sms": 1}
        assert due_counts(connection, SEND_AT.replace(hour=5)) == {"email": 0, "sms": 0}


def test_the_sensor_asks_for_a_run_per_provider_with_rows_due_and_none_while_one_is_going() -> None:
    with dg.instance_for_test() as instance:
        first = delivery_requests(instance, {"email": 2, "sms": 1})
        assert {r.tags[PROVIDER_TAG] for r in first.run_requests or []} == {"sendgrid", "twilio"}
        assert {k.to_user_string() for r in first.run_requests or [] for k in r.asset_selection or []} == {
            "email_deliveries",
            "sms_deliveries",
        }
        instance.add_run(
            dg.DagsterRun(
                job_name="deliveries",
                run_id="going",
                tags={PROVIDER_TAG: "sendgrid"},
                status=dg.DagsterRunStatus.STARTED,
            )
        )
        second = delivery_requests(instance, {"email": 2, "sms": 1})
        assert {r.tags[PROVIDER_TAG] for r in second.run_requests or []} == {"twilio"}
        assert delivery_requests(instance, {"email": 0, "sms": 0}).skip_reason == dg.SkipReason("nothing is due")


def test_the_sensor_reads_the_ledger(ledger: Ledger, tmp_path: Path) -> None:
    written_day(ledger, tmp_path, people(1))  # on a day long past: nothing is due now
    resources = {"ledger": LedgerResource(url=ledger.url)}
    with dg.instance_for_test() as instance, dg.build_sensor_context(instance=instance, resources=resources) as context:
        assert delivery_sensor(context).skip_reason == dg.SkipReason("nothing is due")
