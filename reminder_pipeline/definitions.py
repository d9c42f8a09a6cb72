"""The code location: every domain's definitions (each with the resources it owns), the shared ones, the executor.

The in-process executor runs a run's steps in one Python process: on two cores a fresh process
per step costs seconds each, while our steps are database-bound and light. A job that needs
parallel heavy steps can choose its own executor.
"""

from __future__ import annotations

import dagster as dg

from reminder_pipeline.defs import (
    common,
    daily_run,
    delivery,
    ingestion,
    listening,
    operations,
    reminders,
    risk,
    schedules,
)
from reminder_pipeline.defs.common.catalog import with_catalog

defs = with_catalog(
    dg.Definitions.merge(
        common.defs,
        ingestion.defs,
        risk.defs,
        reminders.defs,
        delivery.defs,
        listening.defs,
        operations.defs,
        daily_run.defs,
        schedules.defs,
        dg.Definitions(executor=dg.in_process_executor),
    )
)
