"""The webhook benchmark's load generator: the providers, in a process of their own.

Reads a plan (:mod:`benchmarks.webhook_plan`), signs every request as its sender does — Twilio with
the SDK's ``RequestValidator.compute_signature`` over the public URL and the form, SendGrid with
ECDSA (P-256, SHA-256) over timestamp + body, payments with HMAC-SHA256 over ``"<t>.<body>"`` — then
posts them over ``--concurrency`` keep-alive HTTP/1.1 connections, each sending its next request as
soon as the previous one is answered (a closed loop: the app's own pace). Each request is signed
just before it is sent, as a provider does (a signature older than 300 s is refused); raw sockets
on asyncio keep the generator's own CPU small. It prints ``ready`` once it has read the plan and
starts on a line on stdin; then prints one JSON object: per request kind the answers, the latency
distribution, and the wall-clock span.

Secrets come from the environment (the same variables ``reminders serve`` reads, and
``BENCH_SENDGRID_PRIVATE_KEY``: the PEM of the key whose public half the app was given).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import resource
import statistics
import sys
import time
from collections import Counter, defaultdict
from typing import Any
from urllib.parse import urlencode, urlsplit

import uvloop
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from twilio.request_validator import RequestValidator

PRIVATE_KEY_ENV = "BENCH_SENDGRID_PRIVATE_KEY"


def _headers(host: str, target: str, content_type: str, body: bytes, extra: dict[str, str]) -> bytes:
    lines = [f"POST {target} HTTP/1.1", f"Host: {host}", f"Content-Type: {content_type}"]
    lines += [f"Content-Length: {len(body)}", "User-Agent: webhook-bench/1.0"]
    lines += [f"{name}: {value}" for name, value in extra.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Signer:
    def __init__(self, host: str, public_url: str) -> None:
        self.host = host
        self.public_url = public_url.rstrip("/")
        self.twilio = RequestValidator(os.environ["TWILIO_AUTH_TOKEN"])
        pem = os.environ[PRIVATE_KEY_ENV].encode()
        key = serialization.load_pem_private_key(pem, password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        self.sendgrid_key = key
        self.payment_secret = os.environ["REMINDERS_PAYMENT_WEBHOOK_SECRET"].encode()

    def raw(self, request: dict[str, Any]) -> bytes:
        kind = request["kind"]
        now = str(int(time.time()))
        if kind == "twilio_status":
            target = request["path"] + "?" + urlencode(request["query"])
            form: dict[str, str] = request["form"]
            signature = self.twilio.compute_signature(self.public_url + target, form)
            body = urlencode(form).encode()
            extra = {"X-Twilio-Signature": signature}
            return _headers(self.host, target, "application/x-www-form-urlencoded", body, extra)
        text = json.dumps(request["json"], separators=(",", ":")) + ("\r\n" if kind == "sendgrid_events" else "")
        encoded = text.encode()
        if kind == "sendgrid_events":
            signed = self.sendgrid_key.sign(now.encode() + encoded, ec.ECDSA(hashes.SHA256()))
            extra = {
                "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signed).decode(),
                "X-Twilio-Email-Event-Webhook-Timestamp": now,
            }
            return _headers(self.host, request["path"], "application/json", encoded, extra)
        digest = hmac.new(self.payment_secret, now.encode() + b"." + encoded, hashlib.sha256).hexdigest()
        extra = {"X-Reminders-Signature": f"t={now},v1={digest}"}
        return _headers(self.host, request["path"], "application/json", encoded, extra)


async def _answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    return status, await reader.readexactly(length) if length else b""


async def _run(
    url: str, plan: list[dict[str, Any]], signer: Signer, concurrency: int
) -> tuple[list[tuple[float, float, int, bytes]], float, float]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    results: list[tuple[float, float, int, bytes]] = [(0.0, 0.0, 0, b"")] * len(plan)
    cursor = iter(range(len(plan)))

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            for index in cursor:
                raw = signer.raw(plan[index])
                started = time.perf_counter()
                writer.write(raw)
                status, body = await _answer(reader)
                results[index] = (started, time.perf_counter(), status, body)
        finally:
            writer.close()

    wall, clock = time.time(), time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    return results, wall, clock


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    cuts = statistics.quantiles(ordered, n=1000, method="inclusive") if len(ordered) > 1 else ordered * 999

    def ms(value: float) -> float:
        return round(value * 1000, 2)

    return {
        "p50_ms": ms(cuts[499]),
        "p90_ms": ms(cuts[899]),
        "p99_ms": ms(cuts[989]),
        "p999_ms": ms(cuts[998]),
        "max_ms": ms(ordered[-1]),
        "mean_ms": ms(statistics.fmean(ordered)),
    }


def _answer_status(code: int, body: bytes) -> str:
    if code != 200:
        return f"http_{code}"
    try:
        return str(json.loads(body).get("status", "?"))
    except ValueError:
        return "unreadable"


def summarise(
    plan: list[dict[str, Any]], results: list[tuple[float, float, int, bytes]], wall: float, clock: float
) -> dict[str, Any]:
    """Answers and latencies per kind; ``wall``/``clock``: time.time() and perf_counter() at the start."""
    first = min(r[0] for r in results)
    last = max(r[1] for r in results)
    by_kind: dict[str, dict[str, Any]] = defaultdict(lambda: {"requests": 0, "events": 0, "answers": Counter()})
    latencies: dict[str, list[float]] = defaultdict(list)
    for request, (started, finished, code, body) in zip(plan, results, strict=True):
        figures = by_kind[request["kind"]]
        figures["requests"] += 1
        answer = _answer_status(code, body)
        figures["answers"][answer] += 1
        if answer != "duplicate" and code == 200:
            figures["events"] += request["events"]
        latencies[request["kind"]].append(finished - started)
        latencies["all"].append(finished - started)
    kinds = {kind: figures | {"latency": _percentiles(latencies[kind])} for kind, figures in by_kind.items()}
    return {
        "started_wall": wall + (first - clock),
        "finished_wall": wall + (last - clock),
        "seconds": last - first,
        "requests": len(results),
        "kinds": kinds,
        "latency": _percentiles(latencies["all"]),
    }


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--plan", required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--public-url", required=True, help="The URL Twilio is told to call (REMINDERS_PUBLIC_URL).")
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    with open(args.plan, encoding="utf-8") as handle:
        plan: list[dict[str, Any]] = json.load(handle)
    signer = Signer(urlsplit(args.url).netloc, args.public_url)
    print("ready", flush=True)
    sys.stdin.readline()
    cpu_before = _cpu_seconds()
    results, wall, clock = uvloop.run(_run(args.url, plan, signer, args.concurrency))
    summary = summarise(plan, results, wall, clock) | {"generator_cpu_seconds": round(_cpu_seconds() - cpu_before, 2)}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
