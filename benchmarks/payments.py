"""Benchmark: payments from RabbitMQ into the ledger through ``reminders listen``, on SQLite and PostgreSQL.

Customers owing one invoice each, their reminders planned and rendered, are made through the services
the assets call (ingest, plan, render). ``reminders listen`` runs as its own process (default prefetch
and batch) against the real broker on this machine. Two measurements per ledger:

- throughput: ``--payments`` messages, one per invoice, are published before the listener starts;
  payments a second from the first batch seen committed to the last;
- latency: ``--latency-payments`` more are published while it runs, at ``--rate`` a second or half the
  throughput just measured if that is less (a rate the listener keeps up with: above it the latency
  is only the backlog growing); each body
  carries its publish time (``published_at``, a field the listener ignores), and a probe polling the
  ledger every ``PROBE_SECONDS`` sees its inbox row, which commits in the same transaction as the
  payment and the cancelled outbox row; latency = seen - published (the clocks are the same: one machine).

Afterwards: payments recorded = distinct payment_ids published, every outbox row cancelled, no dead
letters. Results go to benchmarks/results/payments.{json,md}, with the machine's load average.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pika
from sqlalchemy import func, select

from benchmarks.delivery import make_outbox
from reminder_pipeline.core.outbox import OutboxStatus
from reminder_pipeline.ledger.schema import inbound_events, outbox, payments
from reminder_pipeline.ledger.store import Ledger, upgrade_ledger
from reminder_pipeline.listening.broker_queues import (
    broker_channel,
    delete_queues,
    payment_body,
    publish,
    queue_depth,
    take_dead_letters,
)
from reminder_pipeline.listening.broker_settings import BrokerSettings, broker_settings

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
TARGET_PER_SECOND = 1000.0
TARGET_P99_SECONDS = 1.0
PROBE_SECONDS = 0.01
RESCAN_IDS = 1000
LATENCY_SHARE_OF_THROUGHPUT = 0.5
WAIT_SECONDS = 600.0


def payment_id(n: int) -> str:
    return f"PAY-{n:07d}"


def payment(n: int, published_at: float | None = None) -> bytes:
    fields = {
        "payment_id": payment_id(n),
        "invoice_id": f"INV-C{n:06d}",
        "amount": "100.00",
        "currency": "EUR",
        "paid_at": "2026-03-10T09:30:00Z",
    }
    if published_at is not None:
        fields["published_at"] = repr(published_at)
    return payment_body(fields)


class Probe:
    """Polls the broker's inbox rows and notes when each payment became visible (committed).

    Several listeners commit out of id order (ids are taken at insert, rows seen at commit), so
    each poll looks again at the last ``RESCAN_IDS`` ids below the highest seen.
    """

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.seen: dict[str, float] = {}
        """payment_id -> wall time first seen committed."""
        self._after = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="probe", daemon=True)

    def _poll(self) -> None:
        with self.ledger.begin() as connection:
            found = connection.execute(
                select(inbound_events.c.event_id, inbound_events.c.dedupe_key).where(
                    inbound_events.c.source == "broker", inbound_events.c.event_id > self._after - RESCAN_IDS
                )
            ).all()
        now = time.time()
        for event_id, key in found:
            self.seen.setdefault(key, now)
            self._after = max(self._after, event_id)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._poll()
            self._stop.wait(PROBE_SECONDS)

    def wait_for(self, count: int) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while len(self.seen) < count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {len(self.seen)} of {count} payments arrived in {WAIT_SECONDS:.0f} s")
            time.sleep(0.05)

    def __enter__(self) -> Probe:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


@contextmanager
def running_listeners(url: str, settings: BrokerSettings, log: Path, count: int) -> Iterator[list[dict[str, Any]]]:
    """``count`` ``reminders listen`` processes on the queue; yields a list filled with their summaries once
    stopped (SIGTERM)."""
    command = [sys.executable, "-m", "reminder_pipeline.cli", "listen", "--db", url, "--queue", settings.queue]
    with log.open("a") as errors:
        processes = [
            subprocess.Popen([*command, "--json"], cwd=PROJECT, stdout=subprocess.PIPE, stderr=errors, text=True)
            for _ in range(count)
        ]
    summaries: list[dict[str, Any]] = []
    try:
        yield summaries
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            out, _ = process.communicate(timeout=WAIT_SECONDS)
            if process.returncode != 0:
                raise RuntimeError(f"reminders listen exited {process.returncode}: see {log}")
            summaries.append(json.loads(out))


def preload(settings: BrokerSettings, count: int) -> float:
    """``count`` payments on the queue before any listener; seconds it took."""
    started = time.perf_counter()
    with broker_channel(settings, confirm=False) as channel:
        for n in range(count):
            publish(channel, settings.queue, payment(n))
    if queue_depth(settings) != count:
        raise RuntimeError("the broker does not hold every payment published")
    return time.perf_counter() - started


def paced(settings: BrokerSettings, first: int, count: int, rate: float) -> tuple[float, dict[str, float]]:
    """``count`` payments published at ``rate`` a second, each carrying its publish time; the rate achieved
    and the publish time of each payment_id."""
    published: dict[str, float] = {}
    started = time.perf_counter()
    with broker_channel(settings, confirm=True) as channel:
        for i in range(count):
            pause = started + i / rate - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            published[payment_id(first + i)] = now = time.time()
            publish(channel, settings.queue, payment(first + i, now))
    return count / (time.perf_counter() - started), published


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def throughput(probe: Probe, count: int) -> dict[str, Any]:
    times = sorted(probe.seen.values())
    first, last = times[0], times[-1]
    after_first = sum(1 for t in times if t > first)
    return {
        "payments": count,
        "seconds": round(last - first, 2),
        "per_second": round(after_first / (last - first), 1) if last > first else None,
    }


def latency(probe: Probe, published: dict[str, float], rate: float) -> dict[str, Any]:
    delays = [probe.seen[key] - at for key, at in published.items()]
    return {
        "payments": len(delays),
        "rate_asked": rate,
        "p50_ms": round(statistics.median(delays) * 1000, 1),
        "p95_ms": round(percentile(delays, 0.95) * 1000, 1),
        "p99_ms": round(percentile(delays, 0.99) * 1000, 1),
        "max_ms": round(max(delays) * 1000, 1),
    }


def audit(ledger: Ledger, published: int, settings: BrokerSettings) -> dict[str, Any]:
    with ledger.begin() as connection:
        recorded = connection.execute(
            select(func.count(), func.count(func.distinct(payments.c.payment_id))).where(
                payments.c.method == "rabbitmq"
            )
        ).one()
        pending = connection.execute(
            select(func.count()).select_from(outbox).where(outbox.c.status != OutboxStatus.CANCELLED)
        ).scalar_one()
    dead = len(take_dead_letters(settings))
    return {
        "payments_recorded": int(recorded[0]),
        "each_recorded_once": int(recorded[0]) == int(recorded[1]) == published,
        "outbox_rows_not_cancelled": int(pending),
        "dead_letters": dead,
    }


def load() -> float:
    return round(os.getloadavg()[0], 2)


def measure(url: str, work: Path, count: int, latency_count: int, rate: float, listeners: int) -> dict[str, Any]:
    upgrade_ledger(url)
    settings = broker_settings(queue=f"reminders.bench.{uuid.uuid4().hex[:8]}")
    with Ledger(url) as ledger:
        started = time.perf_counter()
        make_outbox(ledger, count + latency_count, work)
        setup = time.perf_counter() - started
        try:
            publish_seconds = preload(settings, count)
            load_before = load()
            log = work / "listen.log"
            with Probe(ledger) as probe, running_listeners(url, settings, log, listeners) as summaries:
                probe.wait_for(count)
                bulk = throughput(probe, count)
                load_bulk = load()
                pace = min(rate, LATENCY_SHARE_OF_THROUGHPUT * (bulk["per_second"] or rate))
                achieved, published = paced(settings, count, latency_count, pace)
                probe.wait_for(count + latency_count)
                delays = latency(probe, published, round(pace, 1))
                delays["rate_published"] = round(achieved, 1)
            result = {
                "throughput": bulk,
                "latency": delays,
                "audit": audit(ledger, count + latency_count, settings),
                "listeners": summaries,
                "preload_publish_seconds": round(publish_seconds, 1),
                "outbox_setup_seconds": round(setup, 1),
                "load_average": {"before": load_before, "after_throughput": load_bulk, "after_latency": load()},
            }
        finally:
            delete_queues(settings)
    return result


def _postgres_database() -> tuple[str, str]:
    name = f"bench_payments_{uuid.uuid4().hex[:8]}"
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)
    return name, f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"


def run(count: int, latency_count: int, rate: float, backends: list[str]) -> dict[str, Any]:
    """Each of ``backends`` on a fresh ledger: ``sqlite``, ``postgresql``, ``postgresql:N`` (N listener processes)."""
    results: dict[str, Any] = {}
    for backend in backends:
        name, _, processes = backend.partition(":")
        listeners = int(processes or 1)
        label = name if listeners == 1 else f"{name}, {listeners} listeners"
        with tempfile.TemporaryDirectory() as folder:
            work = Path(folder)
            if name == "sqlite":
                url = f"sqlite:///{work}/ledger.sqlite"
                results[label] = measure(url, work, count, latency_count, rate, listeners)
                continue
            database, url = _postgres_database()
            try:
                results[label] = measure(url, work, count, latency_count, rate, listeners)
            finally:
                subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--force", database], check=False)
    return results


def _yes(flag: bool) -> str:
    return "yes" if flag else "NO"


def markdown(result: dict[str, Any]) -> str:
    lines = [
        "# Payments benchmark: RabbitMQ → ledger",
        "",
        f"`reminders listen` in its own process or processes (prefetch {result['prefetch']}, up to "
        f"{result['batch_size']} payments per ledger transaction, acknowledged after the commit) against the "
        "RabbitMQ on this machine.",
        f"Throughput: {result['payments']} payments published before the listener starts. Latency: "
        f"{result['latency_payments']} more published while it runs, at {result['rate']:.0f}/s or half the "
        "throughput measured if less (column rate), from publish to the payment's commit (inbox row, "
        "payment and cancelled outbox row in one transaction) seen by a "
        f"probe polling every {PROBE_SECONDS * 1000:.0f} ms. Targets: {TARGET_PER_SECOND:.0f} payments/s, "
        f"p99 under {TARGET_P99_SECONDS * 1000:.0f} ms.",
        f"Machine: {result['machine']}. Measured {result['measured_at']}. Command: `{result['command']}`.",
        "",
        "| ledger | payments | seconds | payments/s | rate/s | p50 ms | p95 ms | p99 ms | max ms | each once "
        "| all cancelled | dead letters | targets met |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---|",
    ]
    for backend, figures in result["backends"].items():
        bulk, delay, checked = figures["throughput"], figures["latency"], figures["audit"]
        met = (bulk["per_second"] or 0) >= TARGET_PER_SECOND and delay["p99_ms"] < TARGET_P99_SECONDS * 1000
        lines.append(
            f"| {backend} | {bulk['payments']} | {bulk['seconds']} | {bulk['per_second']} | "
            f"{delay['rate_published']} | {delay['p50_ms']} | {delay['p95_ms']} | {delay['p99_ms']} | "
            f"{delay['max_ms']} | {_yes(checked['each_recorded_once'])} | "
            f"{_yes(checked['outbox_rows_not_cancelled'] == 0)} | {checked['dead_letters']} | {_yes(met)} |"
        )
    lines += ["", "Load average (1 min) before / after the throughput run / after the latency run:"]
    for backend, figures in result["backends"].items():
        average = figures["load_average"]
        lines.append(f"- {backend}: {average['before']} / {average['after_throughput']} / {average['after_latency']}")
    if result.get("note"):
        lines += ["", result["note"]]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--payments", type=int, default=20_000)
    parser.add_argument("--latency-payments", type=int, default=5_000)
    parser.add_argument(
        "--rate", type=float, default=500.0, help="Payments a second in the latency run, at most (see above)."
    )
    parser.add_argument(
        "--backends",
        default="sqlite,postgresql,postgresql:2",
        help="Ledgers to run on; postgresql:N runs N listener processes on one queue (SQLite has one writer).",
    )
    parser.add_argument("--note", default="", help="A line for the results (e.g. what else ran on the machine).")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()
    defaults = BrokerSettings()
    backends = run(args.payments, args.latency_payments, args.rate, args.backends.split(","))
    result = {
        "payments": args.payments,
        "latency_payments": args.latency_payments,
        "rate": args.rate,
        "prefetch": defaults.prefetch,
        "batch_size": defaults.batch_size,
        "targets": {"per_second": TARGET_PER_SECOND, "p99_ms": TARGET_P99_SECONDS * 1000},
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"pika {pika.__version__}",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": shlex.join(["python", "-m", "benchmarks.payments", *sys.argv[1:]]),
        "note": args.note,
        "backends": backends,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "payments.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out / "payments.md").write_text(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
