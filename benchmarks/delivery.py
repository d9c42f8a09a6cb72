"""Benchmark: sustained sends through the provider sandbox, on SQLite and on PostgreSQL.

The sandbox runs in its own process (``reminders sandbox``) with 50 ms of simulated latency on every
request, as a provider across a network would answer. An outbox of rendered email reminders is made
through the same services the assets call (ingest, plan, render); then one delivery worker drains it
through the official SendGrid SDK: claims with the last look, concurrent sends within the provider's
limits, outcomes recorded as they come. Measured: messages per second from the first claim to the
last recorded outcome, that the sandbox received every reminder exactly once, and the CPU the worker,
the sandbox and the database backends used per message (which other work on a shared machine does not
inflate). Results go to benchmarks/results/delivery.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import text

from benchmarks.cpu_usage import CpuWindow
from reminder_pipeline.config_files import load_policy, load_templates
from reminder_pipeline.core.canonical import Entity
from reminder_pipeline.core.mapping import Mapping
from reminder_pipeline.core.rendering.links import LinkSigner
from reminder_pipeline.delivery.service import DeliveryOptions, deliver
from reminder_pipeline.ingestion.files import read_file
from reminder_pipeline.ingestion.service import ingest_table
from reminder_pipeline.ledger.store import Ledger, upgrade_ledger
from reminder_pipeline.providers.base import ProviderLimits
from reminder_pipeline.providers.sandbox import SandboxControl
from reminder_pipeline.providers.sendgrid import SendGridProvider
from reminder_pipeline.providers.settings import DEMO_CREDENTIALS, SANDBOX_FROM_EMAIL
from reminder_pipeline.reminders.service import plan_and_record_day, render_day

HERE = Path(__file__).resolve().parent
TARGET_PER_SECOND = 500.0
LATENCY_MS = 50
DAY = date(2026, 3, 10)
SEND_AT = datetime(2026, 3, 10, 11, tzinfo=UTC)
LIMITS = ProviderLimits(concurrency=64, per_second=2000.0, timeout_seconds=10.0)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_sandbox(log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    command = [sys.executable, "-m", "reminder_pipeline.cli", "sandbox", "--port", str(port)]
    command += ["--faults", f"latency_ms={LATENCY_MS}", "--log", str(log)]
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("SENDGRID_", "TWILIO_"))}
    process = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    SandboxControl(url).wait_until_ready()
    return process, url


def make_outbox(ledger: Ledger, count: int, work: Path) -> None:
    """``count`` customers in Berlin owing one invoice each, their reminders planned and written."""
    ids = [f"C{i:06d}" for i in range(count)]
    customers = pl.DataFrame(
        {
            "customer_id": ids,
            "name": [f"Customer {i}" for i in ids],
            "email": [f"{i.lower()}@example.com" for i in ids],
            "country": "DE",
            "time_zone": "Europe/Berlin",
            "locale": "de_DE",
            "preferred_channel": "email",
        }
    ).cast(pl.String)
    invoices = pl.DataFrame(
        {
            "invoice_id": [f"INV-{i}" for i in ids],
            "customer_id": ids,
            "issue_date": "2026-01-10",
            "due_date": (DAY - timedelta(days=8)).isoformat(),
            "amount": "100.00",
            "currency": "EUR",
        }
    )
    for entity, frame in ((Entity.CUSTOMERS, customers), (Entity.INVOICES, invoices)):
        path = work / f"{entity.value}.csv"
        frame.write_csv(path)
        ingest_table(ledger, read_file(path), mapping=Mapping(entity=entity))
    morning = SEND_AT.replace(hour=5)
    policy = load_policy()
    plan_and_record_day(ledger, policy, DAY, morning, run_id="bench", business_tz="UTC")
    render_day(ledger, policy, load_templates(), LinkSigner("benchmark-secret-" * 2), DAY, morning)


def _database_pids(ledger: Ledger) -> list[int]:
    """The PostgreSQL backends serving this ledger's database, the worker's own included (SQLite: none)."""
    if ledger.dialect != "postgresql":
        return []
    with ledger.begin() as connection:
        query = text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        return [int(pid) for (pid,) in connection.execute(query)]


def measure(url: str, sandbox: tuple[int, str], count: int, work: Path) -> dict[str, Any]:
    sandbox_pid, sandbox_url = sandbox
    upgrade_ledger(url)
    with Ledger(url) as ledger:
        started = time.perf_counter()
        make_outbox(ledger, count, work)
        prepared = time.perf_counter() - started
        provider = SendGridProvider(
            DEMO_CREDENTIALS.sendgrid_api_key, SANDBOX_FROM_EMAIL, base_url=sandbox_url, limits=LIMITS
        )
        before = len(SandboxControl(sandbox_url).messages())
        window, load_before = CpuWindow(), os.getloadavg()[0]
        window.start([os.getpid(), sandbox_pid, *_database_pids(ledger)])
        started = time.perf_counter()
        report = deliver(ledger, provider, lambda: SEND_AT, DeliveryOptions(batch_size=1000))
        seconds = time.perf_counter() - started
        cpu = window.stop({"worker": [os.getpid()], "sandbox": [sandbox_pid], "database": _database_pids(ledger)})
    received = Counter(m["reminder_key"] for m in SandboxControl(sandbox_url).messages()[before:])
    ours = cpu["worker"] + cpu["sandbox"] + cpu["database"]
    return {
        "messages": report.sent,
        "seconds": round(seconds, 2),
        "per_second": round(report.sent / seconds, 1),
        "received_once": len(received) == report.sent == count and set(received.values()) == {1},
        "outbox_setup_seconds": round(prepared, 1),
        "cpu_seconds": cpu,
        "cpu_ms_per_message": round(1000 * ours / max(report.sent, 1), 3),
        "load_average_before": round(load_before, 2),
        "load_average_after": round(os.getloadavg()[0], 2),
    }


def _postgres_database() -> tuple[str, str]:
    name = f"bench_delivery_{uuid.uuid4().hex[:8]}"
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)
    return name, f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"


def run(count: int, backends: list[str]) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as work:
        process, sandbox_url = start_sandbox(Path(work) / "sandbox.jsonl")
        sandbox = (process.pid, sandbox_url)
        try:
            for backend in backends:
                if backend == "sqlite":
                    results["sqlite"] = measure(f"sqlite:///{work}/ledger.sqlite", sandbox, count, Path(work))
                    continue
                name, url = _postgres_database()
                try:
                    results["postgresql"] = measure(url, sandbox, count, Path(work))
                finally:
                    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--force", name], check=False)
        finally:
            process.terminate()
            process.wait(timeout=30)
    return results


def markdown(result: dict[str, Any]) -> str:
    lines = [
        "# Delivery benchmark",
        "",
        f"{result['messages']} email reminders drained by one worker through the official SendGrid SDK; the sandbox in",
        f"its own process answers every request after {LATENCY_MS} ms. Target: {TARGET_PER_SECOND:.0f} messages/s.",
        f"Machine: {result['machine']}. Measured {result['measured_at']}. Command: `python -m benchmarks.delivery"
        f" --messages {result['messages']}`.",
        "*CPU ms/message*: the worker, the sandbox and the database backends together; *others*: CPU seconds the",
        "rest of the machine used meanwhile (other work sharing the two cores); *load*: 1-minute load average",
        "before and after.",
        "",
        "| ledger | messages | seconds | messages/s | each received once | CPU worker s | CPU sandbox s "
        "| CPU db s | CPU ms/message | CPU others s | load | target met |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for backend, figures in result["backends"].items():
        met = "yes" if figures["per_second"] >= TARGET_PER_SECOND else "no"
        cpu = figures["cpu_seconds"]
        lines.append(
            f"| {backend} | {figures['messages']} | {figures['seconds']} | {figures['per_second']} | "
            f"{'yes' if figures['received_once'] else 'NO'} | {cpu['worker']} | {cpu['sandbox']} | "
            f"{cpu['database']} | {figures['cpu_ms_per_message']} | {cpu['others']} | "
            f"{figures['load_average_before']} → {figures['load_average_after']} | {met} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()
    backends = run(args.messages, args.backends.split(","))
    result = {
        "messages": args.messages,
        "latency_ms": LATENCY_MS,
        "concurrency": LIMITS.concurrency,
        "target_per_second": TARGET_PER_SECOND,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "backends": backends,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "delivery.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out / "delivery.md").write_text(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
