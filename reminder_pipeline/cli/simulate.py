"""``reminders simulate``: the daily pipeline over simulated days against the provider sandbox, under faults."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import click

from reminder_pipeline.cli.base import INPUT_FILE, UserMistake, emit, examples, main, writable_folder
from reminder_pipeline.cli.progress import bars, interactive


@main.command(
    epilog=examples(
        "reminders simulate --days 30 --customers 1000",
        "reminders simulate --days 60 --customers 2000 --faults heavy --seeds 3 --json",
        "reminders simulate --days 30 --customers 500 --faults provider_error_rate=0.05,outage_days=2 --model",
        "# measure a policy of your own against the fixed ladder",
        "reminders simulate --days 60 --customers 1500 --seeds 3 --policy my-policy.yaml --json",
    )
)
@click.option("--days", required=True, type=click.IntRange(1, 3650), help="Simulated days (calendar days).")
@click.option("--customers", required=True, type=click.IntRange(1, 1_000_000), help="Customers in the world.")
@click.option(
    "--faults",
    "spec",
    default="",
    help="'heavy' or name=value,...: provider_error_rate, provider_timeout_rate, webhook_loss_rate, "
    "webhook_duplicate_rate, kill_delivery, db_restart, outage_days (and the sandbox's own faults).",
)
@click.option("--seed", default=7, show_default=True, type=int, help="The world's and the faults' seed.")
@click.option(
    "--seeds",
    default=1,
    show_default=True,
    type=click.IntRange(1, 20),
    help="Simulate this many worlds (seeds SEED, SEED+1, ...) for the collection figures' ranges.",
)
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    callback=writable_folder,
    default=Path("data/simulation"),
    show_default=True,
    help="The simulation's folder: made if missing, an earlier simulation in it deleted, any other content refused.",
)
@click.option(
    "--db",
    "ledger_url",
    help="A fresh ledger database to simulate in (default: WORKDIR/ledger.sqlite; never $REMINDERS_DB_URL).",
)
@click.option(
    "--model",
    "train_model",
    is_flag=True,
    help="Train the LightGBM risk model once, as of the day before the first day (through its quality gate), and "
    "score every day with it; default: the rule score (the risk assets' fallback), which is much faster.",
)
@click.option(
    "--policy",
    "policy_path",
    type=INPUT_FILE,
    help="The reminder policy to simulate (default: the shipped one; $REMINDERS_POLICY is not read).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (progress goes to stderr).")
def simulate(
    days: int,
    customers: int,
    spec: str,
    seed: int,
    seeds: int,
    workdir: Path,
    ledger_url: str | None,
    train_model: bool,
    policy_path: Path | None,
    as_json: bool,
) -> None:
    """Run the whole loop over DAYS simulated days for CUSTOMERS customers, injecting the faults of SPEC, and
    print the promise counters (from an audit of the ledger and the provider's log left in WORKDIR) and the
    collection figures of the pipeline, of a fixed +1/+7/+14 ladder (alone and with the same statements of
    account) and of no reminders, the pipeline following the policy of --policy."""
    from reminder_pipeline.config_files import load_policy
    from reminder_pipeline.simulation.clock import FIRST_DAY
    from reminder_pipeline.simulation.faults import FaultPlan, FaultPlanError, schedule_faults
    from reminder_pipeline.simulation.report import combine, text_lines
    from reminder_pipeline.simulation.run import LedgerInUse, SimulationOptions, WorkdirInUse, run_simulation

    try:
        plan = FaultPlan.parse(spec)
        schedule_faults(plan, [FIRST_DAY + timedelta(days=i) for i in range(days)])
    except FaultPlanError as error:
        raise UserMistake(f"--faults: {error}", as_json=as_json) from error
    if policy_path is not None:
        policy_path = policy_path.resolve()
        load_policy(policy_path)  # a bad file is the user's mistake, said before anything starts
    if ledger_url and seeds > 1:
        raise UserMistake("--db holds one simulation: with --seeds more than 1, leave --db out", as_json=as_json)
    workdir = workdir.resolve()
    results = []
    with day_lines(days * seeds) as say:
        for number in range(seeds):
            options = SimulationOptions(
                days=days,
                customers=customers,
                faults=plan,
                seed=seed + number,
                workdir=workdir if number == 0 else workdir / f"seed-{seed + number}",
                db_url=ledger_url,
                train_model=train_model,
                policy_path=policy_path,
            )
            try:
                results.append(run_simulation(options, say))
            except (WorkdirInUse, LedgerInUse) as error:
                raise UserMistake(str(error), as_json=as_json) from error
    report = combine(results)
    emit(report, as_json, "\n".join(text_lines(report)))


DAY_LINE = re.compile(r"^\[[#.]+\] (day \d+/\d+ .*)$")
"""The simulation's line after each simulated day: ``[###...] day 3/30 2026-03-04 Wed: 12 sent, ...``."""


@contextmanager
def day_lines(total: int) -> Iterator[Callable[[str], None]]:
    """Where the simulation's lines go: on a terminal, a bar that advances per simulated day with the day's
    figures beside it (other lines printed above it); elsewhere every line to stderr as it comes."""
    if not interactive():
        yield lambda line: click.echo(line, err=True)
        return
    with bars()("simulating", total) as advance:

        def say(line: str) -> None:
            found = DAY_LINE.match(line)
            if found is None:
                click.echo(line, err=True)
            else:
                advance(1, found.group(1))

        yield say
