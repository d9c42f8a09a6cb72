"""Runs that are not over yet: a sensor asks for no second run of a kind while one of them is going."""

import dagster as dg

GOING = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]
"""Every status of a run that is queued, starting, running or being cancelled (not yet over)."""


def run_going(instance: dg.DagsterInstance, tags: dict[str, str]) -> bool:
    """True when a run carrying all of ``tags`` is queued or running (:data:`GOING`)."""
    return bool(instance.get_run_records(dg.RunsFilter(statuses=GOING, tags=tags), limit=1))
