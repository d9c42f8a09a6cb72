"""An audit of the ledger after a generated multi-day run, written apart from the code it checks.

Sixteen days go through the real assets, each morning in order: the day's billing files
(dirty rows, partial payments, disputes, and on one day a feed of opt-outs), promises to pay
recorded as a collector would, risk scores that move customers between ladders, the plan and the
messages; most messages are then marked delivered, the rest left to expire. The audit reads the
drop files, the zone tables and the ledger with its own code and SQL, not the product's queries:

- every row in a file is in the ledger or in the quarantine (rows in = accepted + quarantined);
- no step of a dunning episode is planned twice, under any ladder;
- every send window lies inside 08:00-21:00 on one local date in every zone the recipient may be
  in (the customer's zone; else every zone of their country, of their number and its region);
- at most one message per customer per local day, at most the weekly cap in any seven days;
- every message's amount is the ledger's balance of its invoices that day, written in its text;
- nothing planned for a paid or disputed invoice, an opted-out channel or a pending promise;
- no message names an invoice a collector's task (planned on an earlier day, not cancelled) covers,
  and invoices billed after a hand-off are reminded (the policy's ``handoff.later_invoices``).
"""

from __future__ import annotations

import csv
import json
import random
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import dagster as dg
import phonenumbers
import pytest
import pytz
from phonenumbers import timezone as phone_timezones
from sqlalchemy import Connection, create_engine, text

from reminder_pipeline.defs.ingestion.assets import customers, invoices, payments
from reminder_pipeline.defs.reminders.assets import reminder_plan, rendered_messages
from reminder_pipeline.defs.risk.assets import customer_features, customer_segments, risk_scores
from reminder_pipeline.demo.files import write_drop_folder
from reminder_pipeline.demo.generator import generate_demo_data
from reminder_pipeline_tests.defs.runs import MORNING, asset_resources, partition_range

START, END = date(2026, 1, 5), date(2026, 3, 20)  # END is a Friday
AUDITED = [END - timedelta(days=n) for n in range(15, -1, -1)]
"""Every day of the last sixteen, weekends too: their files are ingested and their plans are quiet."""
EARLIEST, LATEST = time(8), time(21)
WEEKLY_CAP = 2  # the shipped policy's
PROMISE_GRACE_DAYS = 3
PROMISES_ON, OPT_OUTS_ON = 4, 5
"""Indexes into ``AUDITED``: the day promises to pay are recorded, the day a feed withdraws consent."""
KEYS = {"customers": "customer_id", "invoices": "invoice_id", "payments": "payment_id"}


def _rows(connection: Connection, sql: str, **params: Any) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in connection.execute(text(sql), params)]


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _instant(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _write_opt_outs(drop: Path, day: date, chosen: list[dict[str, str]]) -> None:
    """A customers feed on ``day`` withdrawing consent: half by SMS, half by email."""
    path = drop / day.isoformat() / "customers_opt_outs.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["customer_id", "sms_opt_out", "email_opt_out"])
        for index, row in enumerate(chosen):
            writer.writerow([row["customer_id"], "true" if index % 2 else "false", "false" if index % 2 else "true"])


def _record_promises(connection: Connection, day: date, rng: random.Random) -> None:
    """Promises to pay taken on the phone: some for next week, some already lapsed (broken)."""
    owing = _rows(
        connection,
        "SELECT DISTINCT customer_id, episode_id FROM outbox WHERE status = 'sent' AND business_date < :day",
        day=day,
    )
    for index, row in enumerate(rng.sample(owing, min(24, len(owing)))):
        promised = day + timedelta(days=5) if index % 2 else day - timedelta(days=6)
        connection.execute(
            text(
                "INSERT INTO promises_to_pay (promise_id, customer_id, invoice_id, promised_date, made_on, status,"
                " source) VALUES (:id, :customer, :invoice, :promised, :made, 'pending', 'audit')"
            ),
            {
                "id": f"AUDIT-{index}",
                "customer": row["customer_id"],
                "invoice": row["episode_id"],
                "promised": promised,
                "made": day - timedelta(days=10) if index % 2 == 0 else day,
            },
        )


def _balances(connection: Connection, day: date) -> dict[str, int]:
    """Each invoice's amount less what was received by ``day``: reported settlements and recorded payments
    describe the same money, so the larger of the two counts."""
    received: dict[str, dict[bool, int]] = defaultdict(lambda: {True: 0, False: 0})
    for row in _rows(
        connection, "SELECT invoice_id, amount_minor, method FROM payments WHERE paid_date <= :day", day=day
    ):
        received[row["invoice_id"]][row["method"] == "invoice_history"] += int(row["amount_minor"])
    return {
        row["invoice_id"]: max(int(row["amount_minor"]) - max(received[row["invoice_id"]].values()), 0)
        for row in _rows(connection, "SELECT invoice_id, amount_minor FROM invoices")
    }


def _audit_amounts(connection: Connection, day: date) -> int:
    """The day's messages against the ledger's balances as they stand at the send."""
    balances = _balances(connection, day)
    messages = _rows(
        connection,
        "SELECT o.outbox_id, o.invoice_ids, m.amount_minor, m.amount_text, m.body_text FROM outbox o"
        " JOIN reminder_messages m ON m.outbox_id = o.outbox_id WHERE o.business_date = :day AND o.status = 'rendered'",
        day=day,
    )
    for message in messages:
        owed = sum(balances[i] for i in json.loads(message["invoice_ids"]))
        assert message["amount_minor"] == owed, message["outbox_id"]
        assert message["amount_text"] in message["body_text"], message["outbox_id"]
    return len(messages)


def _deliver(connection: Connection, day: date, rng: random.Random) -> None:
    """What delivery would do with the day's messages: most are handed over, some never are (they expire)."""
    for row in _rows(
        connection, "SELECT outbox_id FROM outbox WHERE business_date = :day AND status = 'rendered'", day=day
    ):
        if rng.random() < 0.85:
            connection.execute(
                text("UPDATE outbox SET status = 'sent' WHERE outbox_id = :id"), {"id": row["outbox_id"]}
            )


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("audit")
    drop = workdir / "drop"
    data = generate_demo_data(3000, seed=29, start=START, end=END)
    write_drop_folder(data, drop)
    rng = random.Random(29)
    reachable = [r for r in data.customers.to_dicts() if r.get("phone") and r.get("email")]
    _write_opt_outs(drop, AUDITED[OPT_OUTS_ON], rng.sample(reachable, 40))
    engine = create_engine(f"sqlite:///{workdir / 'ledger.sqlite'}")
    daily = [customers, invoices, payments, customer_features, risk_scores, customer_segments]
    with dg.instance_for_test() as instance:
        history = dg.materialize(
            [customers, invoices, payments],
            instance=instance,
            resources=asset_resources(workdir),
            tags=partition_range(START, AUDITED[0] - timedelta(days=1)),
        )
        assert history.success
        audited_messages = 0
        for index, day in enumerate(AUDITED):
            if index == PROMISES_ON:
                with engine.begin() as connection:
                    _record_promises(connection, day, rng)
            result = dg.materialize(
                [*daily, reminder_plan, rendered_messages],
                instance=instance,
                resources=asset_resources(workdir),
                partition_key=day.isoformat(),
                run_config={"ops": {"reminder_plan": MORNING, "rendered_messages": MORNING}},
            )
            assert result.success, day
            with engine.begin() as connection:
                audited_messages += _audit_amounts(connection, day)
                _deliver(connection, day, rng)
    engine.dispose()
    assert audited_messages > 500, "every day's amounts were checked against the ledger"
    return workdir


@pytest.fixture
def ledger(audited: Path) -> Connection:
    engine = create_engine(f"sqlite:///{audited / 'ledger.sqlite'}")
    with engine.connect() as connection:
        yield connection  # type: ignore[misc]
    engine.dispose()


def _sent(connection: Connection) -> list[dict[str, Any]]:
    return _rows(
        connection,
        "SELECT o.*, c.time_zone, c.phone, c.country, c.sms_opt_out_at, c.email_opt_out_at FROM outbox o"
        " JOIN customers c ON c.customer_id = o.customer_id WHERE o.status = 'sent'",
    )


def test_every_row_of_every_file_is_accepted_or_quarantined(audited: Path, ledger: Connection) -> None:
    known = {
        entity: {r["k"] for r in _rows(ledger, f"SELECT {key} AS k FROM {entity}")} for entity, key in KEYS.items()
    }
    quarantined = {
        ("/".join(Path(r["source"]).parts[-2:]), int(r["source_row"]))
        for r in _rows(ledger, "SELECT source, source_row FROM quarantine")
    }
    rows_in, accounted, in_quarantine = 0, 0, 0
    for path in sorted((audited / "drop").rglob("*.csv")):
        if path.parent.name > AUDITED[-1].isoformat():
            continue
        entity, where = path.stem.split("_")[0], f"{path.parent.name}/{path.name}"
        with path.open(newline="") as handle:
            for number, row in enumerate(csv.DictReader(handle), start=1):
                rows_in += 1
                quarantined_row = (where, number) in quarantined
                in_quarantine += quarantined_row
                accounted += quarantined_row or row[KEYS[entity]] in known[entity]
    assert rows_in > 3000
    assert in_quarantine > 10, "the generated files carry bad rows"
    assert accounted == rows_in


def test_no_step_of_an_episode_is_planned_twice_under_any_ladder(ledger: Connection) -> None:
    twice = _rows(
        ledger,
        "SELECT customer_id, episode_id, step, COUNT(*) AS n, COUNT(DISTINCT ladder) AS ladders FROM outbox"
        " WHERE status NOT IN ('cancelled', 'expired') GROUP BY customer_id, episode_id, step HAVING COUNT(*) > 1",
    )
    assert twice == []
    moved = _rows(
        ledger,
        "SELECT customer_id, episode_id FROM outbox WHERE status NOT IN ('cancelled', 'expired')"
        " GROUP BY customer_id, episode_id HAVING COUNT(DISTINCT ladder) > 1",
    )
    assert moved, "the run moved customers between ladders mid-episode, or it would prove nothing"


def _candidate_zones(time_zone: str | None, phone: str | None, country: str | None) -> set[str]:
    if time_zone:
        return {time_zone}
    zones = set(pytz.country_timezones.get((country or "").lower(), []))
    if phone:
        number = phonenumbers.parse(phone, None)
        zones |= {z for z in phone_timezones.time_zones_for_number(number) if z != "Etc/Unknown"}
        region = phonenumbers.region_code_for_number(number) or ""
        zones |= set(pytz.country_timezones.get(region.lower(), []))
    return zones


def test_every_send_window_is_daytime_in_every_zone_the_recipient_may_be_in(ledger: Connection) -> None:
    """Every window planned, sent or not (a message left to expire had its window too)."""
    rows = _rows(
        ledger,
        "SELECT o.outbox_id, o.status, o.send_on, o.window_start, o.window_end, c.time_zone, c.phone, c.country"
        " FROM outbox o JOIN customers c ON c.customer_id = o.customer_id WHERE o.channel != 'collector'",
    )
    assert len(rows) > 100
    assert {r["status"] for r in rows} >= {"sent", "expired"}
    unsure = 0
    for row in rows:
        zones = _candidate_zones(row["time_zone"], row["phone"], row["country"])
        assert zones, row["outbox_id"]
        unsure += len(zones) > 1
        for zone in zones:
            start = _instant(row["window_start"]).astimezone(ZoneInfo(zone))
            end = _instant(row["window_end"]).astimezone(ZoneInfo(zone))
            assert start.date() == end.date() == _day(row["send_on"]), (zone, row)
            assert start.time() >= EARLIEST, (zone, row)
            assert end.time() <= LATEST, (zone, row)
    assert unsure > 5, "messages to customers without a zone in a country or region of several zones"


def test_one_message_a_day_and_the_weekly_cap(ledger: Connection) -> None:
    per_day = _rows(
        ledger,
        "SELECT customer_id, send_on, COUNT(*) AS n FROM outbox WHERE status = 'sent' AND channel != 'collector'"
        " GROUP BY customer_id, send_on HAVING COUNT(*) > 1",
    )
    assert per_day == []
    over_cap = _rows(
        ledger,
        "SELECT a.customer_id, a.send_on, COUNT(*) AS n FROM outbox a JOIN outbox b ON b.customer_id = a.customer_id"
        " AND b.status = 'sent' AND b.channel != 'collector' AND b.send_on >= a.send_on"
        " AND b.send_on <= date(a.send_on, '+6 days')"
        " WHERE a.status = 'sent' AND a.channel != 'collector' GROUP BY a.outbox_id HAVING COUNT(*) > :cap",
        cap=WEEKLY_CAP,
    )
    assert over_cap == []


def test_nothing_for_a_paid_or_disputed_invoice_an_opted_out_channel_or_a_pending_promise(ledger: Connection) -> None:
    sent = _sent(ledger)
    disputes = _rows(ledger, "SELECT invoice_id, opened_on, resolved_on FROM disputes")
    promises = _rows(
        ledger, "SELECT customer_id, invoice_id, promised_date, made_on FROM promises_to_pay WHERE source = 'audit'"
    )
    assert promises, "the run recorded promises"
    balances_on: dict[date, dict[str, int]] = {}
    for row in sent:
        day = _day(row["business_date"])
        if day not in balances_on:
            balances_on[day] = _balances(ledger, day)
        for invoice in json.loads(row["invoice_ids"]):
            assert balances_on[day][invoice] > 0, ("paid", row["outbox_id"], invoice)
            for dispute in disputes:
                if dispute["invoice_id"] == invoice and dispute["opened_on"] is not None:
                    opened, resolved = _day(dispute["opened_on"]), dispute["resolved_on"]
                    assert not (opened <= day and (resolved is None or _day(resolved) > day)), ("disputed", row)
        opted_out = row["sms_opt_out_at"] if row["channel"] == "sms" else row["email_opt_out_at"]
        if opted_out is not None and row["channel"] != "collector":
            assert day < _instant(opted_out).date(), ("opted out", row["outbox_id"])
        for promise in promises:
            if promise["customer_id"] == row["customer_id"] and row["channel"] != "collector":
                pending_from = max(_day(promise["made_on"]), AUDITED[PROMISES_ON])
                pending_until = _day(promise["promised_date"]) + timedelta(days=PROMISE_GRACE_DAYS)
                still_owed = balances_on[day].get(promise["invoice_id"], 0) > 0
                assert not (still_owed and pending_from <= day <= pending_until), ("promise", row["outbox_id"])
    opted = _rows(
        ledger, "SELECT COUNT(*) AS n FROM customers WHERE sms_opt_out_at IS NOT NULL OR email_opt_out_at IS NOT NULL"
    )
    assert opted[0]["n"] >= 40


def test_the_run_holds_the_partial_payments_and_disputes_the_audit_is_about(ledger: Connection) -> None:
    """Without them the amount and dispute checks above would hold of any run."""
    partial = _rows(
        ledger,
        "SELECT COUNT(*) AS n FROM outbox o JOIN reminder_messages m ON m.outbox_id = o.outbox_id"
        " WHERE m.amount_minor > 0 AND m.amount_minor < (SELECT SUM(i.amount_minor) FROM invoices i"
        " JOIN json_each(o.invoice_ids) j ON j.value = i.invoice_id)",
    )
    assert partial[0]["n"] > 10, "messages for what is left of a partly paid invoice"
    disputed_mid_episode = _rows(
        ledger,
        "SELECT COUNT(*) AS n FROM disputes d WHERE d.opened_on >= :first AND EXISTS (SELECT 1 FROM outbox o"
        " JOIN json_each(o.invoice_ids) j ON j.value = d.invoice_id WHERE o.business_date < d.opened_on)",
        first=AUDITED[0],
    )
    assert disputed_mid_episode[0]["n"] > 0, "an invoice already reminded of is disputed during the run"


def test_no_message_names_an_invoice_a_collector_has(ledger: Connection) -> None:
    tasks = _rows(
        ledger,
        "SELECT customer_id, business_date, invoice_ids FROM outbox"
        " WHERE channel = 'collector' AND status IN ('task_open', 'task_done')",
    )
    held: dict[str, list[tuple[date, set[str]]]] = defaultdict(list)
    for task in tasks:
        held[task["customer_id"]].append((_day(task["business_date"]), set(json.loads(task["invoice_ids"]))))
    after_a_hand_off = 0
    for row in _sent(ledger):
        for handed_on, theirs in held.get(row["customer_id"], []):
            if handed_on < _day(row["business_date"]):
                after_a_hand_off += 1
                assert not theirs & set(json.loads(row["invoice_ids"])), ("the collector's", row["outbox_id"])
    assert after_a_hand_off > 0, "customers handed to a collector were reminded of invoices billed since"
