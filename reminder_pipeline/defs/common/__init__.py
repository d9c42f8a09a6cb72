"""What every domain shares: business-day partitions, the run clock, metadata helpers, retries, and the
ledger and policy resources."""

import dagster as dg

from reminder_pipeline.defs.common.ledger import LedgerResource
from reminder_pipeline.defs.common.policy import PolicyResource

defs = dg.Definitions(resources={"ledger": LedgerResource(), "policy": PolicyResource()})
