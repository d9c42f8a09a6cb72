"""One JSON object for a simulation over one or more seeds, and its few lines of text.

With several seeds (``--seeds K``) every seed is a whole simulation of its own world; the counters
are added up over them (a violation in any seed shows), and each collection figure is given for the
first seed with its range over all of them in ``collection.ranges``. With one seed the range is that
seed's value alone. ``collection.like_for_like`` is the first seed's comparison of the pipeline with the
fixed ladder given the same statements, with each difference's range and the seeds the pipeline won.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

ARMS = ("pipeline", "fixed_ladder", "no_reminders", "fixed_ladder_with_statements", "statements_only")
FIGURES = (
    "dso",
    "collected_within_30_days",
    "collected_usd",
    "messages",
    "statements",
    "reminders",
    "messages_per_collected_invoice",
    "message_cost_usd",
)
VIOLATIONS = (
    "duplicates",
    "sent_after_payment",
    "sent_after_dispute",
    "sent_after_opt_out",
    "sent_in_quiet_hours",
    "over_cap",
    "stale_after_catch_up",
    "lost_rows",
    "unrecorded_sends",
    "unknown_reminder_keys",
)
"""The counters that must be 0 for the promises to hold."""
COMPARED = ("dso_days", "collected_within_30_days_points", "collected_usd_percent", "fewer_reminders_percent")
"""The like-for-like differences given as ranges over seeds."""


def _range(values: list[Any]) -> list[Any] | None:
    known = [v for v in values if v is not None]
    return [min(known), max(known)] if known else None


def combine(results: list[dict[str, Any]]) -> dict[str, Any]:
    first = results[0]
    counters: Counter[str] = Counter()
    for result in results:
        counters.update(result["counters"])
    ranges = {
        arm: {figure: _range([r["collection"][arm][figure] for r in results]) for figure in FIGURES} for arm in ARMS
    }
    collection = {arm: first["collection"][arm] for arm in ARMS} | {
        "ranges": ranges,
        "seeds": [r["seed"] for r in results],
        "prices_usd": first["collection"]["prices_usd"],
        "trial_analogue": first["collection"]["trial_analogue"],
        "like_for_like": _like_for_like(results),
    }
    if len(results) == 1:
        collection["note"] = "one seed: the ranges are its own values; run with --seeds 3 for a range over seeds"
    violations = {name: counters[name] for name in VIOLATIONS}
    return {
        "days": first["days"],
        "customers": first["customers"],
        "seeds": [r["seed"] for r in results],
        "first_day": first["first_day"],
        "last_day": first["last_day"],
        "policy": first["policy"],
        "counters": dict(counters),
        "promises_kept": not any(violations.values()),
        "collection": collection,
        "faults": first["faults"],
        "audit": first["audit"],
        "calendar": first["calendar"],
        "bookkeeping": first["bookkeeping"],
        "files": first["files"],
        "timings_seconds": first["timings_seconds"],
        "runs": [
            {k: r[k] for k in ("seed", "counters", "faults", "files", "timings_seconds")}
            | {"collection": r["collection"]}
            for r in results[1:]
        ],
    }


def _like_for_like(results: list[dict[str, Any]]) -> dict[str, Any]:
    each = [r["collection"]["like_for_like"] for r in results]
    return each[0] | {
        "ranges": {name: _range([c[name] for c in each]) for name in COMPARED},
        "seeds_won": [r["seed"] for r, c in zip(results, each, strict=True) if c["pipeline_wins"]],
    }


def _signed(value: float | None) -> str:
    return "?" if value is None else f"{value:+}"


def text_lines(report: dict[str, Any]) -> list[str]:
    counters = report["counters"]
    lines = [
        f"simulated {report['days']} days ({report['first_day']} .. {report['last_day']}) for "
        f"{report['customers']} customers, seeds {', '.join(map(str, report['seeds']))}",
        f"promises {'kept' if report['promises_kept'] else 'BROKEN'}: "
        + ", ".join(f"{name} {counters.get(name, 0)}" for name in VIOLATIONS),
        f"reminders due {counters['due']}, sent {counters['sent']}",
    ]
    for arm in ARMS:
        figures = report["collection"][arm]
        statements = f", of which {figures['statements']} statements of account" if figures.get("statements") else ""
        lines.append(
            f"{arm}: DSO {figures['dso']}, collected within 30 days {figures['collected_within_30_days']}, "
            f"{figures['messages']} messages ({figures['messages_per_collected_invoice']} per collected invoice"
            f"{statements}), "
            f"cost USD {figures['message_cost_usd']}"
        )
    compared = report["collection"]["like_for_like"]
    lines.append(
        "like for like (both with the statements), the pipeline against the fixed ladder: "
        f"{_signed(compared['collected_within_30_days_points'])} points collected within 30 days, "
        f"{_signed(compared['collected_usd_percent'])} % in money, {compared['reminders']} reminders against "
        f"{compared['ladder_reminders']}; it wins in seeds {', '.join(map(str, compared['seeds_won'])) or 'none'}"
    )
    lines.append(f"policy: {report['policy']['path']} (version {report['policy']['version']})")
    lines.append(f"files: {', '.join(f'{k} {v}' for k, v in report['files'].items())}")
    return lines
