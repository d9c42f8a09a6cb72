"""One measured ingest in a fresh process: prints JSON with seconds and peak memory."""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

from reminder_pipeline.core.canonical import Entity
from reminder_pipeline.core.mapping import Mapping
from reminder_pipeline.ingestion.files import read_file
from reminder_pipeline.ingestion.service import ingest_table
from reminder_pipeline.ledger.store import Ledger, upgrade_ledger


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--customers", type=Path, required=True)
    parser.add_argument("--invoices", type=Path, required=True)
    args = parser.parse_args()
    upgrade_ledger(args.db)
    with Ledger(args.db) as ledger:
        started = time.perf_counter()
        customers = ingest_table(ledger, read_file(args.customers), mapping=Mapping(entity=Entity.CUSTOMERS))[-1]
        customers_seconds = time.perf_counter() - started
        started = time.perf_counter()
        invoices = ingest_table(ledger, read_file(args.invoices), mapping=Mapping(entity=Entity.INVOICES))[-1]
        invoices_seconds = time.perf_counter() - started
        started = time.perf_counter()
        again = ingest_table(ledger, read_file(args.invoices), mapping=Mapping(entity=Entity.INVOICES))[-1]
        again_seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "customers_rows": customers.rows_in,
                "customers_seconds": round(customers_seconds, 2),
                "invoice_rows": invoices.rows_in,
                "invoices_accepted": invoices.accepted,
                "invoices_quarantined": invoices.quarantined,
                "invoices_seconds": round(invoices_seconds, 2),
                "reingest_seconds": round(again_seconds, 2),
                "reingest_unchanged": again.unchanged,
                "peak_memory_mib": round(peak_kib / 1024, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
