"""Benchmark: writing reminder messages, and checking them, at a million messages.

Synthetic messages in every shipped language plus a fallback locale, by email and SMS, in every
tone, covering one to four invoices each (some partly paid). Timed: ``render_messages`` (money and
dates for the locale, signed links, the templates filled over columns, SMS parts counted, the
compact SMS fallback) and ``message_problems`` (the blocking checks), a chunk at a time as ``render_day`` does
(``render_in_chunks``; the chunks' bodies are dropped where the ledger would store them). Results go to
benchmarks/results/render.{json,md}. Target: a million messages well under a minute on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from reminder_pipeline.config_files import load_policy, load_templates
from reminder_pipeline.core.planning.windows import local_window
from reminder_pipeline.core.rendering.checks import message_problems
from reminder_pipeline.core.rendering.chunks import render_in_chunks
from reminder_pipeline.core.rendering.links import LinkSigner
from reminder_pipeline.core.rendering.render import RenderContext

HERE = Path(__file__).resolve().parent
DAY = date(2026, 3, 10)
NOW = datetime(2026, 3, 10, 5, 0, tzinfo=UTC)
LOCALES = [("en_US", "USD"), ("en_GB", "GBP"), ("de_DE", "EUR"), ("fr_FR", "EUR"), ("es_MX", "MXN"), ("fr_CA", "CAD")]
LOCALES += [("en_IN", "INR"), ("ja_JP", "JPY")]
ZONES = {"en_US": "America/New_York", "en_GB": "Europe/London", "de_DE": "Europe/Berlin", "fr_FR": "Europe/Paris"}
ZONES |= {"es_MX": "America/Mexico_City", "fr_CA": "America/Toronto", "en_IN": "Asia/Kolkata", "ja_JP": "Asia/Tokyo"}
STEPS = [("courtesy", "courtesy", -3), ("reminder", "friendly", 1), ("firm_reminder", "firm", 14)]
STEPS += [("final_notice", "final", 30)]


def synthetic(count: int, seed: int = 7) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``count`` messages and their invoice lines."""
    rng = np.random.default_rng(seed)
    where = rng.integers(0, len(LOCALES), count)
    step = rng.integers(0, len(STEPS), count)
    lines_per = rng.integers(1, 5, count)
    messages = pl.DataFrame(
        {
            "outbox_id": np.arange(1, count + 1),
            "customer_id": [f"C{i:07d}" for i in range(count)],
            "ladder": "standard",
            "step": [STEPS[s][0] for s in step],
            "tone": [STEPS[s][1] for s in step],
            "channel": np.where(rng.random(count) < 0.7, "email", "sms"),
            "send_on": DAY,
            "currency": [LOCALES[w][1] for w in where],
            "name": pl.Series(np.where(rng.random(count) < 0.9, "Alex Example", ""), dtype=pl.String).replace("", None),
            "email": "alex@example.com",
            "phone": "+4915112345678",
            "locale": [LOCALES[w][0] for w in where],
        }
    )
    owner = np.repeat(np.arange(1, count + 1), lines_per)
    offsets = np.repeat(np.array([s[2] for s in STEPS])[step], lines_per) + rng.integers(0, 5, owner.size)
    amount = rng.integers(500, 5_000_000, owner.size)
    paid = np.where(rng.random(owner.size) < 0.1, rng.integers(0, 500, owner.size), 0)
    lines = pl.DataFrame(
        {
            "outbox_id": owner,
            "invoice_id": [f"INV-{i:08d}" for i in range(owner.size)],
            "due_date": [DAY - timedelta(days=int(o)) for o in offsets],
            "amount_minor": amount,
            "balance_minor": amount - paid,
        }
    )
    return messages, lines


def run(count: int) -> dict[str, Any]:
    messages, lines = synthetic(count)
    policy = load_policy()
    context = RenderContext(policy, load_templates(), LinkSigner("benchmark-secret-not-a-real-one"), NOW)
    window = policy.contact.send_window
    windows = pl.DataFrame(
        [{"locale": loc, "window": local_window(DAY, (zone,), window.start, window.end)} for loc, zone in ZONES.items()]
    ).select(
        "locale", pl.col("window").list.get(0).alias("window_start"), pl.col("window").list.get(1).alias("window_end")
    )
    outbox = messages.join(windows, on="locale").select(
        "outbox_id", "customer_id", "send_on", "window_start", "window_end"
    )
    contacts = messages.select(
        "customer_id",
        "email",
        "phone",
        pl.col("locale").str.slice(3, 2).alias("country"),
        pl.col("locale").replace_strict(ZONES).alias("time_zone"),
        pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("email_opt_out_at"),
        pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("sms_opt_out_at"),
        pl.lit(True).alias("sms_consent"),
    )
    balances = lines.select("invoice_id", "balance_minor")
    check_s = 0.0

    def check(chunk: pl.DataFrame) -> pl.DataFrame:
        nonlocal check_s
        started = time.perf_counter()
        problems = message_problems(chunk, outbox, balances, contacts, policy)
        check_s += time.perf_counter() - started
        return problems

    started = time.perf_counter()
    rendered = render_in_chunks(messages, lines, context, check, lambda chunk: None).messages
    render_s = time.perf_counter() - started - check_s
    failing = rendered.filter(pl.col("problems").list.len() > 0)
    sms = rendered.filter(pl.col("channel") == "sms")
    return {
        "messages": rendered.height,
        "invoice_lines": lines.height,
        "render_s": round(render_s, 2),
        "checks_s": round(check_s, 2),
        "messages_per_s": round(rendered.height / render_s),
        "by_language": dict(rendered.group_by("language").len().sort("language").iter_rows()),
        "sms_segments": {
            f"{e} {s}": n for e, s, n in sms.group_by("sms_encoding", "sms_segments").len().sort("sms_segments").rows()
        },
        "compact_sms": int(rendered["template"].str.ends_with("(compact)").sum()),
        "messages_failing_a_check": failing.height,
        "failing_checks": dict(failing.explode("problems").group_by("problems").len().rows()),
        "peak_memory_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def _markdown(result: dict[str, Any]) -> str:
    return "\n".join(
        [
            f"# Rendering benchmark: {result['messages']:,} messages, {result['invoice_lines']:,} invoice lines",
            "",
            f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}. "
            "Command: `make bench` (`python -m benchmarks.render`). Target: well under 60 s.",
            "",
            "| stage | seconds |",
            "|---|---|",
            f"| render (amounts, dates, links, templates, SMS parts) | {result['render_s']} |",
            f"| blocking checks | {result['checks_s']} |",
            "",
            f"{result['messages_per_s']:,} messages a second; peak memory {result['peak_memory_mib']} MiB. "
            f"Languages: {result['by_language']}. SMS parts: {result['sms_segments']} "
            f"({result['compact_sms']:,} in their compact form). Messages failing a check: "
            f"{result['messages_failing_a_check']:,} {result['failing_checks'] or ''}.",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()
    result = run(args.messages)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "render.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out / "render.md").write_text(_markdown(result))
    print(_markdown(result))


if __name__ == "__main__":
    main()
