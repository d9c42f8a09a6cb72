"""Benchmark: every dashboard page's server time with a large ledger, on SQLite and PostgreSQL.

A synthetic ledger (``benchmarks/dashboard_seed.py``: by default 100,000 customers and 1,000,000
invoices) is served by ``reminders serve``'s app on uvicorn (loopback); a collector logs in and each
page is asked ``--repeats`` times: the overview, the customer table (as it opens, filtered and sorted,
a deep page), the worklist, customer pages (a different customer each time) and the live stream's
first answer. Times are from request to last byte on loopback (the server's time plus well under a
millisecond of HTTP). Also measured: loading the snapshot at start (in the background: pages wait
for it only once), and a payment's way from the webhook into the snapshot (a customer's reload).
Results go to benchmarks/results/dashboard.{json,md}; target: every page under 300 ms (median and p95).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from benchmarks.dashboard_seed import seed
from benchmarks.scratch_postgres import scratch_database
from reminder_pipeline.collections.users import Role, add_user
from reminder_pipeline.ledger.store import Ledger, upgrade_ledger
from reminder_pipeline.web import create_app
from reminder_pipeline.web.dashboard.settings import DashboardSettings
from reminder_pipeline.web.settings import WebSettings

HERE = Path(__file__).parent
TARGET_MS = 300.0
PASSWORD = "benchmark password"


@contextmanager
def _served(url: str) -> Iterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    secret = "a benchmark payment secret"
    app = create_app(
        url,
        settings=WebSettings(payment_secret=secret),
        dashboard=DashboardSettings(session_secret="bench", cookie_secure=False, full_seconds=3600),
    )
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=60)
        sock.close()


def _login(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=300)
    token = client.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]
    client.post("/login", data={"csrf_token": token, "username": "bench", "password": PASSWORD})
    return client


def _stats(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"median_ms": round(statistics.median(ordered) * 1000, 1), "p95_ms": round(p95 * 1000, 1), "n": len(times)}


def _pages(customer_ids: list[str]) -> dict[str, list[str]]:
    return {
        "overview /": ["/"],
        "customers (as opened)": ["/customers"],
        "customers filtered + sorted": ["/customers?band=high&status=ready&min_owed=1000&sort=owed&dir=asc"],
        "customers, due-date range, page 20": ["/customers?due_from=2025-01-01&due_to=2026-12-31&page=20"],
        "customers, search by name": ["/customers?q=Customer%204242"],
        "worklist": ["/worklist"],
        "customer page": [f"/customers/{c}" for c in customer_ids],
    }


def measure(url: str, customers: int, invoices: int, repeats: int) -> dict[str, Any]:
    upgrade_ledger(url)
    day = datetime.now(UTC).date()
    started = time.monotonic()
    with Ledger(url) as ledger:
        rows = seed(ledger, customers, invoices, day)
        add_user(ledger, "bench", PASSWORD, Role.COLLECTOR)
    seeded = time.monotonic() - started
    result: dict[str, Any] = {"rows": rows, "seed_seconds": round(seeded, 1)}
    with _served(url) as base:
        load_started = time.monotonic()
        client = _login(base)
        client.get("/")  # waits for the snapshot
        result["snapshot_load_seconds"] = round(time.monotonic() - load_started, 2)
        ids = [f"C{(i * 7919) % customers:07d}" for i in range(repeats)]
        pages: dict[str, dict[str, float]] = {}
        for label, paths in _pages(ids).items():
            times = []
            for k in range(repeats):
                path = paths[k % len(paths)]
                t0 = time.perf_counter()
                answer = client.get(path)
                times.append(time.perf_counter() - t0)
                assert answer.status_code == 200, (path, answer.status_code)
            pages[label] = _stats(times)
        result["pages"] = pages
        result["live_payment_seconds"] = _live_payment(client, base, url)
        client.close()
    return result


def _live_payment(client: httpx.Client, base: str, url: str) -> float:
    """From posting a payment to the webhook to the customer's page showing it (the snapshot reloaded)."""
    import hashlib
    import hmac

    with Ledger(url) as ledger, ledger.begin() as connection:
        from sqlalchemy import text as sql

        invoice, _customer, amount, currency = connection.execute(
            sql(
                "SELECT i.invoice_id, i.customer_id, i.amount_minor, i.currency FROM invoices i "
                "LEFT JOIN payments p ON p.invoice_id = i.invoice_id WHERE p.payment_id IS NULL LIMIT 1"
            )
        ).one()
    body = json.dumps(
        {
            "payment_id": "bench-live",
            "invoice_id": invoice,
            "amount": f"{amount / 100:.2f}",
            "currency": currency,
            "paid_at": datetime.now(UTC).isoformat(),
        }
    ).encode()
    stamp = int(time.time())
    digest = hmac.new(b"a benchmark payment secret", f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    version = client.get("/").text.split('data-version="')[1].split('"')[0]
    t0 = time.perf_counter()
    posted = httpx.post(
        base + "/webhooks/payments", content=body, headers={"X-Reminders-Signature": f"t={stamp},v1={digest}"}
    )
    assert posted.status_code == 200, posted.text
    with client.stream("GET", f"/live?after={version}") as stream:
        for line in stream.iter_lines():
            if line.startswith("event: change"):
                break
    return round(time.perf_counter() - t0, 3)


def _markdown(results: dict[str, Any], args: argparse.Namespace) -> str:
    lines = [
        "# Dashboard: server time per page",
        "",
        f"{args.customers:,} customers, {args.invoices:,} invoices; {args.repeats} requests per page; "
        f"target < {TARGET_MS:.0f} ms (median and p95). Machine: {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, load average {', '.join(f'{x:.2f}' for x in os.getloadavg())} at the end.",
        "",
        f"Command: `python -m benchmarks.dashboard --customers {args.customers} --invoices {args.invoices}`",
        "",
    ]
    if args.note:
        lines += [args.note, ""]
    for backend, result in results.items():
        lines += [
            f"## {backend}",
            "",
            f"Rows: {', '.join(f'{k} {v:,}' for k, v in result['rows'].items())}. "
            f"Seeding took {result['seed_seconds']} s.",
            f"Snapshot load at start (background, once): {result['snapshot_load_seconds']} s. "
            f"A payment from the webhook to the live event: {result['live_payment_seconds']} s.",
            "",
            "| page | median ms | p95 ms | under target |",
            "|---|---:|---:|---|",
        ]
        for label, stats in result["pages"].items():
            ok = stats["median_ms"] < TARGET_MS and stats["p95_ms"] < TARGET_MS
            lines.append(f"| {label} | {stats['median_ms']} | {stats['p95_ms']} | {'yes' if ok else 'NO'} |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--note", default="")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    for backend in args.backends.split(","):
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as work:
                results["SQLite"] = measure(
                    f"sqlite:///{work}/ledger.sqlite", args.customers, args.invoices, args.repeats
                )
        else:
            with scratch_database("rp_bench_dash") as url:
                results["PostgreSQL"] = measure(url, args.customers, args.invoices, args.repeats)
        print(json.dumps(results, indent=1))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "dashboard.json").write_text(json.dumps(results, indent=1) + "\n")
    (args.out / "dashboard.md").write_text(_markdown(results, args))
    print(_markdown(results, args))


if __name__ == "__main__":
    main()
