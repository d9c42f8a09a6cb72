"""The code location: every domain's definitions, the shared resources and the executor.

The in-process executor runs a run's steps in one Python process: on two cores a fresh process
per step costs seconds each, while our steps are database-bound and light. A job that needs
parallel heavy steps can choose its own executor.
"""

from __future__ import annotations

import dagster as dg

from reminder_pipeline.defs import ingestion
from reminder_pipeline.defs.resources import (
    LedgerResource,
    billing_source_from_environment,
)

defs = dg.Definitions.merge(
    ingestion.defs,
    dg.Definitions(
        resources={
            "ledger": LedgerResource(),
            "billing_source": billing_source_from_environment(),
        },
        executor=dg.in_process_executor,
    ),
)
