"""Benchmark: ingest N invoices from CSV into the ledger on SQLite and PostgreSQL.

Target (issue 2): 1,000,000 invoices in under 60 s and under 2 GiB peak memory on 2 cores.
Each measurement runs in a fresh Python process so that its peak memory is its own.
Results go to benchmarks/results/ingest.json and ingest.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from datetime import date
from pathlib import Path

from benchmarks.scratch_postgres import scratch_database
from reminder_pipeline.demo.files import write_history
from reminder_pipeline.demo.generator import generate_demo_data

HERE = Path(__file__).resolve().parent
TARGET_SECONDS = 60
TARGET_MIB = 2048


def _measure(db_url: str, files: dict[str, Path]) -> dict[str, object]:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.ingest_once",
            "--db",
            db_url,
            "--customers",
            str(files["customers"]),
            "--invoices",
            str(files["invoices"]),
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=HERE.parent,
    )
    return dict(json.loads(completed.stdout.strip().splitlines()[-1]))


def _postgres(files: dict[str, Path]) -> dict[str, object]:
    with scratch_database("rp_bench") as url:
        return _measure(url, files)


def _markdown(results: dict[str, dict[str, object]], invoices: int) -> str:
    lines = [
        f"# Ingest benchmark: {invoices:,} invoices from CSV",
        "",
        f"Target: under {TARGET_SECONDS} s and under {TARGET_MIB} MiB peak memory on 2 cores.",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}.",
        "Command: `make bench` (`python -m benchmarks.ingest --invoices 1000000`).",
        "",
        "| backend | invoice rows | accepted | quarantined | invoices s | re-ingest s | customers s | peak MiB "
        "| target met |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for backend, r in results.items():
        met = float(r["invoices_seconds"]) < TARGET_SECONDS and float(r["peak_memory_mib"]) < TARGET_MIB  # type: ignore[arg-type]
        lines.append(
            f"| {backend} | {r['invoice_rows']:,} | {r['invoices_accepted']:,} | {r['invoices_quarantined']:,} "
            f"| {r['invoices_seconds']} | {r['reingest_seconds']} | {r['customers_seconds']} "
            f"| {r['peak_memory_mib']} | {'yes' if met else 'NO'} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--work", type=Path, default=HERE / "work")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()
    data = generate_demo_data(args.invoices, seed=2026, start=date(2024, 1, 1), end=date(2025, 12, 31))
    files = write_history(data, args.work)
    results: dict[str, dict[str, object]] = {}
    for backend in args.backends.split(","):
        if backend == "sqlite":
            db = args.work / "bench.sqlite"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
            results[backend] = _measure(f"sqlite:///{db}", files)
        else:
            results[backend] = _postgres(files)
        print(backend, results[backend], flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "ingest.json").write_text(json.dumps({"invoices": args.invoices, "results": results}, indent=2) + "\n")
    (args.out / "ingest.md").write_text(_markdown(results, args.invoices))


if __name__ == "__main__":
    main()
