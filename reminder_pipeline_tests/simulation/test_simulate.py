"""``reminders simulate`` under heavy faults — provider errors and timeouts, lost and duplicated webhooks, two
delivery processes SIGKILLed mid-batch, a 3-day outage and its catch-up — keeps every promise, by an audit
of the ledger and the provider's log it leaves, and what it leaves is what DESIGN.md says."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime

from reminder_pipeline.config_files import load_policy
from reminder_pipeline.simulation.report import VIOLATIONS
from reminder_pipeline_tests.simulation.conftest import Run

MESSAGE_FIELDS = {"channel", "to", "from", "subject", "body", "provider_id", "reminder_key", "accepted_at"}


def _ledger(run: Run) -> sqlite3.Connection:
    return sqlite3.connect(run.workdir / "ledger.sqlite")


def test_every_promise_holds_and_nothing_is_lost(faulty_run: Run) -> None:
    counters = faulty_run.counters
    assert {name: counters[name] for name in VIOLATIONS} == dict.fromkeys(VIOLATIONS, 0), faulty_run.result["audit"]
    assert counters["lost_rows"] == 0
    assert faulty_run.result["promises_kept"] is True
    assert counters["sent"] > 200
    assert counters["due"] >= counters["sent"]


def test_the_faults_struck(faulty_run: Run) -> None:
    books = faulty_run.result["bookkeeping"]
    assert books["delivery"]["retried"] > 0, "provider errors were retried"
    assert books["reconciled"].get("sent", 0) + books["reconciled"].get("retry", 0) > 0, "timeouts were reconciled"
    assert books["payments"]["lost_then_retried"] > 0
    assert books["payments"]["again"] > 0
    assert books["faults"]["kill_delivery_killed_mid_batch"] == 2
    assert books["reconciled"].get("lease_expired", 0) > 0, "what a killed process left was reconciled"
    assert books["faults"]["db_restart_not_applicable_on_sqlite"] == 2
    assert books["days"]["backfilled"] == 3
    assert books["replies"].get("promise", 0) > 0
    assert books["replies"].get("dispute", 0) > 0


def test_the_outage_is_caught_up_with_the_highest_step_only_and_no_burst(faulty_run: Run) -> None:
    outage = faulty_run.result["faults"]["outage"]
    assert len(outage) == 3
    stale = faulty_run.result["audit"]["stale_after_catch_up"]
    catch_up = stale["catch_up_day"]
    assert catch_up is not None
    assert catch_up > outage[-1]
    assert (stale["superseded"], stale["burst"], stale["missed_days"]) == (0, 0, 0)
    with _ledger(faulty_run) as ledger:
        missed_sends = ledger.execute(
            f"SELECT count(*) FROM outbox WHERE business_date IN ({','.join('?' * len(outage))}) "
            "AND provider_id IS NOT NULL",
            outage,
        ).fetchone()[0]
        decided = ledger.execute(
            "SELECT count(DISTINCT business_date) FROM reminder_decisions "
            f"WHERE business_date IN ({','.join('?' * len(outage))})",
            outage,
        ).fetchone()[0]
        sent, customers = ledger.execute(
            "SELECT count(*), count(DISTINCT customer_id) FROM outbox "
            "WHERE business_date = ? AND provider_id IS NOT NULL",
            (catch_up,),
        ).fetchone()
        during = [
            m for m in faulty_run.messages() if datetime.fromisoformat(m["accepted_at"]).date().isoformat() in outage
        ]
    assert missed_sends == 0, "a missed day's plan, made after it ended, sends nothing"
    assert decided == 3, "every missed day was planned by the backfill"
    assert sent > 0, "the catch-up day sends"
    assert sent == customers, "one message a customer"
    assert during == [], "nothing was sent while the pipeline was down"


def test_it_leaves_the_ledger_and_the_providers_log_in_its_folder(faulty_run: Run) -> None:
    messages = faulty_run.messages()
    assert isinstance(messages, list)
    assert len(messages) == faulty_run.counters["sent"]
    assert all(set(m) >= MESSAGE_FIELDS for m in messages)
    first, last = (date.fromisoformat(faulty_run.result[k]) for k in ("first_day", "last_day"))
    for message in messages:
        accepted = datetime.fromisoformat(message["accepted_at"])
        assert accepted.utcoffset() is not None, "accepted_at carries its offset"
        assert first <= accepted.date() <= last, "accepted_at is simulated time"
    with _ledger(faulty_run) as ledger:
        keys = {row[0] for row in ledger.execute("SELECT dedupe_key FROM outbox")}
    assert {m["reminder_key"] for m in messages} <= keys
    assert (faulty_run.workdir / "drop").is_dir()
    assert (faulty_run.workdir / "payments_posted.jsonl").is_file()


def test_stdout_is_one_json_object_and_the_progress_goes_to_stderr(faulty_run: Run) -> None:
    assert json.loads(faulty_run.stdout) == faulty_run.result
    progress = [line for line in faulty_run.stderr.splitlines() if "] day " in line]
    assert len(progress) == 16
    assert "day 16/16" in progress[-1]


def test_collection_figures_for_the_three_arms(faulty_run: Run) -> None:
    collection = faulty_run.result["collection"]
    for arm in ("pipeline", "fixed_ladder", "no_reminders"):
        figures = collection[arm]
        assert figures["dso"] > 0
        assert figures["collected_usd"] > 0
        assert collection["ranges"][arm]["dso"] == [figures["dso"], figures["dso"]]
    assert collection["no_reminders"]["messages"] == 0
    assert collection["pipeline"]["messages"] == faulty_run.counters["sent"]
    assert collection["pipeline"]["collected_usd"] > collection["no_reminders"]["collected_usd"]
    assert collection["fixed_ladder"]["collected_usd"] > collection["no_reminders"]["collected_usd"]
    trial = collection["trial_analogue"]
    assert trial["paid_with_text"] > trial["paid_without_text"]


def test_the_billing_cycle_statements_go_out_once_each_and_are_audited_like_any_message(faulty_run: Run) -> None:
    """The statement schedule runs in the simulated day as in production: statements of account are planned,
    sent at most once each, never for a cycle day the outage missed, and counted apart in the figures."""
    books = faulty_run.result["bookkeeping"]["statements"]
    assert books["planned"] > 0
    assert books["rendered"] > 0
    with _ledger(faulty_run) as ledger:
        rows = list(
            ledger.execute(
                "SELECT dedupe_key, customer_id, business_date, status FROM outbox WHERE ladder = ?", ("statement",)
            )
        )
    assert len(rows) == books["outbox_added"]
    planned_on = {key: day for key, _, day, _ in rows}
    sent = [m for m in faulty_run.messages() if m["reminder_key"] in planned_on]
    assert sent, "statements reached the provider"
    missed = set(faulty_run.result["faults"]["outage"])
    assert missed, "the heavy faults have an outage"
    assert not [m for m in sent if planned_on[m["reminder_key"]] in missed], "a missed cycle day's statement went late"
    assert len({m["reminder_key"] for m in sent}) == len(sent)
    assert faulty_run.result["collection"]["pipeline"]["statements"] == len(sent)
    assert faulty_run.result["collection"]["fixed_ladder"]["statements"] == 0


def test_the_like_for_like_arms_send_the_statements_and_the_reminders_are_compared(faulty_run: Run) -> None:
    """A statement of account goes out whatever the dunning: the fixed ladder with the same statements is the arm
    the pipeline's reminders are compared with; ``reminders`` are the messages that are not statements."""
    collection = faulty_run.result["collection"]
    for arm in ("pipeline", "fixed_ladder", "no_reminders", "fixed_ladder_with_statements", "statements_only"):
        figures = collection[arm]
        assert figures["reminders"] == figures["messages"] - figures["statements"]
        assert collection["ranges"][arm]["reminders"] == [figures["reminders"]] * 2
    assert collection["fixed_ladder_with_statements"]["statements"] > 0
    assert collection["statements_only"]["reminders"] == 0
    assert collection["statements_only"]["statements"] > 0
    compared, ours = collection["like_for_like"], collection["pipeline"]
    theirs = collection["fixed_ladder_with_statements"]
    assert compared["against"] == "fixed_ladder_with_statements"
    assert (compared["reminders"], compared["ladder_reminders"]) == (ours["reminders"], theirs["reminders"])
    assert compared["collected_usd_percent"] == round(100 * (ours["collected_usd"] / theirs["collected_usd"] - 1), 2)
    assert compared["seeds_won"] == ([faulty_run.result["seeds"][0]] if compared["pipeline_wins"] else [])
    assert faulty_run.result["policy"] == {"path": "default", "version": load_policy(None).version}
