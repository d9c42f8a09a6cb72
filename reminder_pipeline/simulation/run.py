"""One simulation: the world, the pipeline against the provider sandbox and the web app, the audit, the figures.

What it leaves in its folder, for anyone to audit: ``ledger.sqlite`` (unless ``--db`` named another
ledger), ``sandbox_messages.json`` (every message the sandbox accepted, as ``GET /sandbox/messages``
gives it), ``sandbox.jsonl`` (the sandbox's own journal of the same), ``drop/`` (the billing feed),
``payments_posted.jsonl`` (every payment the processor had acknowledged) and ``result.json``.
"""

from __future__ import annotations

import json
import secrets
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from reminder_pipeline.config_files import load_policy, load_templates
from reminder_pipeline.core.rendering.links import LinkSigner
from reminder_pipeline.ingestion.sources import DropFolder
from reminder_pipeline.ledger.schema import customers
from reminder_pipeline.ledger.store import Ledger, upgrade_ledger
from reminder_pipeline.providers.base import ProviderLimits
from reminder_pipeline.providers.sandbox import FaultSpec
from reminder_pipeline.providers.sendgrid import SendGridProvider
from reminder_pipeline.providers.settings import (
    DEMO_CREDENTIALS,
    SANDBOX_FROM_EMAIL,
    SANDBOX_FROM_NAME,
    SANDBOX_FROM_NUMBER,
    sandbox_environment,
)
from reminder_pipeline.providers.twilio import TwilioProvider
from reminder_pipeline.settings import LINK_SECRET_ENV
from reminder_pipeline.simulation.accounts import Accounts
from reminder_pipeline.simulation.audit import audit
from reminder_pipeline.simulation.audit_tables import Calendar
from reminder_pipeline.simulation.baselines import Losses, run_baselines
from reminder_pipeline.simulation.behaviour import Dice, ResponseModel
from reminder_pipeline.simulation.bookkeeping import Bookkeeping
from reminder_pipeline.simulation.clock import DAILY_RUN_TIME, SimClock
from reminder_pipeline.simulation.collection import collection_figures, trial_analogue
from reminder_pipeline.simulation.days import DayLoop, Faults
from reminder_pipeline.simulation.faults import CLIENT_TIMEOUT_SECONDS, FaultPlan, schedule_faults
from reminder_pipeline.simulation.feed import write_feed
from reminder_pipeline.simulation.pipeline import Pipeline, Services
from reminder_pipeline.simulation.sandbox_process import Journal, sandbox_process
from reminder_pipeline.simulation.webhooks import PaymentPoster, ReplySender, running_web_app
from reminder_pipeline.simulation.world import World, build_world

MARKER = ".reminders-simulation"
LIMITS = ProviderLimits(concurrency=16, per_second=500.0, timeout_seconds=CLIENT_TIMEOUT_SECONDS)


class WorkdirInUse(Exception):
    """The folder holds something other than an earlier simulation, which must not be deleted."""


class LedgerInUse(Exception):
    """``--db`` names a ledger that already holds data: a simulation only writes into a fresh one."""


@dataclass(frozen=True)
class SimulationOptions:
    days: int
    customers: int
    faults: FaultPlan
    seed: int
    workdir: Path
    db_url: str | None = None
    """None: ``workdir/ledger.sqlite``."""
    train_model: bool = False
    """Train the risk model once; else every day is scored by the rule score (much faster)."""
    model: ResponseModel = field(default_factory=ResponseModel)
    policy_path: Path | None = None
    """The reminder policy every part of the simulation follows; None: the shipped one."""

    @property
    def ledger_url(self) -> str:
        return self.db_url or f"sqlite:///{self.workdir / 'ledger.sqlite'}"


def prepare_workdir(workdir: Path) -> None:
    """A fresh folder: made, or emptied when an earlier simulation made it; any other content is refused."""
    if workdir.exists() and not workdir.is_dir():
        raise WorkdirInUse(f"{workdir} is a file; choose a folder with --workdir")
    if workdir.is_dir() and any(workdir.iterdir()):
        if not (workdir / MARKER).is_file():
            raise WorkdirInUse(
                f"{workdir} is not empty and no simulation made it; a simulation clears its folder, so it left "
                "this one alone: choose an empty or new folder with --workdir"
            )
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / MARKER).write_text("made by reminders simulate: it deletes this folder's content on its next run\n")


def open_fresh_ledger(url: str) -> Ledger:
    upgrade_ledger(url)
    ledger = Ledger(url)
    with ledger.begin() as connection:
        held = connection.execute(select(func.count()).select_from(customers)).scalar_one()
    if held:
        ledger.dispose()
        raise LedgerInUse(f"the ledger at {ledger.display_url} holds {held} customers: give --db an empty database")
    return ledger


def _providers(sandbox_url: str, web_url: str) -> tuple[SendGridProvider, TwilioProvider]:
    email = SendGridProvider(
        DEMO_CREDENTIALS.sendgrid_api_key, SANDBOX_FROM_EMAIL, SANDBOX_FROM_NAME, sandbox_url, LIMITS
    )
    sms = TwilioProvider(
        DEMO_CREDENTIALS.twilio_account_sid,
        DEMO_CREDENTIALS.twilio_auth_token,
        from_number=SANDBOX_FROM_NUMBER,
        base_url=sandbox_url,
        status_callback_base=web_url,
        limits=LIMITS,
    )
    return email, sms


def _contacts(world: World) -> dict[str, tuple[str | None, str | None]]:
    rows = world.customers.select("customer_id", "phone", "email").iter_rows()
    return {customer: (phone, email) for customer, phone, email in rows}


def run_simulation(options: SimulationOptions, say: Callable[[str], None]) -> dict[str, Any]:
    """Run one simulation and return its result (also written to ``workdir/result.json``)."""
    started, timings = time.monotonic(), {}
    workdir = options.workdir
    if options.db_url is None:
        prepare_workdir(workdir)
    ledger = open_fresh_ledger(options.ledger_url)
    if options.db_url is not None:
        prepare_workdir(workdir)
    world = build_world(options.customers, options.days, options.seed)
    schedule = schedule_faults(options.faults, world.days)
    write_feed(world, workdir / "drop")
    policy, templates = load_policy(options.policy_path), load_templates(None)
    link_secret = secrets.token_urlsafe(32)
    books, dice = Bookkeeping(), Dice(options.seed)
    clock = SimClock(datetime.combine(world.history_day, DAILY_RUN_TIME, tzinfo=UTC))
    timings["setup"] = time.monotonic() - started
    sandbox_faults = options.faults.sandbox_spec(options.seed)
    try:
        with (
            sandbox_process(sandbox_faults, workdir / "sandbox.jsonl", workdir / "sandbox.log") as sandbox,
            running_web_app(ledger.url, clock, sandbox, workdir, options.policy_path) as web,
        ):
            clock.listen(sandbox.control.set_clock)
            services = Services(
                ledger, policy, templates, LinkSigner(link_secret), DropFolder(workdir / "drop", {}),
                _providers(sandbox.url, web.url),
            )  # fmt: skip
            pipeline = Pipeline(services, clock, books, run_id=f"simulation-{options.seed}")
            pipeline.ingest(world.history_day)
            if options.train_model:
                books.training = pipeline.train(world.history_day)
            timings["initial_load"] = time.monotonic() - started - timings["setup"]
            accounts = Accounts(world, options.model, dice)
            poster = PaymentPoster(
                web, clock, dice, options.faults.webhook_loss_rate, options.faults.webhook_duplicate_rate,
                workdir / "payments_posted.jsonl",
            )  # fmt: skip
            environment = sandbox_environment(sandbox.url, public_url=web.url) | {LINK_SECRET_ENV: link_secret}
            restart_url = ledger.url if ledger.dialect == "postgresql" else None
            policy_file = str(options.policy_path) if options.policy_path else None
            replies = ReplySender(sandbox, _contacts(world))
            loop = DayLoop(
                pipeline, accounts, sandbox, Journal(sandbox.journal_path), poster, replies, clock,
                Faults(schedule, environment, restart_url, policy_file), say,
            )  # fmt: skip
            days_started = time.monotonic()
            try:
                loop.run(world.days)
                loop.finish(world.last_day)
            finally:
                poster.close()
            timings["days"] = time.monotonic() - days_started
            messages = sandbox.control.messages()
        (workdir / "sandbox_messages.json").write_text(json.dumps(messages, ensure_ascii=False))
        audit_started = time.monotonic()
        calendar = Calendar(world.first_day, world.last_day, schedule.outage, loop.last_plan_at, loop.last_delivery_at)
        audited = audit(ledger, messages, policy, calendar, workdir)
        timings["audit"] = time.monotonic() - audit_started
        figures_started = time.monotonic()
        world_rates = FaultSpec.parse(options.faults.sandbox_spec(options.seed))
        losses = Losses(world_rates.bounce_rate, world_rates.undelivered_rate + world_rates.failed_rate)
        baselines = run_baselines(world, options.model, dice, losses, policy.statements.sms, down=schedule.outage)
        collection = collection_figures(world, ledger, accounts, messages, baselines)
        timings["collection"] = time.monotonic() - figures_started
    finally:
        ledger.dispose()
    timings["total"] = time.monotonic() - started
    result = {
        "seed": options.seed,
        "days": options.days,
        "customers": world.customers.height,
        "first_day": world.first_day.isoformat(),
        "last_day": world.last_day.isoformat(),
        "faults": options.faults.describe()
        | {
            "outage": [d.isoformat() for d in schedule.outage],
            "kill_delivery_days": [d.isoformat() for d in schedule.kill_days],
            "db_restart_days": [d.isoformat() for d in schedule.restart_days],
        },
        "policy": {"path": str(options.policy_path) if options.policy_path else "default", "version": policy.version},
        "counters": audited["counters"],
        "calendar": {
            "last_plan_at": loop.last_plan_at.isoformat() if loop.last_plan_at else None,
            "last_delivery_at": loop.last_delivery_at.isoformat() if loop.last_delivery_at else None,
        },
        "audit": audited["details"],
        "bookkeeping": books.to_dict(
            {"payments": poster.counts, "replies": loop.replies.counts, "waiting_payments": len(poster.pending)}
        ),
        "collection": collection | {"trial_analogue": trial_analogue(world, options.model, dice)},
        "files": {
            "ledger": ledger.display_url,
            "sandbox_messages": str(workdir / "sandbox_messages.json"),
            "drop": str(workdir / "drop"),
            "payments_posted": str(workdir / "payments_posted.jsonl"),
        },
        "timings_seconds": {k: round(v, 1) for k, v in timings.items()},
    }
    (workdir / "result.json").write_text(json.dumps(result, indent=1, default=str))
    return result
