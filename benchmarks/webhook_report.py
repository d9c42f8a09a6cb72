"""The webhook benchmark's figures as Markdown (benchmarks/results/webhooks.md)."""

from __future__ import annotations

from typing import Any

KIND_NAMES = {"twilio_status": "Twilio status", "sendgrid_events": "SendGrid batch", "payment": "payment"}


def _phase_line(backend: str, name: str, phase: dict[str, Any], target: float) -> str:
    latency, cpu = phase["latency"], phase["cpu_seconds"]
    met = "yes" if phase["events_per_second"] >= target else "no"
    return (
        f"| {backend} | {name} | {phase['requests']:,} | {phase['duplicate_requests']:,} | {phase['events']:,} "
        f"| {phase['processed_seconds']} | {phase['requests_per_second']:,} | **{phase['events_per_second']:,}** "
        f"| {latency['p50_ms']} | {latency['p99_ms']} | {latency['max_ms']} "
        f"| {cpu['app']} | {cpu['database']} | {phase['app_cpu_ms_per_event']} | {cpu['generator']} | {cpu['others']} "
        f"| {phase['load_average_before']} | {met} |"
    )


def _kind_lines(backend: str, name: str, phase: dict[str, Any]) -> list[str]:
    lines = []
    for kind, figures in phase["kinds"].items():
        latency = figures["latency"]
        answers = ", ".join(f"{answer} {n:,}" for answer, n in sorted(figures["answers"].items()))
        lines.append(
            f"| {backend} | {name} | {KIND_NAMES.get(kind, kind)} | {figures['requests']:,} | {figures['events']:,} "
            f"| {latency['p50_ms']} | {latency['p90_ms']} | {latency['p99_ms']} | {latency['p999_ms']} "
            f"| {latency['max_ms']} | {answers} |"
        )
    return lines


def _baseline_lines(result: dict[str, Any]) -> list[str]:
    """The web and inbox path alone, and what the handlers add to it (CPU per event of the same kind)."""
    rows = [
        (backend, name, phase, figures["phases"].get(name))
        for backend, figures in result["backends"].items()
        if "without_handlers" in figures
        for name, phase in figures["without_handlers"]["phases"].items()
    ]
    if not rows:
        return []
    lines = [
        "",
        "The web and inbox path alone — the same requests to `reminders serve` whose handlers mark each event "
        "processed and do nothing else (HTTP, signature checks, storing, claiming, marking, answering):",
        "",
        "| ledger | phase | requests/s | events/s | p50 ms | p99 ms | CPU ms/event | with handlers: CPU ms/event "
        "| of which handlers |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for backend, name, phase, full in rows:
        alone = phase["app_cpu_ms_per_event"]
        total = full["app_cpu_ms_per_event"] if full else None
        share = f"{total - alone:.3f}" if total is not None else ""
        lines.append(
            f"| {backend} | {name} | {phase['requests_per_second']:,} | {phase['events_per_second']:,} "
            f"| {phase['latency']['p50_ms']} | {phase['latency']['p99_ms']} | {alone} | {total or ''} | {share} |"
        )
    return lines


def markdown(result: dict[str, Any]) -> str:
    options = result["options"]
    target = result["target_events_per_second"]
    lines = [
        "# Webhook ingestion benchmark",
        "",
        f"`reminders serve` in its own process; a load generator in another posts signed requests over "
        f"{options['concurrency']} keep-alive connections (a closed loop). Twilio status callbacks (one event "
        f"each), SendGrid event batches ({options['batch_size']} events a POST, counted as {options['batch_size']} "
        f"events), payment webhooks (one event each); {options['retry_share']:.0%} of requests sent again as "
        "provider retries (answered `duplicate`, counted as requests but not as events). Each request is "
        "verified, stored and committed, then processed (the message's status settled, the payment "
        "recorded) before it is answered. Events/s: events of the requests answered as new, from the first "
        "request until every stored event was processed.",
        f"Target: {target:,.0f} events/s on 2 cores. Machine: {result['machine']}, shared with other work "
        "(CPU seconds of everything else during the phase in *others*; load average before the phase). "
        f"Measured {result['measured_at']}. Command: `{result['command']}`. *CPU ms/event*: CPU of the app and "
        "its database backends per event, which other work on the machine does not inflate.",
        "",
        "| ledger | phase | requests | retries | events | seconds | requests/s | events/s | p50 ms | p99 ms "
        "| max ms | CPU app s | CPU db s | CPU ms/event | CPU generator s | CPU others s | load | target met |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for backend, figures in result["backends"].items():
        for name, phase in figures["phases"].items():
            lines.append(_phase_line(backend, name, phase, target))
    lines += [
        "",
        "Latency by kind of request (from writing the request to reading the answer):",
        "",
        "| ledger | phase | kind | requests | events | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | answers |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for backend, figures in result["backends"].items():
        for name, phase in figures["phases"].items():
            lines += _kind_lines(backend, name, phase)
    lines += _baseline_lines(result)
    lines += ["", "Audit of the ledger afterwards (every phase together):", ""]
    for backend, figures in result["backends"].items():
        checked = figures["audit"]
        verdict = "; ".join(checked["problems"]) or "every stored event processed once, none left received or failed"
        lines.append(
            f"- {backend}: inbound events {checked['inbound_events']}; {checked['provider_events']:,} provider "
            f"events and {checked['payments_recorded']:,} payments recorded; {checked['messages_checked']:,} "
            f"messages in their true final status checked: {verdict}."
        )
    return "\n".join(lines) + "\n"
