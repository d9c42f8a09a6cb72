"""``reminders demo``: the whole product on the embedded default, end to end, in one folder.

It generates a billing system's daily drop files, materializes the assets of every day
in a persistent local Dagster instance (one single-run backfill, as an operator would after an
outage), and prints what landed in the ledger. ``make ui`` then shows the same instance.

Each run starts afresh: it deletes its work folder first, but only a folder it made itself (one whose
``demo.env`` names its own Dagster home); an empty folder is used as it is, any other is refused.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from reminder_pipeline import settings
from reminder_pipeline.demo.files import write_drop_folder
from reminder_pipeline.demo.generator import generate_demo_data
from reminder_pipeline.progress import Track, untracked

PROJECT_ROOT = Path(__file__).resolve().parents[2]
INGESTION_ASSETS = "customers,invoices,payments"
RISK_ASSETS = "customer_features,risk_scores,customer_segments"
REMINDER_ASSETS = "reminder_plan,rendered_messages"
SCORED_DAYS = 7
MORNING_RUN = "06:00"
"""The demo plans each of its last days as the 06:00 schedule would have on that morning."""


class WorkdirInUse(Exception):
    """The work folder holds something other than a previous demo, which the demo must not delete."""


def last_weekday(day: date) -> date:
    """The demo ends on a weekday, so that its last morning has reminders to show."""
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


@dataclass(frozen=True)
class DemoPlan:
    workdir: Path
    invoices: int
    days: int
    seed: int
    end: date

    @property
    def start(self) -> date:
        return self.end - timedelta(days=self.days - 1)

    @property
    def trained_as_of(self) -> date:
        """The model learns from what was known a week ago, so the week after is scored out of sample."""
        return self.end - timedelta(days=SCORED_DAYS)

    @property
    def scored_from(self) -> date:
        return self.end - timedelta(days=SCORED_DAYS - 1)

    @property
    def dagster_home(self) -> Path:
        return self.workdir / "dagster_home"

    @property
    def drop(self) -> Path:
        return self.workdir / "drop"

    @property
    def ledger_url(self) -> str:
        return f"sqlite:///{self.workdir / 'ledger.sqlite'}"

    @property
    def link_secret(self) -> str:
        """The demo's own secret for signing links, made once per demo folder (never a value in the repo)."""
        path = self.workdir / "link.secret"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(32))
            path.chmod(0o600)
        return path.read_text().strip()

    def variables(self) -> dict[str, str]:
        """What a process needs to see this demo's instance, ledger and drop folder, and nothing else.

        The ledger URL is always the demo's own SQLite file, whatever ``REMINDERS_DB_URL`` the shell
        points at, and the billing source is the demo's drop folder: an empty
        ``REMINDERS_SOURCE_CONFIG`` means "no source.yaml" (sourcing ``demo.env`` clears it too).
        """
        return {
            "DAGSTER_HOME": str(self.dagster_home),
            settings.DATA_DIR_ENV: str(self.workdir),
            settings.DB_URL_ENV: self.ledger_url,
            settings.DROP_DIR_ENV: str(self.drop),
            settings.PARTITIONS_START_ENV: self.start.isoformat(),
            settings.SOURCE_CONFIG_ENV: "",
            settings.LINK_SECRET_ENV: self.link_secret,
        }

    def environment(self) -> dict[str, str]:
        """This process's environment with the demo's variables, and without any source.yaml."""
        environment = {**os.environ, **self.variables()}
        del environment[settings.SOURCE_CONFIG_ENV]
        return environment

    @property
    def env_file(self) -> Path:
        return self.workdir / "demo.env"

    def write_env_file(self) -> Path:
        """``demo.env`` for ``make ui`` and anyone who wants to poke at the demo by hand."""
        self.env_file.write_text("".join(f"{k}={v}\n" for k, v in self.variables().items()))
        return self.env_file

    def holds_a_previous_demo(self) -> bool:
        """Whether the work folder is one the demo made: its ``demo.env`` names the Dagster home inside it.

        ``prepare`` writes that file first, so folders of earlier demos (of this version or an older one)
        carry it too; a folder of the user's own does not.
        """
        if not self.env_file.is_file():
            return False
        lines = self.env_file.read_text(errors="replace").splitlines()
        return f"DAGSTER_HOME={self.dagster_home}" in lines


def _clear_workdir(plan: DemoPlan) -> None:
    """Delete a previous demo in the work folder, and nothing else."""
    workdir = plan.workdir
    if not workdir.exists() or (workdir.is_dir() and not any(workdir.iterdir())):
        return
    if not workdir.is_dir():
        raise WorkdirInUse(f"the demo's work folder {workdir} is a file; choose a new folder with --workdir")
    if not plan.holds_a_previous_demo():
        raise WorkdirInUse(
            f"{workdir} is not empty and is not a demo's folder (it has no demo.env of a demo made there); the demo "
            "clears its folder on every run, so it left this one alone: choose an empty or new folder with --workdir"
        )
    shutil.rmtree(workdir)


def prepare(plan: DemoPlan) -> None:
    """A fresh work folder: ``demo.env``, and the Dagster home with the project's instance settings.

    ``demo.env`` is written first: from then on the folder is the demo's, which a later run may clear.
    """
    _clear_workdir(plan)
    plan.workdir.mkdir(parents=True, exist_ok=True)
    plan.write_env_file()
    plan.dagster_home.mkdir()
    instance_settings = PROJECT_ROOT / "dagster.yaml"
    if instance_settings.exists():
        shutil.copy(instance_settings, plan.dagster_home / "dagster.yaml")


def materialize(
    plan: DemoPlan,
    assets: str,
    days: tuple[date, date] | None = None,
    config: dict[str, Any] | None = None,
    environment: dict[str, str] | None = None,
) -> None:
    """One run through the real code location and CLI, over the days ``days`` if partitioned."""
    command = [sys.executable, "-m", "dagster", "asset", "materialize", "-m", "reminder_pipeline.definitions"]
    command += ["--select", assets]
    if days is not None:
        command += ["--partition-range", f"{days[0].isoformat()}...{days[1].isoformat()}"]
    if config is not None:
        command += ["--config-json", json.dumps(config)]
    completed = subprocess.run(  # noqa: S603 - a fixed command line of our own
        command, env=plan.environment() | (environment or {}), capture_output=True, text=True, check=False
    )
    with (plan.workdir / "materialize.log").open("a") as log:
        log.write(f"$ dagster asset materialize --select {assets}\n{completed.stdout}{completed.stderr}\n")
    if completed.returncode != 0:
        tail = "\n".join((completed.stdout + completed.stderr).splitlines()[-30:])
        raise RuntimeError(f"materializing {assets} failed (see {plan.workdir / 'materialize.log'}):\n{tail}")


def run(plan: DemoPlan, say: Callable[[str], None], track: Track = untracked) -> None:
    """Everything built so far, in the order an operator would run it (``track`` shows each step's progress)."""
    prepare(plan)
    say(f"generating about {plan.invoices:,} invoices over {plan.days} days ({plan.start} .. {plan.end})")
    with track("generating billing data"):
        data = generate_demo_data(plan.invoices, seed=plan.seed, start=plan.start, end=plan.end)
        files = write_drop_folder(data, plan.drop)
    say(f"wrote {len(files)} daily drop files to {plan.drop}")
    say("step 1 of 5: ingesting customers, invoices and payments of every day in one backfill run")
    with track(f"ingesting {plan.days} days"):
        materialize(plan, INGESTION_ASSETS, (plan.start, plan.end))
    say(f"step 2 of 5: training the risk model as of {plan.trained_as_of} (it must pass the quality gate)")
    with track("training the risk model"):
        config = {"ops": {"risk_model": {"config": {"as_of": plan.trained_as_of.isoformat()}}}}
        materialize(plan, "risk_model", config=config)
    say(f"step 3 of 5: features, risk scores and segments for {plan.scored_from} .. {plan.end}")
    with track("scoring and segmenting"):
        materialize(plan, RISK_ASSETS, (plan.scored_from, plan.end))
    say(f"step 4 of 5: reminder plans and messages for {plan.scored_from} .. {plan.end}, each day as of {MORNING_RUN}")
    clock = {"config": {"run_at_local_time": MORNING_RUN}}
    with track("planning and writing reminders, day by day", SCORED_DAYS) as advance:
        day = plan.scored_from
        while day <= plan.end:
            # one run per day, in order, as the daily schedule would: a day's messages are written before the
            # next morning's plan expires whatever of them was not sent (the demo sends only its last day's)
            config = {"ops": {"reminder_plan": clock, "rendered_messages": clock}}
            materialize(plan, REMINDER_ASSETS, (day, day), config=config)
            advance(1)
            day += timedelta(days=1)
    say(f"step 5 of 5: sending {plan.end}'s messages through the provider sandbox")
    from reminder_pipeline.demo.delivery import deliver_last_day  # it reads DemoPlan from here

    with track("delivery runs through the day"):
        deliver_last_day(plan, say, materialize)
