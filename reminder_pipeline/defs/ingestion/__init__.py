"""Ingestion: billing data into the ledger, one business day per partition."""

from __future__ import annotations

import dagster as dg

from reminder_pipeline.defs.ingestion.assets import customers, invoices, payments
from reminder_pipeline.defs.ingestion.checks import (
    customers_reachable,
    no_overpaid_invoices,
    payments_agree_with_their_invoices,
)
from reminder_pipeline.defs.ingestion.resources import billing_source_from_environment

defs = dg.Definitions(
    assets=[customers, invoices, payments],
    asset_checks=[
        payments_agree_with_their_invoices,
        no_overpaid_invoices,
        customers_reachable,
    ],
    resources={"billing_source": billing_source_from_environment()},
)
