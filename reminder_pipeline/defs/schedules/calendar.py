"""Whether a business date can matter to anyone under the policy: the daily run skips days that cannot."""

from __future__ import annotations

from datetime import date

from reminder_pipeline.core.policy.config import WEEKDAYS, ContactRules


def quiet_everywhere(rules: ContactRules, day: date) -> str | None:
    """Why no customer anywhere may be contacted on ``day`` (None when someone may be).

    Quiet for everyone: a quiet day of the policy itself, or a weekday that is a business day neither in
    the policy's working week nor in any country's own. Public holidays are per country and the plan
    reads each customer's (``quiet_day``), so a holiday never skips the run.
    """
    if day in rules.quiet_days:
        return f"{day} is one of the policy's quiet days"
    weekday = WEEKDAYS[day.weekday()]
    weeks = [rules.business_days, *(c.business_days for c in rules.countries.values() if c.business_days)]
    if all(weekday not in week for week in weeks):
        return f"{day} is a {weekday}, a business day in no country of the policy"
    return None
