"""The faults a simulation injects, from ``--faults SPEC``, and when each one strikes.

SPEC is ``heavy`` or a comma list of ``name=value`` (names after ``heavy`` override it):

- ``provider_error_rate``, ``provider_timeout_rate``: a send answers 5xx; a send is accepted but its
  answer never comes in time (the sandbox holds it past the client's timeout);
- ``webhook_loss_rate``, ``webhook_duplicate_rate``: a provider callback or event is never sent, or sent
  twice (the sandbox); a payment webhook's first delivery is lost (the processor retries it at the next
  moment customers act) or it is delivered twice;
- ``kill_delivery=K``: K delivery runs are ``reminders deliver`` processes SIGKILLed mid-batch (from
  each of K business days on, the first email run with 8 emails due); the next run reconciles what they
  left;
- ``db_restart=K``: K times the simulation's PostgreSQL database loses every connection mid-run (its
  backends terminated; nothing else on the server is touched); on SQLite there is nothing to restart;
- ``outage_days=K``: K days without any run, then the documented catch-up: a backfill of the missed
  days, then the live day (promise 5).

Any other name is one of the sandbox's faults (``drop_rate``, ``latency_ms``, ``rate_limit``,
``bounce_rate``...), passed on as it is. The seed is ``--seed``'s, never the SPEC's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from reminder_pipeline.providers.sandbox import FaultSpec, FaultSpecError
from reminder_pipeline.simulation.clock import is_business_day

HEAVY = (
    "provider_error_rate=0.05,provider_timeout_rate=0.02,webhook_loss_rate=0.05,webhook_duplicate_rate=0.05,"
    "kill_delivery=2,db_restart=2,outage_days=3,drop_rate=0.02,latency_ms=20,jitter_ms=30,rate_limit=200/s,"
    "callback_shuffle=1"
)
WORLD = "bounce_rate=0.02,undelivered_rate=0.02"
"""Not faults but the world: 2 % of emails bounce and 2 % of SMS are undelivered (the spec may change them)."""
HOLD_MS = 1500
"""A timed-out send's answer is held this long, past the client's timeout (:data:`CLIENT_TIMEOUT_SECONDS`)."""
CLIENT_TIMEOUT_SECONDS = 1.0
SANDBOX_ALIASES = {"provider_error_rate": "error_rate", "provider_timeout_rate": "timeout_rate"}
RATES = ("provider_error_rate", "provider_timeout_rate", "webhook_loss_rate", "webhook_duplicate_rate")
COUNTS = ("kill_delivery", "db_restart", "outage_days")
MAX_COUNT = 100


class FaultPlanError(ValueError):
    """A SPEC that cannot be read, or faults that do not fit the simulated days."""


@dataclass(frozen=True)
class FaultPlan:
    provider_error_rate: float = 0.0
    provider_timeout_rate: float = 0.0
    webhook_loss_rate: float = 0.0
    webhook_duplicate_rate: float = 0.0
    kill_delivery: int = 0
    db_restart: int = 0
    outage_days: int = 0
    sandbox_extra: tuple[str, ...] = field(default=())
    """Other ``name=value`` items, for the sandbox."""

    @classmethod
    def parse(cls, spec: str) -> FaultPlan:
        values: dict[str, object] = {}
        extra: dict[str, str] = {}
        for item in (part.strip() for part in spec.split(",")):
            if not item:
                continue
            if item == "heavy":
                preset = cls.parse(HEAVY)
                values.update({name: getattr(preset, name) for name in (*RATES, *COUNTS)})
                extra.update(dict(part.split("=", 1) for part in preset.sandbox_extra))
                continue
            name, sep, raw = (part.strip() for part in item.partition("="))
            if not sep:
                raise FaultPlanError(f"fault '{item}' is not name=value (or 'heavy')")
            if name == "seed":
                raise FaultPlanError("the faults' seed is the simulation's: give --seed instead of seed=")
            if name in RATES:
                values[name] = _rate(name, raw)
            elif name in COUNTS:
                values[name] = _count(name, raw)
            else:
                extra[name] = raw
        plan = cls(**values, sandbox_extra=tuple(f"{k}={v}" for k, v in extra.items()))  # type: ignore[arg-type]
        try:
            FaultSpec.parse(plan.sandbox_spec(seed=0))
        except FaultSpecError as error:
            raise FaultPlanError(str(error)) from None
        return plan

    def sandbox_spec(self, seed: int) -> str:
        """The sandbox's spec: the world, the provider and webhook faults, the others given, the seed."""
        own = [f"{SANDBOX_ALIASES.get(n, n)}={getattr(self, n):g}" for n in RATES if getattr(self, n)]
        return ",".join([WORLD, *own, *self.sandbox_extra, f"hold_ms={HOLD_MS}", f"seed={seed}"])

    def describe(self) -> dict[str, object]:
        shown: dict[str, object] = {n: getattr(self, n) for n in (*RATES, *COUNTS)}
        shown["sandbox"] = ",".join(self.sandbox_extra)
        return shown


def _rate(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise FaultPlanError(f"fault {name}={raw}: a rate is a number from 0 to 1")
    return value


def _count(name: str, raw: str) -> int:
    if not raw.isdigit() or int(raw) > MAX_COUNT:
        raise FaultPlanError(f"fault {name}={raw}: a whole number from 0 to {MAX_COUNT}")
    return int(raw)


@dataclass(frozen=True)
class FaultSchedule:
    """When the faults strike: the outage's days, the business days from which the next email run with
    enough emails due is a process killed mid-batch, and those during whose 06:30 run the database loses
    its connections."""

    outage: tuple[date, ...]
    kill_days: tuple[date, ...]
    restart_days: tuple[date, ...]

    @property
    def recovery_day(self) -> date | None:
        """The day the pipeline is back and catches up (the day after the outage)."""
        return self.outage[-1] + timedelta(days=1) if self.outage else None

    def down(self, day: date) -> bool:
        return day in self.outage


def _spread(days: list[date], count: int) -> tuple[date, ...]:
    """``count`` of ``days`` spread evenly (all of them when there are fewer)."""
    if count <= 0 or not days:
        return ()
    if count >= len(days):
        return tuple(days)
    step = len(days) / count
    return tuple(days[int(step * i + step / 2)] for i in range(count))


def schedule_faults(plan: FaultPlan, days: list[date]) -> FaultSchedule:
    """An outage starting on the first business day from a third of the way in (at least one live business
    day before it and one after it); kills and restarts spread over the other business days but the first."""
    outage: tuple[date, ...] = ()
    if plan.outage_days:
        starts = [d for d in days[max(1, len(days) // 3) :] if is_business_day(d)]
        start = next(
            (
                d
                for d in starts
                if any(is_business_day(x) for x in days if x < d)
                and any(is_business_day(x) for x in days if x > d + timedelta(days=plan.outage_days - 1))
            ),
            None,
        )
        if start is None:
            raise FaultPlanError(
                f"outage_days={plan.outage_days} does not fit in {len(days)} days: an outage needs a business day "
                "before it and one after it for the catch-up; simulate more days"
            )
        outage = tuple(start + timedelta(days=i) for i in range(plan.outage_days))
    after_first = [d for d in days if is_business_day(d)][1:]
    live = [d for d in after_first if d not in outage and d != (outage[-1] + timedelta(days=1) if outage else None)]
    return FaultSchedule(outage, _spread(live, plan.kill_delivery), _spread(live, plan.db_restart))
