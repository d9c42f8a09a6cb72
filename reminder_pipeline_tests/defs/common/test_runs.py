"""A run is going while it is queued, starting, running or being cancelled, and only with the tags asked."""

from __future__ import annotations

import dagster as dg
import pytest
from dagster._core.remote_origin import RegisteredCodeLocationOrigin, RemoteJobOrigin, RemoteRepositoryOrigin

from reminder_pipeline.defs.common.runs import run_going

TAGS = {"reminders/provider": "sendgrid"}
S = dg.DagsterRunStatus


def _add(instance: dg.DagsterInstance, status: dg.DagsterRunStatus, tags: dict[str, str]) -> None:
    """A run of ``status`` (with the origin a queued run needs)."""
    origin = RemoteJobOrigin(RemoteRepositoryOrigin(RegisteredCodeLocationOrigin("here"), "__repository__"), "job")
    instance.add_run(dg.DagsterRun(job_name="job", tags=tags, status=status, remote_job_origin=origin))


@pytest.mark.parametrize("status", [S.QUEUED, S.NOT_STARTED, S.STARTING, S.STARTED, S.CANCELING])
def test_a_run_not_over_is_going(status: dg.DagsterRunStatus) -> None:
    with dg.instance_for_test() as instance:
        assert not run_going(instance, TAGS)
        _add(instance, status, {**TAGS, "other": "tag"})
        assert run_going(instance, TAGS)
        assert not run_going(instance, {"reminders/provider": "twilio"}), "another provider's runs are its own"


@pytest.mark.parametrize("status", [S.SUCCESS, S.FAILURE, S.CANCELED])
def test_a_run_over_is_not_going(status: dg.DagsterRunStatus) -> None:
    with dg.instance_for_test() as instance:
        _add(instance, status, TAGS)
        assert not run_going(instance, TAGS)
