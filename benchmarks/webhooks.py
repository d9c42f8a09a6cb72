"""Benchmark: signed webhook ingestion through ``reminders serve``, on SQLite and PostgreSQL.

Target (issue 11): webhook ingestion ≥ 2,000 events/s on 2 cores.

``reminders serve`` runs in its own process (uvicorn, as the CLI starts it, its INFO log to a file)
on a ledger made for the run (a SQLite file, or a fresh PostgreSQL database created and dropped).
The ledger holds customers whose first reminder was sent, half by SMS and half by email
(:mod:`benchmarks.webhook_seed`). A load generator in another process (:mod:`benchmarks.webhook_load`)
plays the providers: Twilio status callbacks signed with the SDK's ``RequestValidator``, SendGrid
event batches ECDSA-signed with a key made here, payment webhooks HMAC-signed — out of order, with
retries mixed in (:mod:`benchmarks.webhook_plan`). Phases: each kind alone, then all three mixed,
each on messages no other phase touches.

An event counts when its request was answered 200 and not as a duplicate: a Twilio callback or a
payment is one event, a SendGrid batch of k events is k. Events/s = those events over the time
from the first request to the moment every stored event was processed (the last answer, unless
something was left ``received``). Requests/s counts every request, retries included, over the
time from the first request to the last answer. Latency: from writing a request to reading its
answer. CPU seconds are shown per process group (the app, the database's backends, the generator)
and for everything else on the machine (it is shared). Afterwards the ledger is audited: every
stored event processed exactly once (distinct provider events and payments recorded once each),
none left ``received`` or ``failed``, every message in its true final status.

Then, on another new ledger, the same kinds of requests go to ``reminders serve`` with handlers that
do nothing but mark their event processed (:mod:`benchmarks.webhook_server`): the web and inbox
path alone, so that the CPU per event splits into that path and the processing handlers.

Results go to benchmarks/results/webhooks.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from benchmarks.cpu_usage import CpuWindow
from benchmarks.scratch_postgres import scratch_database
from benchmarks.webhook_audit import audit, db_backend_pids, events_left_received
from benchmarks.webhook_plan import Expected, plan, together
from benchmarks.webhook_report import markdown
from benchmarks.webhook_secrets import BenchSecrets
from benchmarks.webhook_seed import Seeded, seed, synthetic
from reminder_pipeline.ledger.store import Ledger, upgrade_ledger

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
TARGET_EVENTS_PER_SECOND = 2000.0
PUBLIC_URL = "https://reminders.example.com"
STARTUP_SECONDS = 120.0
PROCESSED_WAIT_SECONDS = 300.0
POLL_SECONDS = 0.02
PHASES = {
    "twilio_status": ["twilio_status"],
    "sendgrid_events": ["sendgrid_events"],
    "payment": ["payment"],
    "mixed": ["twilio_status", "sendgrid_events", "payment"],
}


@dataclass(frozen=True)
class Options:
    customers: int
    batch_size: int
    retry_share: float
    concurrency: int
    payment_share: float
    profile: bool
    phases: tuple[str, ...] = tuple(PHASES)
    workers: int = 1
    """``reminders serve --workers`` (on SQLite the processes take turns writing)."""


@dataclass(frozen=True)
class Server:
    process: subprocess.Popen[bytes]
    url: str


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _clean_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "SENDGRID_", "REMINDERS_"))}


@contextmanager
def served(db_url: str, secrets: BenchSecrets, work: Path, special: list[str], workers: int = 1) -> Iterator[Server]:
    """``reminders serve`` on a free port until the block ends (a graceful stop: SIGTERM); ``special``:
    options of :mod:`benchmarks.webhook_server` (profiled, no handlers)."""
    port = _free_port()
    arguments = ["serve", "--port", str(port), "--db", db_url]
    if workers > 1:
        arguments += ["--workers", str(workers)]
    runner = ["-m", "benchmarks.webhook_server", *special] if special else ["-m", "reminder_pipeline.cli"]
    environment = _clean_environment() | secrets.server_environment(PUBLIC_URL)
    environment["REMINDERS_HOME"] = str(work / "home")
    with (work / "serve.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, *runner, *arguments], cwd=PROJECT, env=environment, stdout=log, stderr=log
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"reminders serve did not come up: see {work / 'serve.log'}")
            try:
                if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        yield Server(process, url)
    finally:
        process.send_signal(signal.SIGTERM)
        if process.wait(timeout=120) != 0:
            raise RuntimeError(f"reminders serve exited {process.returncode}: see {work / 'serve.log'}")


def app_pids(pid: int) -> list[int]:
    """The server process and its descendants (the workers of ``reminders serve --workers``)."""
    found = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            found += app_pids(int(child))
    return found


def _generate(
    server: Server,
    requests: list[dict[str, Any]],
    secrets: BenchSecrets,
    options: Options,
    work: Path,
    window: CpuWindow,
    watched: list[int],
) -> dict[str, Any]:
    """Run the generator on ``requests``; its summary (the CPU window opened once it has signed them)."""
    plan_file = work / "plan.json"
    plan_file.write_text(json.dumps(requests))
    command = [sys.executable, "-m", "benchmarks.webhook_load", "--plan", str(plan_file), "--url", server.url]
    command += ["--public-url", PUBLIC_URL, "--concurrency", str(options.concurrency)]
    environment = _clean_environment() | secrets.generator_environment()
    generator = subprocess.Popen(
        command, cwd=PROJECT, env=environment, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert generator.stdin is not None
    assert generator.stdout is not None
    if generator.stdout.readline().strip() != "ready":
        raise RuntimeError("the load generator did not start")
    window.start([*watched, generator.pid])
    generator.stdin.write("go\n")
    generator.stdin.flush()
    output, _ = generator.communicate(timeout=3600)
    if generator.returncode != 0:
        raise RuntimeError(f"the load generator exited {generator.returncode}")
    return dict(json.loads(output.strip().splitlines()[-1]))


def _processed_wall(ledger: Ledger, answered_wall: float) -> tuple[float, int]:
    """When nothing stored was left ``received`` (the last answer's time if so already), and what was left."""
    left = events_left_received(ledger)
    if not left:
        return answered_wall, 0
    deadline = time.monotonic() + PROCESSED_WAIT_SECONDS
    while left and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
        left = events_left_received(ledger)
    return time.time(), left


def run_phase(
    ledger: Ledger, server: Server, requests: list[dict[str, Any]], secrets: BenchSecrets, options: Options, work: Path
) -> dict[str, Any]:
    window = CpuWindow()
    load_before = os.getloadavg()[0]
    app = app_pids(server.process.pid)
    summary = _generate(server, requests, secrets, options, work, window, [*app, *db_backend_pids(ledger)])
    processed_wall, left = _processed_wall(ledger, summary["finished_wall"])
    cpu = window.stop({"app": app, "database": db_backend_pids(ledger)})
    cpu["generator"] = summary.pop("generator_cpu_seconds")
    cpu["others"] = round(max(cpu["machine"] - cpu["app"] - cpu["database"] - cpu["generator"], 0.0), 2)
    kinds = summary["kinds"]
    events = sum(k["events"] for k in kinds.values())
    duplicates = sum(k["answers"].get("duplicate", 0) for k in kinds.values())
    refused = sum(n for k in kinds.values() for answer, n in k["answers"].items() if answer.startswith("http_"))
    processed_seconds = processed_wall - summary["started_wall"]
    return {
        "requests": summary["requests"],
        "duplicate_requests": duplicates,
        "refused_requests": refused,
        "events": events,
        "answered_seconds": round(summary["seconds"], 2),
        "processed_seconds": round(processed_seconds, 2),
        "requests_per_second": round(summary["requests"] / summary["seconds"], 1),
        "events_per_second": round(events / processed_seconds, 1),
        "app_cpu_ms_per_event": round(1000 * (cpu["app"] + cpu["database"]) / max(events, 1), 3),
        "left_received": left,
        "latency": summary["latency"],
        "kinds": kinds,
        "cpu_seconds": cpu,
        "load_average_before": round(load_before, 2),
        "load_average_after": round(os.getloadavg()[0], 2),
    }


def _phase_requests(seeded: Seeded, options: Options, phase: int) -> dict[str, tuple[list[dict[str, Any]], Expected]]:
    """Each phase's requests, on its own quarter of the SMS, the email and the customers' invoices."""
    plans = {}
    count = len(PHASES)
    for index, (name, kinds) in enumerate(PHASES.items()):
        sms = seeded.sms[index::count]
        email = seeded.email[index::count]
        invoices = seeded.invoices[index::count]
        invoices = invoices[: int(len(invoices) * options.payment_share)] if name == "mixed" else invoices
        plans[name] = plan(kinds, sms, email, invoices, options.batch_size, options.retry_share, seed=phase + index)
    return plans


def measure(db_url: str, work: Path, options: Options, *, handlers: bool = True) -> dict[str, Any]:
    """The phases on a new ledger; without ``handlers``, the web and inbox path alone (nothing looked up)."""
    upgrade_ledger(db_url)
    secrets = BenchSecrets()
    with Ledger(db_url) as ledger:
        seeded = seed(ledger, options.customers, work) if handlers else synthetic(options.customers)
        plans = _phase_requests(seeded, options, phase=2026)
        chosen = options.phases if handlers else tuple(p for p in options.phases if p != "mixed")
        phases: dict[str, Any] = {}
        profile = work / "serve.prof" if options.profile else None
        special = (["--profile", str(profile)] if profile else []) + ([] if handlers else ["--no-handlers"])
        workers = 1 if special else options.workers  # the special runs patch this process only
        with served(db_url, secrets, work, special, workers) as server:
            for name in chosen:
                phases[name] = run_phase(ledger, server, plans[name][0], secrets, options, work)
                print(name, json.dumps({k: v for k, v in phases[name].items() if k != "kinds"}), flush=True)
        stored = sum(p["requests"] - p["duplicate_requests"] - p["refused_requests"] for p in phases.values())
        expected = together([plans[name][1] for name in phases]) if handlers else Expected({}, 0, 0)
        checked = audit(ledger, expected, stored)
    if profile is not None:
        print(f"profile of the app: {profile}", flush=True)
    return {"seed_seconds": round(seeded.seconds, 1), "phases": phases, "audit": checked}


@contextmanager
def ledger_url(backend: str, work: Path, name: str) -> Iterator[str]:
    """A new ledger's URL: a SQLite file in ``work``, or a PostgreSQL database dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{work}/{name}.sqlite"
        return
    with scratch_database("bench_webhooks") as url:
        yield url


def run(backends: list[str], options: Options, keep: Path | None, baseline: bool) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for backend in backends:
        with tempfile.TemporaryDirectory(prefix="bench_webhooks_") as temporary:
            work = keep / backend if keep else Path(temporary)
            work.mkdir(parents=True, exist_ok=True)
            with ledger_url(backend, work, "ledger") as url:
                results[backend] = measure(url, work, options)
            if baseline:
                with ledger_url(backend, work, "baseline") as url:
                    results[backend]["without_handlers"] = measure(url, work, options, handlers=False)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=80_000, help="Half reached by SMS, half by email.")
    parser.add_argument("--batch-size", type=int, default=100, help="SendGrid events per POST.")
    parser.add_argument("--retry-share", type=float, default=0.05, help="Requests sent again (provider retries).")
    parser.add_argument("--payment-share", type=float, default=0.25, help="Customers paying in the mixed phase.")
    parser.add_argument("--concurrency", type=int, default=32, help="Connections the providers keep open.")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--workers", type=int, default=1, help="Server processes (reminders serve --workers).")
    parser.add_argument("--phases", default=",".join(PHASES), help="Which phases to run (all by default).")
    parser.add_argument(
        "--no-baseline", action="store_true", help="Skip the run with handlers that do nothing (the web path alone)."
    )
    parser.add_argument("--profile", action="store_true", help="Run the app under cProfile (slower: not a figure).")
    parser.add_argument("--keep", type=Path, help="Keep the ledger, logs and profile in this folder.")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()
    options = Options(
        args.customers,
        args.batch_size,
        args.retry_share,
        args.concurrency,
        args.payment_share,
        args.profile,
        tuple(p for p in args.phases.split(",") if p in PHASES),
        args.workers,
    )
    backends = run(args.backends.split(","), options, args.keep, baseline=not args.no_baseline)
    result = {
        "command": " ".join(["python -m benchmarks.webhooks", *sys.argv[1:]]),
        "options": options.__dict__,
        "target_events_per_second": TARGET_EVENTS_PER_SECOND,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "backends": backends,
    }
    if args.profile:
        print("profiled run: results not written", flush=True)
        return
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "webhooks.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out / "webhooks.md").write_text(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
