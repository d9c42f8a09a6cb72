"""The code location: every domain's definitions, the shared resources and the executor.

The in-process executor runs a run's steps in one Python process: on two cores a fresh process
per step costs seconds each, while our steps are database-bound and light. A job that needs
parallel heavy steps can choose its own executor.
"""

from __future__ import annotations

import os

import dagster as dg

from reminder_pipeline.defs import daily_run, ingestion, reminders, risk
from reminder_pipeline.defs.common.policy import PolicyResource
from reminder_pipeline.defs.reminders.resources import (
    LINK_SECRET_ENV,
    TEMPLATES_ENV,
    LinkSignerResource,
    TemplatesResource,
)
from reminder_pipeline.defs.resources import LedgerResource, billing_source_from_environment
from reminder_pipeline.defs.risk.resources import FeatureStore

defs = dg.Definitions.merge(
    ingestion.defs,
    risk.defs,
    reminders.defs,
    daily_run.defs,
    dg.Definitions(
        resources={
            "ledger": LedgerResource(),
            "billing_source": billing_source_from_environment(),
            "feature_store": FeatureStore(),
            "policy": PolicyResource(),
            "templates": TemplatesResource(path=os.environ.get(TEMPLATES_ENV) or None),
            "links": LinkSignerResource(secret=dg.EnvVar(LINK_SECRET_ENV)),
        },
        executor=dg.in_process_executor,
    ),
)
