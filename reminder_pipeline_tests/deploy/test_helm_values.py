"""The Helm values for the official Dagster chart, checked without Kubernetes or Helm.

Neither the chart's ``values.schema.json`` nor ``dagster_k8s`` is installed here. What is checked: the
fields we set exist in the chart's values model (its field names, as ``helm/dagster/schema`` of
dagster-io/dagster defines them for K8sRunLauncherConfig, QueuedRunCoordinatorConfig, RunRetries,
Concurrency, Scheduler and TickRetention) with the types it expects; that no secret is inline; and that
the instance settings the chart renders from them pass Dagster's own instance schema and equal
``deploy/dagster.yaml``'s, so compose, systemd and Kubernetes keep the same run policies.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from dagster._core.instance.config import dagster_instance_config

from reminder_pipeline_tests.deploy.files import SECRET_NAME, load

K8S_RUN_LAUNCHER_FIELDS = {
    "image",
    "imagePullPolicy",
    "jobNamespace",
    "loadInclusterConfig",
    "kubeconfigFile",
    "envConfigMaps",
    "envSecrets",
    "envVars",
    "volumeMounts",
    "volumes",
    "labels",
    "failPodOnRunFailure",
    "resources",
    "schedulerName",
    "securityContext",
    "runK8sConfig",
}
K8S_RUN_LAUNCHER_REQUIRED = {
    "imagePullPolicy",
    "loadInclusterConfig",
    "envConfigMaps",
    "envSecrets",
    "envVars",
    "volumeMounts",
    "volumes",
}
RUN_K8S_CONFIG_FIELDS = {"containerConfig", "podSpecConfig", "podTemplateSpecMetadata", "jobSpecConfig", "jobMetadata"}
QUEUED_COORDINATOR_FIELDS = {
    "maxConcurrentRuns",
    "tagConcurrencyLimits",
    "dequeueIntervalSeconds",
    "dequeueNumWorkers",
    "dequeueUseThreads",
    "blockOpConcurrencyLimitedRuns",
}
USER_DEPLOYMENT_REQUIRED = {"name", "image", "port"}
PULL_POLICIES = {"Always", "IfNotPresent", "Never"}
TICK_STATUSES = {"skipped", "success", "failure", "started"}


@pytest.fixture(scope="module")
def values() -> dict[str, Any]:
    return load("helm/values.yaml")


def test_runs_go_to_kubernetes_with_the_chart_fields_the_launcher_takes(values: dict[str, Any]) -> None:
    launcher = values["runLauncher"]
    assert launcher["type"] == "K8sRunLauncher"
    assert set(launcher["config"]) == {"k8sRunLauncher"}
    config = launcher["config"]["k8sRunLauncher"]
    assert set(config) <= K8S_RUN_LAUNCHER_FIELDS, sorted(set(config) - K8S_RUN_LAUNCHER_FIELDS)
    assert set(config) >= K8S_RUN_LAUNCHER_REQUIRED
    assert config["imagePullPolicy"] in PULL_POLICIES
    assert isinstance(config["loadInclusterConfig"], bool)
    assert set(config["runK8sConfig"]) <= RUN_K8S_CONFIG_FIELDS
    for key in ("envConfigMaps", "envSecrets"):
        assert all(set(ref) == {"name"} for ref in config[key]), key


def test_the_code_location_is_a_user_deployment_whose_runs_get_its_config(values: dict[str, Any]) -> None:
    deployments = values["dagster-user-deployments"]
    assert deployments["enabled"] is True
    (code,) = deployments["deployments"]
    assert set(code) >= USER_DEPLOYMENT_REQUIRED
    assert code["dagsterApiGrpcArgs"] == ["-m", "reminder_pipeline.definitions"]
    assert isinstance(code["port"], int)
    assert code["image"]["pullPolicy"] in PULL_POLICIES
    assert code["includeConfigInLaunchedRuns"] == {"enabled": True}
    assert {"name": "reminders-secrets"} in code["envSecrets"]


def test_no_secret_is_inline(values: dict[str, Any]) -> None:
    assert "postgresqlPassword" not in values["postgresql"]
    assert values["generatePostgresqlPasswordSecret"] is False
    assert values["global"]["postgresqlSecretName"]

    def walk(node: Any, path: str) -> list[str]:
        if isinstance(node, dict):
            return [p for k, v in node.items() for p in walk(v, f"{path}.{k}")] + [
                f"{path}.{k}"
                for k, v in node.items()
                if SECRET_NAME.search(str(k).upper()) and isinstance(v, str) and not str(k).endswith("SecretName")
            ]
        if isinstance(node, list):
            return [p for i, v in enumerate(node) for p in walk(v, f"{path}[{i}]")]
        return []

    assert walk(values, "values") == []


def test_the_daemons_settings_use_the_charts_fields(values: dict[str, Any]) -> None:
    daemon = values["dagsterDaemon"]
    coordinator = daemon["runCoordinator"]
    assert (coordinator["enabled"], coordinator["type"]) == (True, "QueuedRunCoordinator")
    assert set(coordinator["config"]["queuedRunCoordinator"]) <= QUEUED_COORDINATOR_FIELDS
    assert set(daemon["runRetries"]) <= {"enabled", "maxRetries", "retryOnAssetOrOpFailure"}
    assert set(values["scheduler"]["config"]["daemonScheduler"]) <= {"maxCatchupRuns", "maxTickRetries"}
    concurrency = values["concurrency"]
    assert set(concurrency) <= {"enabled", "pools", "runs"}
    assert set(concurrency["pools"]) <= {"defaultLimit", "granularity", "opGranularityRunBuffer"}
    assert set(concurrency["runs"]) <= {"maxConcurrentRuns", "tagConcurrencyLimits"}
    assert not set(coordinator["config"]["queuedRunCoordinator"]) & {"maxConcurrentRuns", "tagConcurrencyLimits"}, (
        "the chart refuses run limits in both places"
    )
    for kind in ("schedule", "sensor"):
        days = values["retention"][kind]["purgeAfterDays"]
        assert isinstance(days, int) or set(days) == TICK_STATUSES, kind


def rendered_instance(values: dict[str, Any]) -> dict[str, Any]:
    """The instance settings the chart writes into dagster.yaml from these values (run policies only)."""
    daemon, runs, pools = values["dagsterDaemon"], values["concurrency"]["runs"], values["concurrency"]["pools"]
    monitoring, retries = daemon["runMonitoring"], daemon["runRetries"]
    scheduler = values["scheduler"]["config"]["daemonScheduler"]
    coordinator = daemon["runCoordinator"]["config"]["queuedRunCoordinator"]
    return {
        "run_coordinator": {
            "module": "dagster.core.run_coordinator",
            "class": "QueuedRunCoordinator",
            "config": {
                "dequeue_use_threads": coordinator["dequeueUseThreads"],
                "dequeue_num_workers": coordinator["dequeueNumWorkers"],
            },
        },
        "scheduler": {
            "module": "dagster.core.scheduler",
            "class": "DagsterDaemonScheduler",
            "config": {
                "max_catchup_runs": scheduler["maxCatchupRuns"],
                "max_tick_retries": scheduler["maxTickRetries"],
            },
        },
        "run_monitoring": {
            "enabled": monitoring["enabled"],
            "start_timeout_seconds": monitoring["startTimeoutSeconds"],
            "max_resume_run_attempts": monitoring["maxResumeRunAttempts"],
            "poll_interval_seconds": monitoring["pollIntervalSeconds"],
            "free_slots_after_run_end_seconds": monitoring["freeSlotsAfterRunEndSeconds"],
        },
        "run_retries": {
            "enabled": retries["enabled"],
            "max_retries": retries["maxRetries"],
            "retry_on_asset_or_op_failure": retries["retryOnAssetOrOpFailure"],
        },
        "concurrency": {
            "runs": {
                "max_concurrent_runs": runs["maxConcurrentRuns"],
                "tag_concurrency_limits": runs["tagConcurrencyLimits"],
            },
            "pools": {"granularity": pools["granularity"], "default_limit": pools["defaultLimit"]},
        },
        "retention": {
            kind: {"purge_after_days": values["retention"][kind]["purgeAfterDays"]} for kind in ("schedule", "sensor")
        },
        "telemetry": {"enabled": values["telemetry"]["enabled"]},
    }


def test_the_chart_renders_an_instance_dagster_accepts_with_the_same_policies_as_compose(
    values: dict[str, Any], tmp_path: Any
) -> None:
    instance = rendered_instance(values)
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(instance))
    validated, _ = dagster_instance_config(str(tmp_path))
    assert validated["concurrency"]["runs"]["max_concurrent_runs"] == 4
    production = load("dagster.yaml")
    for key in (
        "run_coordinator",
        "scheduler",
        "run_monitoring",
        "run_retries",
        "concurrency",
        "retention",
        "telemetry",
    ):
        assert instance[key] == production[key], key
