"""The code location exposes every capability built so far."""

from __future__ import annotations

import dagster as dg

from reminder_pipeline.definitions import defs


def test_every_asset_job_schedule_and_sensor_is_registered() -> None:
    repository = defs.get_repository_def()
    assets = {key.to_user_string() for key in repository.asset_graph.get_all_asset_keys()}
    assert assets == {
        "customers",
        "invoices",
        "payments",
        "customer_features",
        "risk_model",
        "risk_scores",
        "customer_segments",
        "reminder_plan",
        "rendered_messages",
        "email_deliveries",
        "sms_deliveries",
        "delivery_status",
        "delivery_status_lookups",
        "billing_cycle_statements",
    }
    assert {"daily_run", "train_risk_model", "deliveries", "replan_today", "statement_run"} <= {
        job.name for job in repository.get_all_jobs()
    }
    assert {s.name for s in repository.schedule_defs} == {
        "daily_run_schedule",
        "weekly_risk_model_retrain",
        "daily_delivery_status_lookups",
        "billing_cycle_statements_schedule",
    }
    assert {s.name for s in repository.sensor_defs} == {
        "drop_folder_sensor",
        "delivery_sensor",
        "replan_after_payments",
        "run_failure_alert",
        "delivery_events_sensor",
    }
    assert set(defs.resources) >= {  # type: ignore[arg-type]
        "ledger",
        "billing_source",
        "feature_store",
        "policy",
        "templates",
        "links",
        "sendgrid",
        "twilio",
        "statement_store",
    }


def test_provider_secrets_come_from_the_environment_only() -> None:
    assert isinstance(defs.resources["sendgrid"].api_key, dg.EnvVar)  # type: ignore[index]
    assert isinstance(defs.resources["twilio"].auth_token, dg.EnvVar)  # type: ignore[index]


def test_the_link_secret_comes_from_the_environment_only() -> None:
    links = defs.resources["links"]  # type: ignore[index]
    assert isinstance(links.secret, dg.EnvVar)
    assert links.secret.env_var_name == "REMINDERS_LINK_SECRET"
