"""The docker-compose file and the image, checked as far as this machine can without a Docker daemon: the
services and what each runs, the environment each gets, and no secret written anywhere but ``${VAR}``."""

from __future__ import annotations

import shlex
from typing import Any

import pytest

from reminder_pipeline.cli import main as reminders_cli
from reminder_pipeline.web.dashboard import settings as dashboard_settings
from reminder_pipeline_tests.deploy.files import DEPLOY, SECRET_NAME, example_names, load, references

SERVICES = {"postgres", "rabbitmq", "migrate", "code", "webserver", "daemon", "serve", "listen"}
INSTANCE_ENV = {"DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_PG_USER", "DAGSTER_PG_PASSWORD", "DAGSTER_PG_DB"}
CODE_ENV = INSTANCE_ENV | {
    "REMINDERS_DB_URL",
    "REMINDERS_BUSINESS_TZ",
    "REMINDERS_PARTITIONS_START",
    "REMINDERS_DAILY_RUN_AT",
    "REMINDERS_LINK_SECRET",
    "SENDGRID_API_KEY",
    "SENDGRID_FROM_EMAIL",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_FROM_NUMBER",
    "REMINDERS_SENDGRID_BASE_URL",
    "REMINDERS_TWILIO_BASE_URL",
    "REMINDERS_PUBLIC_URL",
}
WEBHOOK_ENV = {
    "REMINDERS_DB_URL",
    "REMINDERS_PUBLIC_URL",
    "TWILIO_AUTH_TOKEN",
    "SENDGRID_WEBHOOK_PUBLIC_KEY",
    "REMINDERS_PAYMENT_WEBHOOK_SECRET",
}
DASHBOARD_ENV = {
    dashboard_settings.SESSION_SECRET_ENV,
    dashboard_settings.COOKIE_SECURE_ENV,
    dashboard_settings.REFRESH_ENV,
    dashboard_settings.SESSIONS_PER_USER_ENV,
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load("docker-compose.yaml")


def _command(service: dict[str, Any]) -> list[str]:
    command = service.get("command", [])
    return shlex.split(command) if isinstance(command, str) else list(command)


def test_every_process_of_the_product_is_a_service(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == SERVICES
    assert _command(services["code"])[:3] == ["dagster", "api", "grpc"]
    assert "reminder_pipeline.definitions" in _command(services["code"])
    assert _command(services["webserver"])[0] == "dagster-webserver"
    assert _command(services["daemon"])[:2] == ["dagster-daemon", "run"]
    assert _command(services["serve"])[:2] == ["reminders", "serve"]
    assert _command(services["listen"]) == ["reminders", "listen"]
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["rabbitmq"]["image"].startswith("rabbitmq:")


def test_each_service_gets_the_environment_it_reads(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services["code"]["environment"]) >= CODE_ENV
    assert set(services["migrate"]["environment"]) >= {"REMINDERS_DB_URL", *INSTANCE_ENV}
    for name in ("webserver", "daemon"):
        assert set(services[name]["environment"]) >= INSTANCE_ENV, name
    assert set(services["serve"]["environment"]) >= WEBHOOK_ENV | DASHBOARD_ENV
    assert ":?" in services["serve"]["environment"][dashboard_settings.SESSION_SECRET_ENV], "sessions must survive"
    assert set(services["listen"]["environment"]) >= {"REMINDERS_DB_URL", "REMINDERS_AMQP_URL"}
    assert "@postgres:5432/reminders" in services["code"]["environment"]["REMINDERS_DB_URL"]
    assert "CREATE DATABASE reminders" in (DEPLOY / "postgres-init" / "10-ledger-database.sql").read_text()


def test_no_secret_is_written_in_the_file(compose: dict[str, Any]) -> None:
    found = []
    for name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_NAME.search(key) and not references(str(value)):
                found.append(f"{name}.{key}")
    assert found == []
    required = [v for s in compose["services"].values() for v in (s.get("environment") or {}).values()]
    assert any(":?" in str(v) for v in required), "missing credentials stop compose instead of starting empty"


def test_the_env_example_names_every_variable_the_file_reads(compose: dict[str, Any]) -> None:
    lines = (DEPLOY / "docker-compose.yaml").read_text().splitlines()
    used = set(references("\n".join(line for line in lines if not line.lstrip().startswith("#")))) - {
        "REMINDERS_IMAGE_TAG"
    }
    listed = example_names(DEPLOY / "compose.env.example")
    assert used <= listed, sorted(used - listed)
    for line in (DEPLOY / "compose.env.example").read_text().splitlines():
        name, _, value = line.partition("=")
        if SECRET_NAME.search(name) and not line.startswith("#"):
            assert value == "", f"{name} has a value in the example"


def test_both_env_examples_name_the_dashboards_settings() -> None:
    for example in ("compose.env.example", "env.example"):
        assert example_names(DEPLOY / example) >= DASHBOARD_ENV, example


def test_the_webserver_and_daemon_load_the_code_service_over_grpc(compose: dict[str, Any]) -> None:
    workspace = load("compose.workspace.yaml")
    server = workspace["load_from"][0]["grpc_server"]
    code = _command(compose["services"]["code"])
    assert server["host"] == "code"
    assert str(server["port"]) == code[code.index("-p") + 1]
    for name in ("webserver", "daemon"):
        assert "deploy/compose.workspace.yaml" in _command(compose["services"][name])
        assert compose["services"][name]["depends_on"]["code"]["condition"] == "service_healthy"


def test_the_commands_the_services_run_exist() -> None:
    """``reminders serve``/``listen``/``db upgrade`` as the services call them (``--help`` parses the options)."""
    for args in (
        ["serve", "--host", "0.0.0.0", "--port", "8000", "--help"],
        ["listen", "--help"],
        ["db", "upgrade", "--help"],
    ):
        with pytest.raises(SystemExit) as done:
            reminders_cli(args)
        assert done.value.code == 0, args


def test_the_image_builds_the_locked_environment_without_secrets() -> None:
    lines = [line.strip() for line in (DEPLOY / "Dockerfile").read_text().splitlines()]
    instructions = [line for line in lines if line and not line.startswith("#")]
    assert instructions[0].startswith("FROM python:3.11")
    assert any("uv sync --locked --no-dev" in line for line in instructions)
    assert any("libgomp1" in line for line in instructions), "LightGBM needs OpenMP"
    assert any(line.startswith("USER ") and "root" not in line for line in instructions)
    assert any("deploy/dagster.yaml" in line and "DAGSTER_HOME" in line for line in instructions)
    for line in instructions:
        if line.startswith(("ENV", "ARG")):
            assert not SECRET_NAME.search(line.split(" ", 1)[1]), line
    ignored = (DEPLOY / "Dockerfile.dockerignore").read_text().split()
    assert {".venv", ".git", "data", "deploy/.env"} <= set(ignored)
